import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, Length, Matches, Min } from 'class-validator';
import { DIVISION_PATTERNS, INSURANCE_TYPES } from '../vocabulary';
import type { InsuranceType } from '../vocabulary';

/**
 * A person's status in one insurance type (现参保情况 per type, procedure §7, §27-§29): decided by
 * comparison with the outcome, carried by `comparison.outcome-determined` from v3.
 */
export const COVERAGE_STATUSES = ['insured-here', 'insured-elsewhere', 'not-insured', 'not-due', 'exempt'] as const;
export type CoverageStatus = (typeof COVERAGE_STATUSES)[number];

/** Why a type a person is due is not insured, from the records: never enrolled, or lapsed. (The reason the person gives, 未参保原因, is NOT_INSURED_REASONS of the vocabulary, collected by survey.) */
export const NOT_INSURED_STATUS_REASONS = ['NEVER_ENROLLED', 'LAPSED'] as const;
/** Why a type is not due: too young (pension), not employed (unemployment, work injury, maternity), or not assessed in the region. */
export const NOT_DUE_REASONS = ['UNDER_AGE', 'NOT_EMPLOYED', 'NOT_ASSESSED'] as const;
/**
 * Why a person is outside a type's denominator: deceased, moved out, military or prisoner (every
 * type), student (pension only, seed 003), or the record belongs to another person (a mistyped ID).
 */
export const EXEMPT_REASONS = ['DECEASED', 'MOVED_OUT', 'MILITARY', 'PRISONER', 'STUDENT', 'LINKED'] as const;
export const COVERAGE_REASONS = [...NOT_INSURED_STATUS_REASONS, ...NOT_DUE_REASONS, ...EXEMPT_REASONS] as const;
export type NotInsuredStatusReason = (typeof NOT_INSURED_STATUS_REASONS)[number];
export type NotDueReason = (typeof NOT_DUE_REASONS)[number];
export type ExemptReason = (typeof EXEMPT_REASONS)[number];
export type CoverageReason = (typeof COVERAGE_REASONS)[number];

/** The reasons that go with each status (insured statuses have none). */
export const REASONS_BY_STATUS: Record<CoverageStatus, readonly CoverageReason[]> = {
  'insured-here': [],
  'insured-elsewhere': [],
  'not-insured': NOT_INSURED_STATUS_REASONS,
  'not-due': NOT_DUE_REASONS,
  exempt: EXEMPT_REASONS,
};

/** One insurance type's status, with the named, versioned rule that decided it and its facts in words. */
export class CoverageItem {
  @IsIn(INSURANCE_TYPES)
  insuranceType: InsuranceType;

  @IsIn(COVERAGE_STATUSES)
  status: CoverageStatus;

  /** Null for `insured-here` and `insured-elsewhere`. */
  @IsOptional() @IsIn(COVERAGE_REASONS)
  reason: CoverageReason | null;

  /** Counties where an active entry of the type counts (insured statuses), sorted; empty otherwise. */
  @IsArray() @ArrayMaxSize(16) @Matches(DIVISION_PATTERNS.county, { each: true, message: 'regions must be 6-digit county codes' })
  regions: string[];

  @IsString() @Length(1, 64)
  rule: string;

  @IsInt() @Min(0)
  ruleVersion: number;

  @IsString() @Length(0, 512)
  detail: string;
}
