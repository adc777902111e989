import { IsIn, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { IsCalendarDate } from '../calendar-date';
import { CREDIT_CODE, DATE_PATTERN } from '../business-vocabulary';
import { DIVISION_PATTERNS, HUKOU_TYPES, SEXES } from '../vocabulary';
import type { HukouType, Sex } from '../vocabulary';
import { BusinessEventBase } from './insurance-business.events';

export const DEATH_REGISTERED = 'death.registered';
export const HOUSEHOLD_MOVED_OUT = 'household.moved-out';
export const HOUSEHOLD_MOVED_IN = 'household.moved-in';
export const EMPLOYER_OPENED = 'employer.opened';
export const EMPLOYER_CLOSED = 'employer.closed';

/** 死亡登记 by civil affairs or public security. */
export class DeathRegisteredV1 extends BusinessEventBase {
  @Matches(DATE_PATTERN, { message: 'deathDate must be YYYY-MM-DD' }) @IsCalendarDate()
  deathDate: string;
}

/** 户口迁出: the household registration moved out of its village (procedure §24: migrants are tracked). */
export class HouseholdMovedOutV1 extends BusinessEventBase {
  @Matches(DATE_PATTERN, { message: 'movedOn must be YYYY-MM-DD' }) @IsCalendarDate()
  movedOn: string;

  /** Where to, when known: a county, township or village code. */
  @IsOptional() @Matches(DIVISION_PATTERNS.any, { message: 'toDivision must be a division code of 2, 4, 6, 9 or 12 digits' })
  toDivision?: string;
}

/** 户口迁入: the household registration moved into a village here, with the identity public security holds. */
export class HouseholdMovedInV1 extends BusinessEventBase {
  @Matches(DATE_PATTERN, { message: 'movedOn must be YYYY-MM-DD' }) @IsCalendarDate()
  movedOn: string;

  @Matches(DIVISION_PATTERNS.village, { message: 'villageCode must be a 12-digit village/community code' })
  villageCode: string;

  /** Where from, when known. */
  @IsOptional() @Matches(DIVISION_PATTERNS.any, { message: 'fromDivision must be a division code of 2, 4, 6, 9 or 12 digits' })
  fromDivision?: string;

  @IsString() @Length(1, 64)
  name: string;

  @IsOptional() @IsIn(SEXES)
  sex?: Sex;

  @IsOptional() @Matches(DATE_PATTERN, { message: 'birthDate must be YYYY-MM-DD' }) @IsCalendarDate()
  birthDate?: string;

  @IsOptional() @IsString() @MaxLength(256)
  address?: string;

  @IsOptional() @IsIn(HUKOU_TYPES)
  hukouType?: HukouType;
}

/** The person's employer opened (registered with market regulation or tax), so employee insurance is due. */
export class EmployerOpenedV1 extends BusinessEventBase {
  @Matches(CREDIT_CODE, { message: 'employerCreditCode must be an 18-character unified social credit code' })
  employerCreditCode: string;

  @IsString() @Length(1, 128)
  employerName: string;

  @Matches(DATE_PATTERN, { message: 'effectiveDate must be YYYY-MM-DD' }) @IsCalendarDate()
  effectiveDate: string;
}

/** The person's employer closed (注销/吊销): the employment tax reported ends with it. */
export class EmployerClosedV1 extends BusinessEventBase {
  @Matches(CREDIT_CODE, { message: 'employerCreditCode must be an 18-character unified social credit code' })
  employerCreditCode: string;

  @IsOptional() @IsString() @Length(1, 128)
  employerName?: string;

  @Matches(DATE_PATTERN, { message: 'effectiveDate must be YYYY-MM-DD' }) @IsCalendarDate()
  effectiveDate: string;
}
