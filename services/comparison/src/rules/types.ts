import type { CoverageReason, CoverageStatus, InsuranceType, Outcome, OutcomeReason } from '@qmcb/contracts';
import type { CitizenIdInfo, Claimant, InsuranceEntry, RegistrationRecord, ResolvedFields } from '@qmcb/domain';
import type { RegionPolicy } from '@qmcb/domain';

/** Reason codes (docs/design/comparison-model.md), in the order reasons are listed within an outcome. */
export const REASON_CODES = [
  'BENEFIT_AFTER_DEATH',
  'LINKED_TO_PERSON',
  'EXEMPT_DECEASED',
  'EXEMPT_MOVED_OUT',
  'EXEMPT_MILITARY',
  'EXEMPT_PRISONER',
  'EXEMPT_STUDENT',
  'DUPLICATE_PENSION',
  'DUPLICATE_MEDICAL',
  'DUPLICATE_REGION',
  'INACCURATE_CITIZEN_ID',
  'INACCURATE_NAME',
  'INACCURATE_SEX',
  'INACCURATE_BIRTH_DATE',
  'MISSING_PHONE',
  'MISSING_ADDRESS',
  'UNINSURED',
  'PARTLY_INSURED_EMPLOYEE',
  'PARTLY_INSURED_NO_PENSION',
  'AGE_60_NO_PENSION',
  'COMPLETE',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export const EXEMPTION_CODES = ['LINKED_TO_PERSON', 'EXEMPT_DECEASED', 'EXEMPT_MOVED_OUT', 'EXEMPT_MILITARY', 'EXEMPT_PRISONER', 'EXEMPT_STUDENT'] as const;
export const DUPLICATE_CODES = ['DUPLICATE_PENSION', 'DUPLICATE_MEDICAL', 'DUPLICATE_REGION'] as const;
/** The codes that make a person "needs survey" (step 4 of the outcome precedence), in order. */
export const SURVEY_CODES = [
  'INACCURATE_CITIZEN_ID',
  'INACCURATE_NAME',
  'INACCURATE_SEX',
  'INACCURATE_BIRTH_DATE',
  'MISSING_PHONE',
  'MISSING_ADDRESS',
  'UNINSURED',
  'PARTLY_INSURED_EMPLOYEE',
  'PARTLY_INSURED_NO_PENSION',
  'AGE_60_NO_PENSION',
] as const;
/** Insurance-coverage reasons: the only ones a student's exemption sets aside. */
export const COVERAGE_CODES: readonly ReasonCode[] = ['UNINSURED', 'PARTLY_INSURED_EMPLOYEE', 'PARTLY_INSURED_NO_PENSION', 'AGE_60_NO_PENSION'];

export const RULE_NAMES = [
  'benefit-after-death',
  'duplicate-enrollment',
  'inaccurate-information',
  'id-linking',
  'missing-information',
  'uninsured',
  'partly-insured',
  'age-60-no-pension',
  'exemption',
  'registered-directly',
] as const;
export type RuleName = (typeof RULE_NAMES)[number];

/**
 * Who said a fact: a claimant (a department or the approved survey form), the citizen ID itself,
 * the region's policy, or the record (a value derived from it, such as the age at the decision).
 */
export type FactSource = Claimant | 'citizen-id' | 'policy' | 'record';

/** One fact a rule fired on. */
export interface FactRef {
  source: FactSource;
  /** e.g. `name`, `employed`, `pension:employee:440981`, `unemployment`, `age`. */
  field: string;
  value: string | number | boolean | null;
  /** As-of time of the record that says it; null for derived values, the ID and policy. */
  asOf: string | null;
}

/** A rule that fired, with the facts it fired on. `detail` is the facts as short readable text. */
export interface RuleHit extends OutcomeReason {
  code: ReasonCode;
  rule: RuleName;
  facts: FactRef[];
}

export interface RuleContext {
  record: RegistrationRecord;
  policy: RegionPolicy;
  /** The time of the decision (the triggering event's `occurredAt`). */
  asOf: string;
  /** Its date in China (UTC+8), YYYY-MM-DD. */
  asOfDate: string;
  /** What the citizen ID encodes, when the ID is valid. */
  idInfo: CitizenIdInfo | null;
  /** The winner of each field and what every source says. */
  fields: ResolvedFields;
  /** Completed years at `asOfDate` from the winning birth date; null when unknown. */
  age: number | null;
  /** Facts that say the person is dead (household status or a death record); empty when alive. */
  deathFacts: FactRef[];
  /** Enrolled per education and not past the expected graduation at `asOfDate`. */
  student: boolean;
  /** In custody per justice and not past the release date at `asOfDate`. */
  inCustody: boolean;
  /** Employed at `asOfDate`: tax, or a newer employer opening or closing; with the facts that say so. */
  employment: { employed: boolean; per: 'tax' | 'employer record'; facts: FactRef[] };
  /** Active entries of a type that count under the region's policy (pension and medical: only its schemes). */
  active(type: InsuranceEntry['insuranceType']): InsuranceEntry[];
  /** Every insurance entry, ordered by key. */
  entries: InsuranceEntry[];
  /** Hits of the rules evaluated before this one, in evaluation order. */
  earlier: readonly RuleHit[];
  /** Records under mistyped IDs linked to this person, or the person this record is linked to. */
  links: LinkContext;
}

export type ActiveLinkStatus = 'proposed' | 'confirmed';

/** A link between records under a mistyped citizen ID and a person (docs/design/identity-linking.md). */
export interface LinkRef {
  linkId: string;
  status: ActiveLinkStatus;
}

/**
 * The links a comparison takes into account. `record` is then the person's record with the
 * insurance entries of the records linked to them merged in (`mergeLinked`).
 */
export interface LinkContext {
  /** This record's facts belong to another person: that person's key and the link. */
  linkedTo: (LinkRef & { personKey: string }) | null;
  /** Records under mistyped IDs linked to this person: their key, the ID as sent, the link. */
  linked: (LinkRef & { recordKey: string; citizenIdAsSent: string | null })[];
}

export const NO_LINKS: LinkContext = Object.freeze({ linkedTo: null, linked: [] }) as LinkContext;

/** A person's status in one insurance type, with the facts it was decided on (the log carries it without them). */
export interface CoverageHit {
  insuranceType: InsuranceType;
  status: CoverageStatus;
  reason: CoverageReason | null;
  regions: string[];
  rule: 'coverage-status';
  ruleVersion: number;
  detail: string;
  facts: FactRef[];
}

/** A named, versioned rule. Pure: the same context gives the same hits. */
export interface Rule {
  name: RuleName;
  version: number;
  evaluate(ctx: RuleContext): RuleHit[];
}

export interface Decision {
  outcome: Outcome;
  /** The reasons of the outcome, as carried by `comparison.outcome-determined` (no facts). */
  reasons: OutcomeReason[];
  /** Every hit of every rule, in evaluation order, with its facts (for the explainable view). */
  hits: RuleHit[];
  /** The status per insurance type, in INSURANCE_TYPES order (rule `coverage-status`). */
  coverage: CoverageHit[];
}
