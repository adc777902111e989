import { citizenIdInfo, insuranceEntries, resolveFields } from '@qmcb/domain';
import type { InsuranceEntry, RegistrationRecord } from '@qmcb/domain';
import type { RegionPolicy } from '@qmcb/domain';
import { NO_LINKS } from './types';
import type { FactRef, LinkContext, RuleContext, RuleHit } from './types';

const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;

/** The calendar date in China (UTC+8) of an ISO time. */
export function chinaDate(asOf: string): string {
  const t = Date.parse(asOf);
  if (Number.isNaN(t)) throw new RangeError(`asOf must be an ISO 8601 time, got ${JSON.stringify(asOf)}`);
  return new Date(t + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** Completed years from a YYYY-MM-DD birth date to a YYYY-MM-DD date (a 29 February birthday comes on 1 March). */
export function ageOn(birthDate: string, date: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(birthDate)) return null;
  const years = Number(date.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return date.slice(5) >= birthDate.slice(5) ? years : years - 1;
}

export function entryKey(e: InsuranceEntry): string {
  return `${e.insuranceType}:${e.scheme}:${e.region}`;
}

/** An insurance entry as a fact: who reported it, which entry, its status. */
export function entryFact(e: InsuranceEntry, value: FactRef['value'] = e.status, suffix = ''): FactRef {
  return { source: e.department ?? 'survey', field: `${entryKey(e)}${suffix}`, value, asOf: e.asOf };
}

/** The end of the school year a student expects to graduate in (1 July in China): enrolment counts until the day before. */
export function graduationDate(expectedGraduationYear: number): string {
  return `${expectedGraduationYear}-07-01`;
}

/** Enrolled per education, and not past the expected graduation (school end). */
export function isStudent(record: Pick<RegistrationRecord, 'enrolment'>, asOfDate: string): boolean {
  const e = record.enrolment;
  return e?.enrolled === true && (e.expectedGraduationYear === null || asOfDate < graduationDate(e.expectedGraduationYear));
}

/** In custody per justice, and not past the stated release date. */
export function isInCustody(record: Pick<RegistrationRecord, 'custody'>, asOfDate: string): boolean {
  const c = record.custody;
  return c?.inCustody === true && (c.releaseDate === null || asOfDate < c.releaseDate);
}

/**
 * Employed, and the facts that say so: the newer of tax's statement and an employer opening or
 * closing (tax, market regulation) in effect by `asOfDate`. An employer that closed ends the
 * employment tax reported with it (same credit code, or same name where tax gives no code).
 */
export function employmentOf(record: Pick<RegistrationRecord, 'tax' | 'employer'>, asOfDate: string): RuleContext['employment'] {
  const { tax, employer } = record;
  const inEffect = employer !== null && employer.effectiveDate <= asOfDate ? employer : null;
  const newer = inEffect && (!tax || Date.parse(inEffect.asOf) >= Date.parse(tax.asOf)) ? inEffect : null;
  const taxFact = (value: boolean): FactRef[] => (tax ? [{ source: 'tax', field: 'employed', value, asOf: tax.asOf }] : []);
  if (newer?.status === 'open') {
    return { employed: true, per: 'employer record', facts: [{ source: newer.department, field: `employer ${newer.creditCode}`, value: `open since ${newer.effectiveDate}`, asOf: newer.asOf }] };
  }
  if (newer?.status === 'closed' && tax?.employed === true) {
    const same = tax.employerCreditCode !== null ? tax.employerCreditCode === newer.creditCode : tax.employer !== null && tax.employer === newer.name;
    if (same) return { employed: false, per: 'employer record', facts: [...taxFact(true), { source: newer.department, field: `employer ${newer.creditCode}`, value: `closed on ${newer.effectiveDate}`, asOf: newer.asOf }] };
  }
  return { employed: tax?.employed === true, per: 'tax', facts: taxFact(tax?.employed === true) };
}

function deathFacts(record: RegistrationRecord): FactRef[] {
  const facts: FactRef[] = [];
  if (record.household?.status === 'deceased') {
    facts.push({ source: 'public-security', field: 'hukouStatus', value: 'deceased', asOf: record.household.asOf });
  }
  if (record.death) {
    facts.push({ source: record.death.department === 'collected' ? 'survey' : record.death.department, field: 'deathDate', value: record.death.deathDate, asOf: record.death.asOf });
  }
  return facts;
}

/** Everything a rule may look at, computed once per decision. */
export function buildContext(record: RegistrationRecord, policy: RegionPolicy, asOf: string, links: LinkContext = NO_LINKS): Omit<RuleContext, 'earlier'> {
  const asOfDate = chinaDate(asOf);
  const idInfo = record.citizenIdValid && record.citizenId !== null ? citizenIdInfo(record.citizenId) : null;
  const fields = resolveFields(record, idInfo);
  const birthDate = fields.birthDate.value;
  const entries = insuranceEntries(record);
  const counts = (e: InsuranceEntry): boolean =>
    e.insuranceType === 'pension' ? policy.pensionSchemes.includes(e.scheme) : e.insuranceType === 'medical' ? policy.medicalSchemes.includes(e.scheme) : true;
  const active = new Map<InsuranceEntry['insuranceType'], InsuranceEntry[]>();
  for (const e of entries) {
    if (e.status !== 'active' || !counts(e)) continue;
    const list = active.get(e.insuranceType);
    if (list) list.push(e);
    else active.set(e.insuranceType, [e]);
  }
  return {
    record,
    policy,
    asOf,
    asOfDate,
    idInfo,
    fields,
    age: birthDate === null ? null : ageOn(birthDate, asOfDate),
    deathFacts: deathFacts(record),
    student: isStudent(record, asOfDate),
    inCustody: isInCustody(record, asOfDate),
    employment: employmentOf(record, asOfDate),
    entries,
    active: (type) => active.get(type) ?? [],
    links,
  };
}

const DETAIL_MAX = 512;

function show(value: FactRef['value']): string {
  return value === null ? 'none' : String(value);
}

/** A summary and its facts as short readable text (at most 512 characters): the `detail` on the log. */
export function detailOf(summary: string, facts: readonly FactRef[]): string {
  const text = facts.length === 0 ? summary : `${summary}: ${facts.map((f) => `${f.source} ${f.field}=${show(f.value)}`).join('; ')}`;
  return text.length <= DETAIL_MAX ? text : `${text.slice(0, DETAIL_MAX - 1)}…`;
}

/** A hit with its facts written out as short readable text in `detail` (at most 512 characters). */
export function hit(rule: { name: RuleHit['rule']; version: number }, code: RuleHit['code'], summary: string, facts: FactRef[]): RuleHit {
  return { code, rule: rule.name, ruleVersion: rule.version, detail: detailOf(summary, facts), facts };
}

/** "none active" for a type: the fact that no entry of it counts. */
export function noneActive(type: string): FactRef {
  return { source: 'social-insurance', field: type, value: 'none active', asOf: null };
}

export function ageFacts(ctx: Pick<RuleContext, 'fields' | 'age' | 'asOfDate'>): FactRef[] {
  const birth = ctx.fields.birthDate;
  const from = birth.candidates[0];
  return [
    ...(from ? [{ source: from.source, field: 'birthDate', value: from.value, asOf: from.asOf }] : []),
    { source: 'record', field: `age on ${ctx.asOfDate}`, value: ctx.age, asOf: null },
  ];
}
