import type { Outcome } from '@qmcb/contracts';
import type { RegionPolicy, RegistrationRecord } from '@qmcb/domain';
import { NO_LINKS, RULES, compare, inComparisonScope } from '../../rules';
import type { CoverageHit, FactRef, LinkContext } from '../../rules';

/** A fact a rule fired on: which source said what, as of when (`FactRef` of the rules). */
export type RuleFact = FactRef;

export interface ExplainedReason {
  code: string;
  rule: string;
  ruleVersion: number;
  detail: string;
  /** The facts the rule fired on. */
  facts: RuleFact[];
}

export interface Evaluation {
  outcome: Outcome | 'none';
  /** The reasons of the outcome, with their facts. */
  reasons: ExplainedReason[];
  /** Every rule that fired, in evaluation order, those the outcome precedence set aside included. */
  hits: ExplainedReason[];
  /** The status per insurance type with the facts behind each (rule `coverage-status`). */
  coverage: CoverageHit[];
}

const key = (r: { code: string; rule: string; ruleVersion: number }): string => `${r.code}|${r.rule}|${r.ruleVersion}`;

/**
 * The pure comparison re-run on a stored record as of `asOf`, exactly as the comparison projection
 * runs it (the same scope test, the same region policy, the same rules, the same links: `record`
 * merged with the records linked to the person), but at another time.
 * The one place the view meets the rules engine.
 */
export function evaluate(record: RegistrationRecord, policy: RegionPolicy, asOf: string, links: LinkContext = NO_LINKS): Evaluation {
  if (!inComparisonScope(record)) return { outcome: 'none', reasons: [], hits: [], coverage: [] };
  const decision = compare(record, policy, asOf, RULES, links);
  const hits = decision.hits.map(({ code, rule, ruleVersion, detail, facts }) => ({ code, rule, ruleVersion, detail, facts }));
  const byKey = new Map(hits.map((h) => [key(h), h]));
  return {
    outcome: decision.outcome,
    reasons: decision.reasons.map((r) => ({ ...r, facts: byKey.get(key(r))?.facts ?? [] })),
    hits,
    coverage: decision.coverage,
  };
}
