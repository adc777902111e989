import { Type } from 'class-transformer';
import {
  Equals,
  IsBoolean,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import {
  DEPARTMENTS,
  DIVISION_PATTERNS,
  HUKOU_STATUSES,
  HUKOU_TYPES,
  INSURANCE_STATUSES,
  INSURANCE_TYPES,
  SCHEMES,
  SEXES,
  SOURCE_MODES,
} from '../vocabulary';
import type {
  Department,
  HukouStatus,
  HukouType,
  InsuranceStatus,
  InsuranceType,
  Scheme,
  Sex,
  SourceMode,
} from '../vocabulary';

export const SOURCE_RECORD_RECEIVED = 'source.record-received';

/** Public security (公安) household registration record. */
export class HouseholdFacts {
  @Equals('household')
  kind: 'household';

  @IsString() @Length(1, 64)
  name: string;

  @IsOptional() @IsIn(SEXES)
  sex?: Sex;

  @IsOptional() @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'birthDate must be YYYY-MM-DD' })
  birthDate?: string;

  @IsOptional() @IsString() @MaxLength(32)
  ethnicity?: string;

  @IsOptional() @IsString() @MaxLength(256)
  address?: string;

  @Matches(DIVISION_PATTERNS.village, { message: 'villageCode must be a 12-digit village/community code' })
  villageCode: string;

  @IsOptional() @IsIn(HUKOU_TYPES)
  hukouType?: HukouType;

  @IsIn(HUKOU_STATUSES)
  status: HukouStatus;

  @IsOptional() @Matches(/^1\d{10}$/, { message: 'phone must be an 11-digit mobile number' })
  phone?: string;
}

/** Social-insurance business system (社保业务系统) record of one insurance type and scheme. */
export class InsuranceFacts {
  @Equals('insurance')
  kind: 'insurance';

  @IsIn(INSURANCE_TYPES)
  insuranceType: InsuranceType;

  @IsIn(SCHEMES)
  scheme: Scheme;

  @IsIn(INSURANCE_STATUSES)
  status: InsuranceStatus;

  @Matches(DIVISION_PATTERNS.county, { message: 'region must be a 6-digit county code' })
  region: string;

  @IsOptional() @IsString() @MaxLength(128)
  employer?: string;

  @IsOptional() @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'since must be YYYY-MM-DD' })
  since?: string;

  @IsOptional() @IsBoolean()
  receivingBenefit?: boolean;

  @IsOptional() @IsString() @Length(1, 64)
  name?: string;
}

export type SourceFacts = HouseholdFacts | InsuranceFacts;

export class SourceRecordReceivedV1 {
  @IsIn(DEPARTMENTS)
  department: Department;

  /** The department's own ID of this record; with the department it makes the event ID. */
  @IsString() @Length(1, 128)
  sourceRecordId: string;

  @IsIn(SOURCE_MODES)
  mode: SourceMode;

  /** The citizen ID exactly as the department sent it (kept even when invalid). */
  @IsString() @Length(1, 32)
  citizenIdAsSent: string;

  /** Whether the ID passed GB 11643 validation; an invalid one is inaccurate information, never dropped. */
  @IsBoolean()
  citizenIdValid: boolean;

  @IsISO8601()
  asOf: string;

  @ValidateNested()
  @Type(() => Object, {
    discriminator: {
      property: 'kind',
      subTypes: [
        { value: HouseholdFacts, name: 'household' },
        { value: InsuranceFacts, name: 'insurance' },
      ],
    },
    keepDiscriminatorProperty: true,
  })
  facts: SourceFacts;
}
