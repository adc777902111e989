import type {
  Department,
  EmploymentStatus,
  HukouStatus,
  HukouType,
  InsuranceStatus,
  InsuranceType,
  Outcome,
  ReviewStage,
  Scheme,
  Sex,
  SourceMode,
} from '@qmcb/contracts';

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
  source: 'department' | 'survey';
  /** The department that reported it; null when it came from an approved survey form. */
  department: Department | null;
  /** As-of time of the department record, or when the form was approved. */
  asOf: string;
  eventId: string;
}

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

export interface ComparisonState {
  outcome: Outcome;
  previousOutcome: Outcome | 'none';
  reasons: ComparisonReason[];
  decidedAt: string;
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

export const SURVEY_STATUSES = ['open', 'submitted', 'initial-approved', 'approved', 'returned'] as const;
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
  status: 'approved' | 'returned';
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

/** The registration form (全民参保登记表) as approved. */
export interface CollectedFormData {
  name: string;
  phone: string;
  employmentStatus: EmploymentStatus;
  residenceAddress: string;
  residenceDivision: string;
  insurance: CollectedInsuranceData[];
  notInsuredReason: string | null;
  insuredElsewhere: boolean;
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

  /** The newest record seen from each department. */
  sources: Partial<Record<Department, SourceRef>>;
  comparison: ComparisonState | null;
  flags: RecordFlags;
  survey: SurveyState | null;
  review: ReviewState | null;
  /** The last approved form. */
  collected: CollectedFormData | null;
}

/** The insurance entries, ordered by key. */
export function insuranceEntries(record: Pick<RegistrationRecord, 'insurance'>): InsuranceEntry[] {
  return (Object.keys(record.insurance) as InsuranceKey[]).sort().map((key) => record.insurance[key]);
}
