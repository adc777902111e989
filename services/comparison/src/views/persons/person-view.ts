import type { Department, Outcome, SourceMode, WelfareCategory } from '@qmcb/contracts';
import { citizenIdInfo, insuranceEntries, maskCitizenId, resolveFields } from '@qmcb/domain';
import type {
  Claimant,
  CollectedData,
  CoverageState,
  CustodyState,
  DeathState,
  EnrolmentState,
  HouseholdState,
  IdentityClaim,
  InsuranceEntry,
  InsuranceKey,
  RegistrationRecord,
  ResolvedFields,
  TaxState,
  WelfareState,
} from '@qmcb/domain';
import type { OutcomeHistoryRow } from '../../outcomes/outcome.repository';
import type { CoverageHit, FactRef, LinkContext } from '../../rules';
import type { Evaluation, ExplainedReason } from './evaluation';

/** What one source holds of the person now, by kind of fact (each with its own as-of and event). */
export interface SourceFactsView {
  household?: HouseholdState;
  death?: DeathState;
  insurance?: Partial<Record<InsuranceKey, InsuranceEntry>>;
  tax?: TaxState;
  welfare?: Partial<Record<WelfareCategory, WelfareState>>;
  enrolment?: EnrolmentState;
  custody?: CustodyState;
  /** The approved registration form (source `survey` only). */
  /** What review approved (any channel), field by field, with the approval of each. */
  collected?: CollectedData;
}

export interface SourceView {
  /** The newest record received from the source (the survey: the approved submission). */
  sourceRecordId: string | null;
  mode: SourceMode | null;
  asOf: string;
  eventId: string;
  facts: SourceFactsView;
  /** What the source says of the person's identity, field by field (as `fields.*.candidates` list it). */
  identity: IdentityClaim | null;
}

export type { OutcomeHistoryRow } from '../../outcomes/outcome.repository';

export interface ComparisonView {
  /** As recorded on the log by the last `comparison.outcome-determined` (`none`: never compared). */
  outcome: Outcome | 'none';
  previousOutcome: Outcome | 'none' | null;
  /** The recorded reasons, each with the facts its rule fires on in the re-evaluation (empty if it no longer fires). */
  reasons: ExplainedReason[];
  decidedAt: string | null;
  eventId: string | null;
  /** When the explanation was computed. */
  evaluatedAt: string;
  /**
   * The recorded status per insurance type (empty for a decision of v1/v2), each with the facts its
   * re-evaluated status fires on (empty when it no longer gives the same status and reason).
   */
  coverage: (CoverageState & { facts: FactRef[] })[];
  /** The re-evaluation disagrees with the recorded decision (outcome, reason codes/rules/versions, or a status per type). */
  stale: boolean;
  /**
   * The pure comparison re-run on the stored record with the current rules: the outcome and its
   * reasons, and every rule that fired (`hits`, those set aside by the outcome precedence included).
   */
  explanation: { asOf: string; outcome: Outcome | 'none'; reasons: ExplainedReason[]; hits: ExplainedReason[]; coverage: CoverageHit[] };
}

export interface PersonView {
  personKey: string;
  citizenIdMasked: string | null;
  record: RegistrationRecord;
  sources: Partial<Record<Claimant, SourceView>>;
  fields: ResolvedFields;
  comparison: ComparisonView;
  outcomes: OutcomeHistoryRow[];
  /**
   * Identity links (docs/design/identity-linking.md): the person these records belong to (records under
   * a mistyped ID), and the records linked to this person; the person's record lists every link ever
   * proposed, decided ones included, under `record.links`.
   */
  links: LinkContext;
}

/** The links as the view answers them: each other side with its person ID (of `GET /persons/:personId`). */
export interface LinksView {
  linkedTo: (NonNullable<LinkContext['linkedTo']> & { personId: string }) | null;
  linked: (LinkContext['linked'][number] & { personId: string })[];
}

/** Adds the person ID of each other side of a link (`idOf`: PersonIds.idOf). Pure. */
export function withPersonIds(links: LinkContext, idOf: (personKey: string) => string): LinksView {
  return {
    linkedTo: links.linkedTo ? { ...links.linkedTo, personId: idOf(links.linkedTo.personKey) } : null,
    linked: links.linked.map((l) => ({ ...l, personId: idOf(l.recordKey) })),
  };
}

/** What GET /persons/:personId answers: the view with the person's ID, and the links with theirs. */
export type PersonViewAnswer = Omit<PersonView, 'links'> & { personId: string; links: LinksView };

function departmentFacts(record: RegistrationRecord, department: Department): SourceFactsView {
  const facts: SourceFactsView = {};
  if (department === 'public-security' && record.household) facts.household = record.household;
  if (record.death?.department === department) facts.death = record.death;
  const insurance = insuranceEntries(record).filter((e) => e.source === 'department' && e.department === department);
  if (insurance.length > 0) {
    facts.insurance = Object.fromEntries(insurance.map((e) => [`${e.insuranceType}:${e.scheme}:${e.region}`, e])) as Partial<Record<InsuranceKey, InsuranceEntry>>;
  }
  if (department === 'tax' && record.tax) facts.tax = record.tax;
  if (department === 'civil-affairs' && Object.keys(record.welfare).length > 0) facts.welfare = record.welfare;
  if (department === 'education' && record.enrolment) facts.enrolment = record.enrolment;
  if (department === 'justice' && record.custody) facts.custody = record.custody;
  return facts;
}

/** Every source that sent something about the person, departments in name order, then the approved collected information. */
export function sourcesView(record: RegistrationRecord): Partial<Record<Claimant, SourceView>> {
  const out: Partial<Record<Claimant, SourceView>> = {};
  for (const department of (Object.keys(record.sources) as Department[]).sort()) {
    const ref = record.sources[department];
    if (!ref) continue;
    out[department] = {
      sourceRecordId: ref.sourceRecordId,
      mode: ref.mode,
      asOf: ref.asOf,
      eventId: ref.eventId,
      facts: departmentFacts(record, department),
      identity: record.claims[department] ?? null,
    };
  }
  const survey = record.claims.survey;
  if (record.collected && survey) {
    const insurance = insuranceEntries(record).filter((e) => e.source === 'survey');
    out.survey = {
      sourceRecordId: record.review?.submissionId ?? null,
      mode: null,
      asOf: survey.asOf,
      eventId: survey.eventId,
      facts: {
        collected: record.collected,
        ...(insurance.length > 0
          ? { insurance: Object.fromEntries(insurance.map((e) => [`${e.insuranceType}:${e.scheme}:${e.region}`, e])) as Partial<Record<InsuranceKey, InsuranceEntry>> }
          : {}),
      },
      identity: survey,
    };
  }
  return out;
}

export function fieldsView(record: RegistrationRecord): ResolvedFields {
  const idInfo = record.citizenIdValid && record.citizenId !== null ? citizenIdInfo(record.citizenId) : null;
  return resolveFields(record, idInfo);
}

const reasonKey = (r: { code: string; rule: string; ruleVersion: number }): string => `${r.code}|${r.rule}|${r.ruleVersion}`;

const coverageKey = (c: Pick<CoverageState, 'insuranceType' | 'status' | 'reason' | 'regions'>): string => `${c.insuranceType}:${c.status}:${c.reason ?? ''}:${c.regions.join('+')}`;

/** Whether the recorded decision and the re-evaluation differ: outcome, the set of (code, rule, version), or a status per type. */
export function isStale(recorded: RegistrationRecord['comparison'], evaluation: Evaluation): boolean {
  if (!recorded) return evaluation.outcome !== 'none';
  if (recorded.outcome !== evaluation.outcome) return true;
  const a = recorded.reasons.map(reasonKey).sort().join(',');
  const b = evaluation.reasons.map(reasonKey).sort().join(',');
  const c = (recorded.coverage ?? []).map(coverageKey).join(',');
  const d = evaluation.coverage.map(coverageKey).join(',');
  return a !== b || c !== d;
}

export function comparisonView(record: RegistrationRecord, evaluation: Evaluation, asOf: string, evaluatedAt: string): ComparisonView {
  const recorded = record.comparison;
  const hits = new Map(evaluation.reasons.map((r) => [reasonKey(r), r]));
  const statuses = new Map(evaluation.coverage.map((c) => [coverageKey(c), c]));
  return {
    outcome: recorded?.outcome ?? 'none',
    previousOutcome: recorded?.previousOutcome ?? null,
    reasons: (recorded?.reasons ?? []).map((r) => ({ ...r, facts: hits.get(reasonKey(r))?.facts ?? [] })),
    decidedAt: recorded?.decidedAt ?? null,
    eventId: recorded?.eventId ?? null,
    coverage: (recorded?.coverage ?? []).map((c) => ({ ...c, facts: statuses.get(coverageKey(c))?.facts ?? [] })),
    evaluatedAt,
    stale: isStale(recorded, evaluation),
    explanation: { asOf, outcome: evaluation.outcome, reasons: evaluation.reasons, hits: evaluation.hits, coverage: evaluation.coverage },
  };
}

/** The explainable view of one person (GET /persons/:personKey). Pure. */
export function buildPersonView(
  record: RegistrationRecord,
  history: OutcomeHistoryRow[],
  evaluation: Evaluation,
  asOf: string,
  evaluatedAt: string,
  links: LinkContext = { linkedTo: null, linked: [] },
): PersonView {
  return {
    personKey: record.personKey,
    citizenIdMasked: record.citizenId === null ? null : maskCitizenId(record.citizenId),
    record,
    sources: sourcesView(record),
    fields: fieldsView(record),
    comparison: comparisonView(record, evaluation, asOf, evaluatedAt),
    outcomes: history,
    links,
  };
}
