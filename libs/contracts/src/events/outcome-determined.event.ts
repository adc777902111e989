import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsString, Length, Min, ValidateNested } from 'class-validator';
import { OUTCOMES } from '../vocabulary';
import type { Outcome } from '../vocabulary';
import { CoverageItem } from './coverage';

export const OUTCOME_DETERMINED = 'comparison.outcome-determined';

/** Why an outcome was reached: which named, versioned rule fired on which facts. */
export class OutcomeReason {
  /** Stable reason code, e.g. `UNINSURED`, `DUPLICATE_PENSION`, `EXEMPT_STUDENT`. */
  @IsString() @Length(1, 64)
  code: string;

  @IsString() @Length(1, 64)
  rule: string;

  @IsInt() @Min(0)
  ruleVersion: number;

  @IsString() @Length(0, 512)
  detail: string;
}

/** v1 carried bare reason codes; read through the upcaster below. */
export class OutcomeDeterminedV1 {
  @IsIn(OUTCOMES)
  outcome: Outcome;

  @IsArray() @ArrayMaxSize(64) @IsString({ each: true })
  reasons: string[];
}

/** v2: named, versioned reasons; read as v3 with no per-type status. */
export class OutcomeDeterminedV2 {
  @IsIn(OUTCOMES)
  outcome: Outcome;

  /** The outcome before this one, or `none` for a person compared for the first time. */
  @IsIn([...OUTCOMES, 'none'])
  previousOutcome: Outcome | 'none';

  @IsArray() @ArrayMaxSize(64) @ValidateNested({ each: true }) @Type(() => OutcomeReason)
  reasons: OutcomeReason[];
}

/** v3: the decision with the person's status per insurance type (issue 10). */
export class OutcomeDeterminedV3 {
  @IsIn(OUTCOMES)
  outcome: Outcome;

  @IsIn([...OUTCOMES, 'none'])
  previousOutcome: Outcome | 'none';

  @IsArray() @ArrayMaxSize(64) @ValidateNested({ each: true }) @Type(() => OutcomeReason)
  reasons: OutcomeReason[];

  /**
   * One item per insurance type, in INSURANCE_TYPES order. Empty only for a decision read from v1 or
   * v2, which did not determine per-type status.
   */
  @IsArray() @ArrayMaxSize(8) @ValidateNested({ each: true }) @Type(() => CoverageItem)
  coverage: CoverageItem[];
}

export function upcastOutcomeDeterminedV1(v1: OutcomeDeterminedV1): OutcomeDeterminedV2 {
  return {
    outcome: v1.outcome,
    previousOutcome: 'none',
    reasons: v1.reasons.map((code) => ({ code, rule: 'legacy', ruleVersion: 0, detail: '' })),
  };
}

export function upcastOutcomeDeterminedV2(v2: OutcomeDeterminedV2): OutcomeDeterminedV3 {
  return { ...v2, coverage: [] };
}
