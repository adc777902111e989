import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  MaxLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { IsCalendarDate } from '../calendar-date';
import {
  CHANGE_FIELDS,
  CHANGE_KINDS,
  DIVISION_PATTERNS,
  EMPLOYMENT_STATUSES,
  EVIDENCE_KINDS,
  HUKOU_TYPES,
  NOT_INSURED_REASONS,
  SEXES,
} from '../vocabulary';
import type { ChangeField, ChangeKind, EmploymentStatus, EvidenceKind, HukouType, NotInsuredReason, Sex } from '../vocabulary';
import { CollectedInsurance } from './collected-form';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MOBILE = /^1\d{10}$/;
const CREDIT_CODE = /^[0-9A-HJ-NPQRTUWXY]{18}$/;

/** A document a change rests on: what kind, and its reference (number, file name, photo ID). */
export class Evidence {
  @IsIn(EVIDENCE_KINDS)
  kind: EvidenceKind;

  @IsString() @Length(1, 128)
  reference: string;

  @IsOptional() @IsString() @MaxLength(256)
  note?: string;
}

export class EmployerRef {
  @IsString() @Length(1, 128)
  name: string;

  /** Unified social credit code (统一社会信用代码). */
  @IsOptional() @Matches(CREDIT_CODE, { message: 'creditCode must be an 18-character unified social credit code' })
  creditCode?: string;
}

/**
 * Fields a change proposes for the registration record (procedure §7 items), each optional: a
 * change carries only what it changes. `null` clears a field where that makes sense (employer,
 * notInsuredReason). A registration form carries them all (or marks them unknown, with a reason).
 */
export class ChangeFields {
  /** The citizen ID as confirmed from the ID card or household book (a correction when it differs). */
  @IsOptional() @IsString() @Matches(/^(\d{17}[\dXx]|\d{15})$/, { message: 'citizenId must be an 18-character (or old 15-digit) citizen ID' })
  citizenId?: string;

  @IsOptional() @IsString() @Length(1, 64)
  name?: string;

  @IsOptional() @IsIn(SEXES)
  sex?: Sex;

  @IsOptional() @Matches(DATE, { message: 'birthDate must be YYYY-MM-DD' }) @IsCalendarDate()
  birthDate?: string;

  @IsOptional() @IsString() @MaxLength(32)
  ethnicity?: string;

  @IsOptional() @IsIn(HUKOU_TYPES)
  hukouType?: HukouType;

  @IsOptional() @Matches(MOBILE, { message: 'phone must be an 11-digit mobile number' })
  phone?: string;

  @IsOptional() @Matches(DIVISION_PATTERNS.village, { message: 'residenceDivision must be a 12-digit village/community code' })
  residenceDivision?: string;

  @IsOptional() @IsString() @Length(1, 256)
  residenceAddress?: string;

  @IsOptional() @IsIn(EMPLOYMENT_STATUSES)
  employmentStatus?: EmploymentStatus;

  @IsOptional() @ValidateIf((_o, v) => v !== null) @ValidateNested() @Type(() => EmployerRef)
  employer?: EmployerRef | null;

  /** Current insurance per type and where (the form's 现参保情况); replaces what earlier approvals said. */
  @IsOptional() @IsArray() @ArrayMaxSize(10) @ValidateNested({ each: true }) @Type(() => CollectedInsurance)
  insurance?: CollectedInsurance[];

  @IsOptional() @ValidateIf((_o, v) => v !== null) @IsIn(NOT_INSURED_REASONS)
  notInsuredReason?: NotInsuredReason | null;

  @IsOptional() @IsBoolean()
  insuredElsewhere?: boolean;

  /** A death found at a visit or reported at a window (with evidence). */
  @IsOptional() @Matches(DATE, { message: 'deathDate must be YYYY-MM-DD' }) @IsCalendarDate()
  deathDate?: string;
}

/** An item of a form explicitly marked unknown, with why (so nothing is left blank unexplained). */
export class UnknownField {
  @IsIn(CHANGE_FIELDS)
  field: ChangeField;

  @IsString() @Length(1, 256)
  reason: string;
}

/**
 * What a submitter asks the registry to change (every channel: survey, window, self-service,
 * grassroots, department), with the evidence it rests on. It enters the registry only after review
 * (procedure §19, §21).
 */
export class ChangeRequest {
  @IsIn(CHANGE_KINDS)
  kind: ChangeKind;

  @IsObject() @ValidateNested() @Type(() => ChangeFields)
  fields: ChangeFields;

  @IsArray() @ArrayMaxSize(20) @ValidateNested({ each: true }) @Type(() => Evidence)
  evidence: Evidence[];

  @IsArray() @ArrayMaxSize(20) @ValidateNested({ each: true }) @Type(() => UnknownField)
  unknown: UnknownField[];

  @IsOptional() @IsString() @MaxLength(512)
  note?: string;
}

export const MEMBER_STATUSES = ['present', 'away', 'moved-out', 'deceased', 'not-known-here'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

/** One member of the household as the surveyor found them (三不漏: no person in a household missed). */
export class HouseholdMemberReport {
  @IsOptional() @IsString() @Matches(/^(\d{17}[\dXx]|\d{15})$/, { message: 'citizenId must be an 18-character (or old 15-digit) citizen ID' })
  citizenId?: string;

  @IsString() @Length(1, 64)
  name: string;

  /** Relation to the head of the household (与户主关系), e.g. 本人, 配偶, 子, 女, 父, 母. */
  @IsString() @Length(1, 16)
  relation: string;

  @IsIn(MEMBER_STATUSES)
  status: MemberStatus;

  /** The member's own survey target, when they have one. */
  @IsOptional() @IsUUID()
  taskId?: string;
}

export class HouseholdReport {
  /** Household number (户号) as on the household book. */
  @IsOptional() @IsString() @Length(1, 32)
  householdNo?: string;

  @IsArray() @ArrayMaxSize(30) @ValidateNested({ each: true }) @Type(() => HouseholdMemberReport)
  members: HouseholdMemberReport[];
}
