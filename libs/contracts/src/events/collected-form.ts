import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import {
  DIVISION_PATTERNS,
  EMPLOYMENT_STATUSES,
  INSURANCE_STATUSES,
  INSURANCE_TYPES,
  SCHEMES,
} from '../vocabulary';
import type { EmploymentStatus, InsuranceStatus, InsuranceType, Scheme } from '../vocabulary';

export class CollectedInsurance {
  @IsIn(INSURANCE_TYPES)
  insuranceType: InsuranceType;

  @IsIn(SCHEMES)
  scheme: Scheme;

  @IsIn(INSURANCE_STATUSES)
  status: InsuranceStatus;

  @Matches(DIVISION_PATTERNS.county, { message: 'region must be a 6-digit county code' })
  region: string;
}

/** The registration form (全民参保登记表, procedure annex 1): what a surveyor or window collects. */
export class CollectedForm {
  @IsString() @Length(1, 64)
  name: string;

  @Matches(/^1\d{10}$/, { message: 'phone must be an 11-digit mobile number' })
  phone: string;

  @IsIn(EMPLOYMENT_STATUSES)
  employmentStatus: EmploymentStatus;

  @IsString() @Length(1, 256)
  residenceAddress: string;

  @Matches(DIVISION_PATTERNS.village, { message: 'residenceDivision must be a 12-digit village/community code' })
  residenceDivision: string;

  @IsArray() @ArrayMaxSize(10) @ValidateNested({ each: true }) @Type(() => CollectedInsurance)
  insurance: CollectedInsurance[];

  @IsOptional() @IsString() @MaxLength(256)
  notInsuredReason?: string;

  @IsBoolean()
  insuredElsewhere: boolean;
}
