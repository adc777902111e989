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
