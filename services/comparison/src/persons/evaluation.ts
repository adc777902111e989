import type { Outcome } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import { DEFAULT_POLICY, compare } from '../rules/comparison-rules';

/** A fact a rule fired on: which source said what, as of when. */
export interface RuleFact {
  source: string;
  field: string;
  value: unknown;
  asOf: string | null;
}

export interface ExplainedReason {
  code: string;
  rule: string;
  ruleVersion: number;
  detail: string;
  /** The facts the rule fired on; empty when the rule names none. */
  facts: RuleFact[];
}

export interface Evaluation {
  outcome: Outcome | 'none';
  reasons: ExplainedReason[];
}

/**
 * The pure comparison re-run on a stored record as of `asOf`, with the rules and region policy the
 * comparison handler uses now. The one place the view meets the rules engine.
 */
export function evaluate(record: RegistrationRecord, _asOf: string): Evaluation {
  const decision = compare(record, DEFAULT_POLICY);
  return { outcome: decision.outcome, reasons: decision.reasons.map((r) => ({ ...r, facts: [] })) };
}
