import {
  Equals,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { IsCalendarDate, IsCalendarMonth } from '../calendar-date';
import {
  BENEFIT_STATUSES,
  DIVISION_PATTERNS,
  EDUCATION_LEVELS,
  HUKOU_STATUSES,
  HUKOU_TYPES,
  INSURANCE_STATUSES,
  INSURANCE_TYPES,
  SCHEMES,
  SEXES,
  WELFARE_CATEGORIES,
} from '../vocabulary';
import type {
  BenefitStatus,
  EducationLevel,
  HukouStatus,
  HukouType,
  InsuranceStatus,
  InsuranceType,
  Scheme,
  Sex,
  WelfareCategory,
} from '../vocabulary';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MONTH = /^\d{4}-\d{2}$/;
const MOBILE = /^1\d{10}$/;

/**
 * One typed contract per kind of department record (procedure §8-§10, §24). Every kind is a
 * class with runtime validation; `kind` selects it. Identity fields a department also holds
 * (name, sex, birth date, phone, address) are optional everywhere but household, so comparison can
 * set what each source says side by side.
 */

/** Public security (公安): household registration (户籍). */
export class HouseholdFacts {
  @Equals('household') kind: 'household';
  @IsString() @Length(1, 64) name: string;
  @IsOptional() @IsIn(SEXES) sex?: Sex;
  @IsOptional() @Matches(DATE, { message: 'birthDate must be YYYY-MM-DD' }) @IsCalendarDate() birthDate?: string;
  @IsOptional() @IsString() @MaxLength(32) ethnicity?: string;
  @IsOptional() @IsString() @MaxLength(256) address?: string;
  @Matches(DIVISION_PATTERNS.village, { message: 'villageCode must be a 12-digit village/community code' }) villageCode: string;
  @IsOptional() @IsIn(HUKOU_TYPES) hukouType?: HukouType;
  /** normal, moved out (迁出), deceased (死亡), in the military (参军), in prison (服刑). */
  @IsIn(HUKOU_STATUSES) status: HukouStatus;
  @IsOptional() @Matches(MOBILE, { message: 'phone must be an 11-digit mobile number' }) phone?: string;
  /** Household number (户号): the members of one household share it. */
  @IsOptional() @IsString() @Length(1, 32) householdNo?: string;
  /** Relation to the head of the household (与户主关系), e.g. 户主, 配偶, 子, 女. */
  @IsOptional() @IsString() @Length(1, 16) relationToHead?: string;
}

/** Social-insurance business system (社保业务系统), one insurance type and scheme; or the higher registry's record of insurance elsewhere. */
export class InsuranceFacts {
  @Equals('insurance') kind: 'insurance';
  @IsIn(INSURANCE_TYPES) insuranceType: InsuranceType;
  @IsIn(SCHEMES) scheme: Scheme;
  @IsIn(INSURANCE_STATUSES) status: InsuranceStatus;
  @Matches(DIVISION_PATTERNS.county, { message: 'region must be a 6-digit county code' }) region: string;
  @IsOptional() @IsString() @MaxLength(128) employer?: string;
  @IsOptional() @Matches(DATE, { message: 'since must be YYYY-MM-DD' }) @IsCalendarDate() since?: string;
  @IsOptional() @IsBoolean() receivingBenefit?: boolean;
  @IsOptional() @IsIn(BENEFIT_STATUSES) benefitStatus?: BenefitStatus;
  @IsOptional() @IsString() @Length(1, 64) name?: string;
  @IsOptional() @IsIn(SEXES) sex?: Sex;
  @IsOptional() @Matches(DATE, { message: 'birthDate must be YYYY-MM-DD' }) @IsCalendarDate() birthDate?: string;
  @IsOptional() @Matches(MOBILE, { message: 'phone must be an 11-digit mobile number' }) phone?: string;
  @IsOptional() @IsString() @MaxLength(256) address?: string;
}

/** Tax (税务): employment and contributions as the tax system sees them. */
export class TaxFacts {
  @Equals('tax') kind: 'tax';
  @IsBoolean() employed: boolean;
  @IsOptional() @IsString() @MaxLength(128) employer?: string;
  /** Unified social credit code (统一社会信用代码) of the employer. */
  @IsOptional() @Matches(/^[0-9A-HJ-NPQRTUWXY]{18}$/, { message: 'employerCreditCode must be an 18-character unified social credit code' }) employerCreditCode?: string;
  @IsOptional() @Matches(MONTH, { message: 'lastContributionMonth must be YYYY-MM' }) @IsCalendarMonth() lastContributionMonth?: string;
  @IsOptional() @IsNumber({ maxDecimalPlaces: 2 }) @Min(0) monthlyWage?: number;
  @IsOptional() @IsString() @Length(1, 64) name?: string;
}

/** Civil affairs (民政): vulnerable-group status, whose contributions the government pays (代缴). */
export class WelfareFacts {
  @Equals('welfare') kind: 'welfare';
  @IsIn(WELFARE_CATEGORIES) category: WelfareCategory;
  @IsBoolean() active: boolean;
  @IsOptional() @Matches(DATE, { message: 'since must be YYYY-MM-DD' }) @IsCalendarDate() since?: string;
  @IsOptional() @IsString() @Length(1, 64) name?: string;
}

/** A death registration (civil affairs or public security). */
export class DeathFacts {
  @Equals('death') kind: 'death';
  @Matches(DATE, { message: 'deathDate must be YYYY-MM-DD' }) @IsCalendarDate() deathDate: string;
  @IsOptional() @IsString() @Length(1, 64) name?: string;
}

/** Education (教育): an enrolled student. */
export class EnrolmentFacts {
  @Equals('enrolment') kind: 'enrolment';
  @IsBoolean() enrolled: boolean;
  @IsOptional() @IsString() @MaxLength(128) school?: string;
  @IsOptional() @IsIn(EDUCATION_LEVELS) level?: EducationLevel;
  @IsOptional() @IsInt() @Min(1900) @Max(2200) expectedGraduationYear?: number;
  @IsOptional() @IsString() @Length(1, 64) name?: string;
  @IsOptional() @IsIn(SEXES) sex?: Sex;
  @IsOptional() @Matches(DATE, { message: 'birthDate must be YYYY-MM-DD' }) @IsCalendarDate() birthDate?: string;
}

/** Justice (司法): a person in custody (服刑). */
export class CustodyFacts {
  @Equals('custody') kind: 'custody';
  @IsBoolean() inCustody: boolean;
  @IsOptional() @Matches(DATE, { message: 'since must be YYYY-MM-DD' }) @IsCalendarDate() since?: string;
  @IsOptional() @Matches(DATE, { message: 'releaseDate must be YYYY-MM-DD' }) @IsCalendarDate() releaseDate?: string;
  @IsOptional() @IsString() @Length(1, 64) name?: string;
}

export type SourceFacts = HouseholdFacts | InsuranceFacts | TaxFacts | WelfareFacts | DeathFacts | EnrolmentFacts | CustodyFacts;

/** For class-transformer's discriminator on `kind`. */
export const SOURCE_FACT_SUBTYPES = [
  { value: HouseholdFacts, name: 'household' },
  { value: InsuranceFacts, name: 'insurance' },
  { value: TaxFacts, name: 'tax' },
  { value: WelfareFacts, name: 'welfare' },
  { value: DeathFacts, name: 'death' },
  { value: EnrolmentFacts, name: 'enrolment' },
  { value: CustodyFacts, name: 'custody' },
];
