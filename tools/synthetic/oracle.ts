import { validateCitizenId } from '@qmcb/domain';
import type { Department, FactKind, InsuranceType } from '@qmcb/contracts';
import type { ExpectedCoverage, ExpectedOutcome, ReasonCode, SourceRecord } from './model';

/**
 * The ground truth: docs/design/comparison-model.md implemented a second time, on purpose apart from
 * services/comparison (nothing is imported from it), over the records the generator wrote. Given a
 * person's records in load order it merges them as the page says (snapshot/change per department
 * and kind, insurance per type + scheme + region, an older asOf changes nothing) and applies the
 * outcome precedence and reason order of the page.
 *
 * Where the page leaves the answer open the result is marked `deterministic: false` with the
 * question; the generator avoids producing such people, so these stay rare or absent:
 *  1. A status exemption (deceased, moved out, military, prisoner) together with a student whose
 *     student exemption would also apply: the page lists EXEMPT_STUDENT outside the ordered list
 *     and does not say whether it is added to the others.
 *  2. Born on 29 February and evaluated on 28 February of a common year: the page does not say on
 *     which day such a person turns a year older.
 *  3. No birth date that the field precedence decides (no household birth date, no valid ID, and
 *     lower sources that disagree at the same asOf) while an age rule could fire.
 *  4. The person's last record is older (asOf) than one already held: it changes nothing, but the
 *     page does not say whether it triggers a comparison at its own (older) occurredAt. Open only
 *     when evaluating then and at the newest asOf would decide differently.
 *  5. Two departments state the same insurance (type, scheme, region) with different statuses (the
 *     higher registry echoing a county's own record, stale): each department's statement is kept,
 *     but the page gives no precedence between them for the status.
 *
 * Also restated here: the status per insurance type (docs/design/coverage-statistics.md) and what a
 * link of records under a mistyped ID does (docs/design/identity-linking.md): the linked records'
 * insurance counts for the person, saying nothing of their identity, and the person is
 * INACCURATE_CITIZEN_ID until the link is confirmed; the records themselves are LINKED_TO_PERSON.
 */

export interface Policy {
  pensionMinAge: number;
  retirementAge: number;
  pensionAgeCheck: number;
}

export const DEFAULT_POLICY: Policy = { pensionMinAge: 16, retirementAge: 60, pensionAgeCheck: 60 };

export interface Expectation {
  outcome: ExpectedOutcome;
  reasons: ReasonCode[];
  deterministic: boolean;
  openQuestion?: string;
  /** YYYY-MM-DD the rules evaluate at: the asOf (UTC date) of the last record. */
  evaluatedOn: string;
  age: number | null;
  /** Per insurance type; null for someone nobody compares. */
  coverage: Record<InsuranceType, ExpectedCoverage> | null;
  inPopulation: boolean;
  birthDate: string | null;
}

/** Links the person takes part in (docs/design/identity-linking.md). */
export interface OracleLinks {
  /** Records under a mistyped ID proposed as this person's (their insurance counts here). */
  linked?: readonly SourceRecord[];
  /** These records are linked to that person. */
  linkedTo?: string;
}

type FactValues = Record<string, unknown>;

interface Entry {
  department: Department;
  kind: FactKind;
  asOf: number;
  facts: FactValues;
  /** From records linked to the person: counts as insurance, says nothing of the identity. */
  linked?: boolean;
}

const TYPES: readonly InsuranceType[] = ['pension', 'medical', 'unemployment', 'work-injury', 'maternity'];

const COVERAGE_CODES: ReadonlySet<ReasonCode> = new Set<ReasonCode>(['UNINSURED', 'PARTLY_INSURED_EMPLOYEE', 'PARTLY_INSURED_NO_PENSION', 'AGE_60_NO_PENSION']);

function entryKey(record: SourceRecord): string {
  const f = record.facts;
  if (f.kind === 'insurance') return `${record.department}|insurance|${f.insuranceType}|${f.scheme}|${f.region}`;
  return `${record.department}|${f.kind}`;
}

function present(facts: object): FactValues {
  const out: FactValues = {};
  for (const [k, v] of Object.entries(facts)) if (v !== undefined && v !== null && v !== '') out[k] = v;
  return out;
}

/** What each department said of each kind, after snapshots and changes in load order. */
export function mergeEntries(records: readonly SourceRecord[]): Entry[] {
  const entries = new Map<string, Entry>();
  for (const record of records) {
    const key = entryKey(record);
    const previous = entries.get(key);
    const asOf = Date.parse(record.asOf);
    if (previous && asOf < previous.asOf) continue;
    const facts = present(record.facts);
    if (record.mode === 'snapshot' || !previous) {
      entries.set(key, { department: record.department, kind: record.facts.kind, asOf, facts });
    } else {
      entries.set(key, { department: record.department, kind: record.facts.kind, asOf, facts: { ...previous.facts, ...facts } });
    }
  }
  return [...entries.values()];
}

/** Trimmed, full-width ASCII forms (U+FF01-FF5E) and the ideographic space folded to half-width. */
export function normaliseName(name: string): string {
  return name
    .replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, ' ')
    .trim();
}

function parts(date: string): [number, number, number] {
  return [Number(date.slice(0, 4)), Number(date.slice(5, 7)), Number(date.slice(8, 10))];
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Completed years on `on` of someone born on `birth` (both YYYY-MM-DD); the birthday itself counts. */
export function ageOn(birth: string, on: string): number {
  const [by, bm, bd] = parts(birth);
  const [y, m, d] = parts(on);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

const dateOf = (asOf: string | number): string => new Date(asOf).toISOString().slice(0, 10);

export function expectedFor(records: readonly SourceRecord[], county: string, policy: Policy = DEFAULT_POLICY, links: OracleLinks = {}): Expectation {
  if (records.length === 0) throw new RangeError('expectedFor needs at least one record');
  const last = records[records.length - 1];
  const atLast = evaluate(records, county, policy, dateOf(last.asOf), links);
  const latest = dateOf(Math.max(...records.map((r) => Date.parse(r.asOf))));
  if (latest === atLast.evaluatedOn) return atLast;
  // The last record is older than one held: it changes nothing, but is the person compared again
  // at its (older) time? Only where that makes a difference is the answer open.
  const atLatest = evaluate(records, county, policy, latest, links);
  if (atLatest.outcome === atLast.outcome && atLatest.reasons.join() === atLast.reasons.join()) return atLast;
  const question = 'the last record is older than one already held: evaluation time unspecified, and it matters';
  return { ...atLast, deterministic: false, openQuestion: atLast.openQuestion ? `${atLast.openQuestion}; ${question}` : question };
}

/** The person's entries with those of records linked to them: of one insurance, the newer; the person's own on a tie. */
function withLinked(own: Entry[], linked: readonly SourceRecord[]): Entry[] {
  if (linked.length === 0) return own;
  const out = [...own];
  for (const e of mergeEntries(linked).filter((x) => x.kind === 'insurance')) {
    const facts: FactValues = { ...e.facts };
    for (const field of ['name', 'sex', 'birthDate', 'phone', 'address']) delete facts[field];
    const same = out.findIndex((o) => o.kind === 'insurance' && ['insuranceType', 'scheme', 'region'].every((k) => o.facts[k] === e.facts[k]));
    if (same >= 0 && (out[same] as Entry).asOf >= e.asOf) continue;
    if (same >= 0) out.splice(same, 1);
    out.push({ ...e, facts, linked: true });
  }
  return out;
}

function evaluate(records: readonly SourceRecord[], county: string, policy: Policy, evaluatedOn: string, links: OracleLinks): Expectation {
  const last = records[records.length - 1];
  const openQuestions: string[] = [];

  const entries = withLinked(mergeEntries(records), links.linked ?? []);
  const own = entries.filter((e) => !e.linked);
  const of = (kind: FactKind): Entry[] => entries.filter((e) => e.kind === kind);
  const household = of('household').find((e) => e.department === 'public-security');
  const insurance = of('insurance');
  const insuredHere = insurance.some((e) => e.facts.region === county);
  if (!household && !insuredHere) return { outcome: 'none', reasons: [], deterministic: openQuestions.length === 0, ...(openQuestions.length ? { openQuestion: openQuestions.join('; ') } : {}), evaluatedOn, age: null, coverage: null, inPopulation: false, birthDate: null };

  const idCheck = validateCitizenId(last.citizenId, new Date(`${evaluatedOn}T23:59:59Z`));
  const idValid = idCheck.ok;

  // Birth date by the page's field precedence: public security, the valid ID, social insurance, education, others.
  let birthDate: string | undefined = text(household?.facts.birthDate);
  if (!birthDate && idCheck.ok) birthDate = idCheck.birthDate;
  if (!birthDate) {
    const tiers: ((e: Entry) => boolean)[] = [
      (e) => e.department === 'social-insurance',
      (e) => e.department === 'education',
      () => true,
    ];
    for (const inTier of tiers) {
      const candidates = own.filter((e) => inTier(e) && text(e.facts.birthDate));
      if (candidates.length === 0) continue;
      const latest = Math.max(...candidates.map((e) => e.asOf));
      const dates = new Set(candidates.filter((e) => e.asOf === latest).map((e) => text(e.facts.birthDate) as string));
      if (dates.size > 1) openQuestions.push('birth date undecided: equal-precedence sources disagree');
      birthDate = [...dates][0];
      break;
    }
  }
  const age = birthDate ? ageOn(birthDate, evaluatedOn) : null;
  if (birthDate && birthDate.slice(5) === '02-29' && evaluatedOn.slice(5) === '02-28' && !isLeapYear(parts(evaluatedOn)[0])) {
    openQuestions.push('born on 29 February, evaluated on 28 February of a common year');
  }

  const status = text(household?.facts.status);
  const deceased = status === 'deceased' || of('death').length > 0;
  const benefitPaid = insurance.some((e) => e.facts.receivingBenefit === true || e.facts.benefitStatus === 'receiving');
  const inCustody = of('custody').some((e) => e.facts.inCustody === true);
  const student = of('enrolment').some((e) => e.facts.enrolled === true);

  const active = insurance.filter((e) => e.facts.status === 'active');
  const statuses = new Map<string, Set<unknown>>();
  for (const e of insurance) {
    const key = `${String(e.facts.insuranceType)}:${String(e.facts.scheme)}:${String(e.facts.region)}`;
    statuses.set(key, (statuses.get(key) ?? new Set<unknown>()).add(e.facts.status));
  }
  if ([...statuses.values()].some((s) => s.size > 1)) openQuestions.push('two departments state one insurance (type, scheme, region) with different statuses');
  const activeOf = (type: string): Entry[] => active.filter((e) => e.facts.insuranceType === type);
  const hasPension = activeOf('pension').length > 0;
  const hasMedical = activeOf('medical').length > 0;

  // needs-survey codes, in the page's order
  const survey: ReasonCode[] = [];
  if (!idValid || (links.linked ?? []).length > 0) survey.push('INACCURATE_CITIZEN_ID');
  const names = new Set(own.map((e) => text(e.facts.name)).filter((n): n is string => n !== undefined).map(normaliseName));
  if (names.size > 1) survey.push('INACCURATE_NAME');
  const identity = (field: 'sex' | 'birthDate'): Set<string> => {
    const values = new Set(own.filter((e) => e.kind === 'household' || e.kind === 'insurance' || e.kind === 'enrolment').map((e) => text(e.facts[field])).filter((v): v is string => v !== undefined));
    if (idCheck.ok) values.add(field === 'sex' ? idCheck.sex : idCheck.birthDate);
    return values;
  };
  if (identity('sex').size > 1) survey.push('INACCURATE_SEX');
  if (identity('birthDate').size > 1) survey.push('INACCURATE_BIRTH_DATE');
  const sources = own.filter((e) => e.kind === 'household' || e.kind === 'insurance');
  if (!sources.some((e) => text(e.facts.phone))) survey.push('MISSING_PHONE');
  if (!sources.some((e) => text(e.facts.address))) survey.push('MISSING_ADDRESS');
  if (!hasPension && !hasMedical) survey.push('UNINSURED');
  const employed = of('tax').some((e) => e.facts.employed === true);
  if (employed && (activeOf('unemployment').length === 0 || activeOf('work-injury').length === 0)) survey.push('PARTLY_INSURED_EMPLOYEE');
  const ageRule = (fires: (a: number) => boolean): boolean => {
    if (age === null) {
      openQuestions.push('no birth date: age rules undecided');
      return false;
    }
    return fires(age);
  };
  if (hasMedical && !hasPension && !student && ageRule((a) => a >= policy.pensionMinAge && a < policy.retirementAge)) survey.push('PARTLY_INSURED_NO_PENSION');
  if (!hasPension && ageRule((a) => a >= policy.pensionAgeCheck)) survey.push('AGE_60_NO_PENSION');

  const studentExemptionApplies = student && survey.length > 0 && survey.every((c) => COVERAGE_CODES.has(c));

  const inPopulation = household !== undefined && status !== 'moved-out' && status !== 'deceased' && of('death').length === 0;
  const coverage = coverageOf({
    linkedTo: links.linkedTo !== undefined,
    deceased,
    status,
    inCustody,
    student,
    age,
    employed: of('tax').some((e) => e.facts.employed === true),
    home: household ? String(household.facts.villageCode).slice(0, 6) : (insurance.filter((e) => e.department === 'social-insurance').map((e) => `${String(e.facts.insuranceType)}:${String(e.facts.scheme)}:${String(e.facts.region)}`).sort()[0]?.split(':')[2] ?? null),
    insurance,
    policy,
  });
  const result = (outcome: ExpectedOutcome, reasons: ReasonCode[]): Expectation => ({
    outcome,
    reasons,
    deterministic: openQuestions.length === 0,
    ...(openQuestions.length ? { openQuestion: openQuestions.join('; ') } : {}),
    evaluatedOn,
    age,
    coverage,
    inPopulation,
    birthDate: birthDate ?? null,
  });

  // 1. benefits after death
  if (deceased && benefitPaid) return result('needs-survey', ['BENEFIT_AFTER_DEATH']);

  // 2. exemptions
  const exempt: ReasonCode[] = [];
  if (links.linkedTo !== undefined) exempt.push('LINKED_TO_PERSON');
  if (deceased) exempt.push('EXEMPT_DECEASED');
  if (status === 'moved-out') exempt.push('EXEMPT_MOVED_OUT');
  if (status === 'military') exempt.push('EXEMPT_MILITARY');
  if (status === 'prison' || inCustody) exempt.push('EXEMPT_PRISONER');

  // 3. duplicates
  const duplicates: ReasonCode[] = [];
  if (new Set(activeOf('pension').map((e) => e.facts.scheme)).size > 1) duplicates.push('DUPLICATE_PENSION');
  if (new Set(activeOf('medical').map((e) => e.facts.scheme)).size > 1) duplicates.push('DUPLICATE_MEDICAL');
  const regions = new Map<string, Set<unknown>>();
  for (const e of active) {
    const key = `${String(e.facts.insuranceType)}:${String(e.facts.scheme)}`;
    const set = regions.get(key) ?? new Set<unknown>();
    set.add(e.facts.region);
    regions.set(key, set);
  }
  if ([...regions.values()].some((s) => s.size > 1)) duplicates.push('DUPLICATE_REGION');

  if (exempt.length > 0) {
    if (studentExemptionApplies && duplicates.length === 0) openQuestions.push('student exemption beside a status exemption: is EXEMPT_STUDENT listed too?');
    return result('exempt', exempt);
  }
  if (duplicates.length === 0 && studentExemptionApplies) return result('exempt', ['EXEMPT_STUDENT']);
  if (duplicates.length > 0) return result('duplicate', [...duplicates, ...survey]);
  if (survey.length > 0) return result('needs-survey', survey);
  return result('registered', ['COMPLETE']);
}

interface CoverageFacts {
  linkedTo: boolean;
  deceased: boolean;
  status: string | undefined;
  inCustody: boolean;
  student: boolean;
  age: number | null;
  employed: boolean;
  /** The county a person is insured "here" in. */
  home: string | null;
  insurance: Entry[];
  policy: Policy;
}

/**
 * The status per insurance type, as docs/design/coverage-statistics.md states it: exempt in every type
 * (linked records, deceased, moved out, military, prisoner); pension exempt for a student; insured
 * here or elsewhere by the counties of the active entries; pension not due under pensionMinAge, the
 * employment types not due without employment per tax; otherwise not insured, lapsed when any entry
 * of the type is held.
 */
function coverageOf(f: CoverageFacts): Record<InsuranceType, ExpectedCoverage> {
  const out = {} as Record<InsuranceType, ExpectedCoverage>;
  const everyType =
    f.linkedTo ? 'LINKED' : f.deceased ? 'DECEASED' : f.status === 'moved-out' ? 'MOVED_OUT' : f.status === 'military' ? 'MILITARY' : f.status === 'prison' || f.inCustody ? 'PRISONER' : null;
  for (const type of TYPES) {
    if (everyType) {
      out[type] = { status: 'exempt', reason: everyType, regions: [] };
      continue;
    }
    if (type === 'pension' && f.student) {
      out[type] = { status: 'exempt', reason: 'STUDENT', regions: [] };
      continue;
    }
    const held = f.insurance.filter((e) => e.facts.insuranceType === type);
    const regions = [...new Set(held.filter((e) => e.facts.status === 'active').map((e) => String(e.facts.region)))].sort();
    if (regions.length > 0) {
      out[type] = { status: f.home !== null && regions.includes(f.home) ? 'insured-here' : 'insured-elsewhere', reason: null, regions };
    } else if (type === 'pension' && f.age !== null && f.age < f.policy.pensionMinAge) {
      out[type] = { status: 'not-due', reason: 'UNDER_AGE', regions: [] };
    } else if (type !== 'pension' && type !== 'medical' && !f.employed) {
      out[type] = { status: 'not-due', reason: 'NOT_EMPLOYED', regions: [] };
    } else {
      out[type] = { status: 'not-insured', reason: held.length > 0 ? 'LAPSED' : 'NEVER_ENROLLED', regions: [] };
    }
  }
  return out;
}
