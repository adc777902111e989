import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsString, Length, Min, ValidateNested } from 'class-validator';
import { OUTCOMES } from '../vocabulary';
import type { Outcome } from '../vocabulary';

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

export class OutcomeDeterminedV2 {
  @IsIn(OUTCOMES)
  outcome: Outcome;

  /** The outcome before this one, or `none` for a person compared for the first time. */
  @IsIn([...OUTCOMES, 'none'])
  previousOutcome: Outcome | 'none';

  @IsArray() @ArrayMaxSize(64) @ValidateNested({ each: true }) @Type(() => OutcomeReason)
  reasons: OutcomeReason[];
}

export function upcastOutcomeDeterminedV1(v1: OutcomeDeterminedV1): OutcomeDeterminedV2 {
  return {
    outcome: v1.outcome,
    previousOutcome: 'none',
    reasons: v1.reasons.map((code) => ({ code, rule: 'legacy', ruleVersion: 0, detail: '' })),
  };
}
