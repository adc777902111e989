/** Shared vocabulary of the registration record (DOMAIN.md). Values are stable wire strings. */

export const DEPARTMENTS = [
  'public-security', // 公安: household registration
  'social-insurance', // 社保业务系统: per insurance type and scheme
  'tax', // 税务
  'civil-affairs', // 民政
  'education', // 教育
  'justice', // 司法
  'higher-registry', // 上级登记库: cross-region exchange
  'social-security-card', // 社会保障卡持卡人员基础信息库: the card system (procedure §20, seed 004)
  'market-regulation', // 市场监管 (工商): employers opened and closed (seed 001)
] as const;
export type Department = (typeof DEPARTMENTS)[number];

export const INSURANCE_TYPES = ['pension', 'medical', 'unemployment', 'work-injury', 'maternity'] as const;
export type InsuranceType = (typeof INSURANCE_TYPES)[number];

/** Pension and medical each have an employee and a resident scheme; the other three have one. */
export const SCHEMES = ['employee', 'resident', 'single'] as const;
export type Scheme = (typeof SCHEMES)[number];

export const INSURANCE_STATUSES = ['active', 'suspended', 'ended'] as const;
export type InsuranceStatus = (typeof INSURANCE_STATUSES)[number];

export const HUKOU_STATUSES = ['normal', 'moved-out', 'deceased', 'military', 'prison'] as const;
export type HukouStatus = (typeof HUKOU_STATUSES)[number];

export const HUKOU_TYPES = ['agricultural', 'non-agricultural', 'resident'] as const;
export type HukouType = (typeof HUKOU_TYPES)[number];

export const SEXES = ['male', 'female'] as const;
export type Sex = (typeof SEXES)[number];

export const EMPLOYMENT_STATUSES = [
  'employed',
  'self-employed',
  'flexible',
  'farmer',
  'unemployed',
  'student',
  'retired',
  'other',
] as const;
export type EmploymentStatus = (typeof EMPLOYMENT_STATUSES)[number];

/** Outcomes of comparison per person (procedure §7, §10). */
export const OUTCOMES = ['registered', 'duplicate', 'needs-survey', 'exempt'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Benefit status reported by a social-insurance business system (待遇状态). */
export const BENEFIT_STATUSES = ['none', 'receiving', 'suspended', 'stopped'] as const;
export type BenefitStatus = (typeof BENEFIT_STATUSES)[number];

/** Civil-affairs (民政) categories: 低保, 特困, 建档立卡贫困, and death registrations. */
export const WELFARE_CATEGORIES = ['minimum-living-allowance', 'extreme-poverty', 'registered-poor'] as const;
export type WelfareCategory = (typeof WELFARE_CATEGORIES)[number];

export const EDUCATION_LEVELS = ['primary', 'junior-secondary', 'senior-secondary', 'vocational', 'higher'] as const;
export type EducationLevel = (typeof EDUCATION_LEVELS)[number];

/** Kinds of facts a department record carries, and which departments may state each. */
export const FACT_KINDS = ['household', 'insurance', 'tax', 'welfare', 'death', 'enrolment', 'custody'] as const;
export type FactKind = (typeof FACT_KINDS)[number];

export const DEPARTMENTS_BY_KIND: Record<FactKind, readonly Department[]> = {
  household: ['public-security'],
  insurance: ['social-insurance', 'higher-registry'],
  tax: ['tax'],
  welfare: ['civil-affairs'],
  death: ['civil-affairs', 'public-security'],
  enrolment: ['education'],
  custody: ['justice'],
};

export const SOURCE_MODES = ['snapshot', 'change'] as const;
export type SourceMode = (typeof SOURCE_MODES)[number];

export const REVIEW_STAGES = ['initial', 'final'] as const;
export type ReviewStage = (typeof REVIEW_STAGES)[number];

/** GB/T 2260 division codes at each level, as the number of digits. */
export const DIVISION_PATTERNS = {
  county: /^\d{6}$/,
  township: /^\d{9}$/,
  village: /^\d{12}$/,
  any: /^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/,
} as const;

/** How collected information reached review (procedure §13, §14, §19, §21, §23). */
export const CHANNELS = ['survey', 'window', 'self-service', 'grassroots', 'department'] as const;
export type Channel = (typeof CHANNELS)[number];

/** What a change request asks for. */
export const CHANGE_KINDS = [
  'registration-form', // a surveyor's full registration form (全民参保登记表)
  'collection', // information collected at a window (§13)
  'correction', // a correction of the person's own record (self-service §14, §23; grassroots §21)
  'death-claim', // a death found at a visit, with evidence, for the registry after review
  'department-change', // a department's change that region policy routes to review
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** Coded reasons for not being insured (未参保原因). */
export const NOT_INSURED_REASONS = [
  'unwilling', // 不愿参保
  'cannot-afford', // 经济困难
  'insured-elsewhere', // 已在外地参保
  'not-aware', // 不了解政策
  'employer-not-enrolled', // 单位未参保
  'student', // 在校学生
  'military', // 服兵役
  'in-prison', // 服刑
  'too-old', // 超龄
  'other', // 其他
] as const;
export type NotInsuredReason = (typeof NOT_INSURED_REASONS)[number];

/** Kinds of evidence a change rests on. */
export const EVIDENCE_KINDS = ['id-card', 'household-book', 'death-certificate', 'cremation-certificate', 'police-certificate', 'employer-certificate', 'insurance-record', 'photo', 'other'] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** Fields a change request may set (what review shows side by side with the record). */
export const CHANGE_FIELDS = [
  'citizenId',
  'name',
  'sex',
  'birthDate',
  'ethnicity',
  'hukouType',
  'phone',
  'residenceDivision',
  'residenceAddress',
  'employmentStatus',
  'employer',
  'insurance',
  'notInsuredReason',
  'insuredElsewhere',
  'deathDate',
] as const;
export type ChangeField = (typeof CHANGE_FIELDS)[number];

/** Identity fields a correction must back with evidence. */
export const IDENTITY_CORRECTION_FIELDS = ['citizenId', 'name', 'sex', 'birthDate'] as const;

/** Results of a household visit (入户调查). */
export const VISIT_OUTCOMES = [
  'collected', // enrolled or information collected: the registration form is submitted
  'refused', // found but refuses (with a reason)
  'nobody-home', // nobody at home: a revisit is planned
  'away', // working or living elsewhere (where, if known): a cross-region inquiry
  'moved-out', // moved out (where): a transfer
  'deceased', // died (date, evidence): a death claim for review
  'not-found', // no such person at the address
] as const;
export type VisitOutcome = (typeof VISIT_OUTCOMES)[number];

/** Why a reviewer rejects an item (a coded reason, with a text). */
export const REJECT_REASONS = ['false-information', 'no-evidence', 'not-this-person', 'not-our-division', 'other'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Why a reviewer closes an item without deciding it. */
export const CLOSE_REASONS = ['duplicate', 'withdrawn'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];
