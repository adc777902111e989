import type {
  BenefitStatus,
  CoverageReason,
  CoverageStatus,
  ChangeField,
  ChangeKind,
  Channel,
  Department,
  EducationLevel,
  EmploymentStatus,
  HukouStatus,
  HukouType,
  InsuranceStatus,
  InsuranceType,
  NotInsuredReason,
  Outcome,
  ReviewStage,
  Scheme,
  Sex,
  SourceMode,
  WelfareCategory,
} from '@qmcb/contracts';
import type { BenefitState, CardState, ContributionState, EmployerState, MigrationState, PendingChange, RosterAbsence } from './business-record';

/**
 * The per-person registration record (登记库, procedure §7) as folded from the log.
 * Plain JSON: no Dates, no class instances, no `undefined` (absent is `null`), so a copy that went
 * through JSON or a database compares equal to the fold.
 */

/**
 * `${insuranceType}:${scheme}:${region}`, so that both kinds of duplicate enrolment stay visible as
 * two entries: two schemes of one type, and one scheme in two counties.
 */
export type InsuranceKey = `${InsuranceType}:${Scheme}:${string}`;

export function insuranceKey(insuranceType: InsuranceType, scheme: Scheme, region: string): InsuranceKey {
  return `${insuranceType}:${scheme}:${region}`;
}

export interface InsuranceEntry {
  insuranceType: InsuranceType;
  scheme: Scheme;
  status: InsuranceStatus;
  /** 6-digit county code where insured. */
  region: string;
  employer: string | null;
  /** YYYY-MM-DD */
  since: string | null;
  receivingBenefit: boolean | null;
  benefitStatus: BenefitStatus | null;
  /** What this record says of the person's identity (null where it says nothing; always null for a survey entry). */
  name: string | null;
  sex: Sex | null;
  birthDate: string | null;
  phone: string | null;
  address: string | null;
  source: 'department' | 'survey';
  /** The department that reported it; null when it came from an approved survey form. */
  department: Department | null;
  /** As-of time of the department record, or when the form was approved. */
  asOf: string;
  eventId: string;
}

/** Public security's household registration (户籍) as last stated (snapshot replaces, change merges). */
export interface HouseholdState {
  name: string;
  sex: Sex | null;
  /** YYYY-MM-DD */
  birthDate: string | null;
  ethnicity: string | null;
  address: string | null;
  villageCode: string;
  hukouType: HukouType | null;
  status: HukouStatus;
  phone: string | null;
  /** Household number (户号) and relation to its head (与户主关系), where public security sends them. */
  householdNo: string | null;
  relationToHead: string | null;
  asOf: string;
  eventId: string;
}

/** Tax (税务): employment and contributions. */
export interface TaxState {
  employed: boolean;
  employer: string | null;
  employerCreditCode: string | null;
  /** YYYY-MM */
  lastContributionMonth: string | null;
  monthlyWage: number | null;
  name: string | null;
  asOf: string;
  eventId: string;
}

/** Civil affairs (民政), one per category: 低保, 特困, 建档立卡贫困. */
export interface WelfareState {
  active: boolean;
  since: string | null;
  name: string | null;
  asOf: string;
  eventId: string;
}

/**
 * A death registration; civil affairs and public security may both send one, the newest stands. A
 * death found at a visit enters as `collected` once review approved its claim.
 */
export interface DeathState {
  deathDate: string;
  name: string | null;
  department: Department | 'collected';
  asOf: string;
  eventId: string;
}

/** Education (教育). */
export interface EnrolmentState {
  enrolled: boolean;
  school: string | null;
  level: EducationLevel | null;
  expectedGraduationYear: number | null;
  name: string | null;
  sex: Sex | null;
  birthDate: string | null;
  asOf: string;
  eventId: string;
}

/** Justice (司法). */
export interface CustodyState {
  inCustody: boolean;
  since: string | null;
  releaseDate: string | null;
  name: string | null;
  asOf: string;
  eventId: string;
}

/** Who can state a person's identity: a department, or the approved survey form. */
export type Claimant = Department | 'survey';

export const IDENTITY_FIELDS = ['name', 'sex', 'birthDate', 'phone', 'address'] as const;
export type IdentityField = (typeof IDENTITY_FIELDS)[number];

/**
 * What one claimant says of the person's identity, field by field: per field, the value of its
 * newest record (of any kind it sends) that gives the field. The survey's address is the residence
 * address of the approved form; public security's is the household address.
 */
export interface IdentityClaim {
  name: string | null;
  sex: Sex | null;
  birthDate: string | null;
  phone: string | null;
  address: string | null;
  /** As-of time and event of the claimant's newest record held (for the survey: the approval). */
  asOf: string;
  eventId: string;
  /** As-of time of the record each field's value came from; null where the field is null. */
  fieldAsOf: Record<IdentityField, string | null>;
}

export type IdentityClaims = Partial<Record<Claimant, IdentityClaim>>;

export interface SourceRef {
  sourceRecordId: string;
  mode: SourceMode;
  asOf: string;
  eventId: string;
}

export interface ComparisonReason {
  code: string;
  rule: string;
  ruleVersion: number;
  detail: string;
}

/** A person's status in one insurance type, as decided with the outcome (`comparison.outcome-determined` v3). */
export interface CoverageState {
  insuranceType: InsuranceType;
  status: CoverageStatus;
  reason: CoverageReason | null;
  regions: string[];
  rule: string;
  ruleVersion: number;
  detail: string;
}

export interface ComparisonState {
  outcome: Outcome;
  previousOutcome: Outcome | 'none';
  reasons: ComparisonReason[];
  /** One per insurance type; empty for a decision of a version that did not determine them (v1, v2). */
  coverage: CoverageState[];
  decidedAt: string;
  eventId: string;
}

export const LINK_STATUSES = ['proposed', 'confirmed', 'rejected'] as const;
export type LinkStatus = (typeof LINK_STATUSES)[number];

/**
 * Records sent under a mistyped citizen ID (their own person key, `recordKey`) linked to this person
 * (docs/design/identity-linking.md): proposed by comparison, confirmed or rejected by survey or review.
 */
export interface IdentityLinkState {
  linkId: string;
  recordKey: string;
  /** The mistyped ID as sent; null when a confirmation arrived for a link this record never saw proposed. */
  citizenIdAsSent: string | null;
  status: LinkStatus;
  score: number | null;
  proposedAt: string | null;
  /** When confirmed or rejected, by whom, and why. */
  decidedAt: string | null;
  decidedBy: string | null;
  note: string | null;
  eventId: string;
}

export interface RecordFlags {
  /** 需调查登记人员: set by comparison, lifted when collected information is approved (§13, §19). */
  needsSurvey: boolean;
  /** 重复参保标识. */
  duplicate: boolean;
  /** The citizen ID as last sent fails GB 11643. */
  inaccurate: boolean;
}

/**
 * A survey target's status (入户调查): to visit (`open`), after a visit (`revisit` when nobody was home,
 * `refused`, `away`, `moved-out`, `not-found`, `death-claimed` while a death claim is reviewed,
 * `deceased` once approved), through review (`submitted`, `initial-approved`, `approved`, `returned`),
 * or `closed` before its visit because the person no longer needs one.
 */
export const SURVEY_STATUSES = [
  'open',
  'revisit',
  'submitted',
  'initial-approved',
  'approved',
  'returned',
  'refused',
  'away',
  'moved-out',
  'not-found',
  'death-claimed',
  'deceased',
  'closed',
] as const;
export type SurveyStatus = (typeof SURVEY_STATUSES)[number];

export interface SurveyState {
  taskId: string;
  /** null when a form arrived for a task this record never saw created. */
  villageCode: string | null;
  status: SurveyStatus;
  reasons: string[];
  submissionId: string | null;
  surveyorId: string | null;
}

export interface ReviewState {
  reviewId: string;
  submissionId: string;
  stage: ReviewStage;
  status: 'approved' | 'returned' | 'rejected' | 'closed';
  reviewerId: string;
  /** Why it was returned. */
  reason: string | null;
  /** The initial reviewer's remark. */
  comment: string | null;
  decidedAt: string;
}

export interface CollectedInsuranceData {
  insuranceType: InsuranceType;
  scheme: Scheme;
  status: InsuranceStatus;
  region: string;
}

/** Where an approved field came from: the review that approved it, the channel and kind of the change. */
export interface CollectedApproval {
  reviewId: string;
  channel: Channel;
  kind: ChangeKind;
  approvedAt: string;
}

/**
 * What review approved, field by field (procedure §19, §21): every channel's approved changes
 * accumulated, each field as last approved. A field never approved is absent from `approvals` (and
 * null); `employer` and `notInsuredReason` may be approved as null (none).
 */
export interface CollectedData {
  citizenId: string | null;
  name: string | null;
  sex: Sex | null;
  birthDate: string | null;
  ethnicity: string | null;
  hukouType: HukouType | null;
  phone: string | null;
  residenceDivision: string | null;
  residenceAddress: string | null;
  employmentStatus: EmploymentStatus | null;
  employer: { name: string; creditCode: string | null } | null;
  insurance: CollectedInsuranceData[] | null;
  notInsuredReason: NotInsuredReason | null;
  insuredElsewhere: boolean | null;
  deathDate: string | null;
  approvals: Partial<Record<ChangeField, CollectedApproval>>;
}

export interface RegistrationRecord {
  personKey: string;
  /** The citizen ID as last sent by a department; before any, the person key unless it is a surrogate. */
  citizenId: string | null;
  citizenIdValid: boolean;
  /** Number of events applied. */
  version: number;
  lastEventId: string;
  /** `occurredAt` of the last event applied. */
  updatedAt: string;

  /** Name, sex, birth date and phone are the winners of `resolveFields` (field precedence), recomputed on every new fact. */
  name: string | null;
  sex: Sex | null;
  /** YYYY-MM-DD */
  birthDate: string | null;
  ethnicity: string | null;
  /** 12-digit village/community code of the household registration (户口所在地). */
  hukouDivision: string | null;
  hukouAddress: string | null;
  hukouType: HukouType | null;
  hukouStatus: HukouStatus | null;
  /** As-of time of the household facts applied, so that an older record cannot overwrite a newer one. */
  householdAsOf: string | null;
  /** 12-digit village/community code of the usual residence (常住所在地). */
  residenceDivision: string | null;
  residenceAddress: string | null;
  phone: string | null;
  employmentStatus: EmploymentStatus | null;

  insurance: Record<InsuranceKey, InsuranceEntry>;
  notInsuredReason: string | null;
  insuredElsewhere: boolean | null;

  /** What each source says, kind by kind (the top-level identity fields are the winners of `resolveFields`). */
  household: HouseholdState | null;
  tax: TaxState | null;
  welfare: Partial<Record<WelfareCategory, WelfareState>>;
  death: DeathState | null;
  enrolment: EnrolmentState | null;
  custody: CustodyState | null;
  /** What each source says of the person's identity, field by field. */
  claims: IdentityClaims;

  /** The newest record seen from each department. */
  sources: Partial<Record<Department, SourceRef>>;
  comparison: ComparisonState | null;
  flags: RecordFlags;
  survey: SurveyState | null;
  review: ReviewState | null;
  /** What review approved (any channel), field by field; null until something is approved. */
  collected: CollectedData | null;
  /** Records under mistyped IDs linked to this person, by their person key. */
  links: Record<string, IdentityLinkState>;

  // Kept up to date by business events (procedure §20-§24; business-record.ts).
  /** 社会保障卡. */
  card: CardState | null;
  /** The latest contribution per insurance entry. */
  contributions: Partial<Record<InsuranceKey, ContributionState>>;
  /** Benefits per insurance entry. */
  benefits: Partial<Record<InsuranceKey, BenefitState>>;
  employer: EmployerState | null;
  migration: MigrationState | null;
  /** Held records a department's roster left out, by `<department>:<slot>`. */
  rosterAbsences: Record<string, RosterAbsence>;
  /** Business events waiting for review, by proposal ID. */
  pendingChanges: Record<string, PendingChange>;
}

/** The insurance entries, ordered by key. */
export function insuranceEntries(record: Pick<RegistrationRecord, 'insurance'>): InsuranceEntry[] {
  return (Object.keys(record.insurance) as InsuranceKey[]).sort().map((key) => record.insurance[key]);
}
