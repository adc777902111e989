import type { OutcomeReason } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import { buildContext } from './context';
import { coverageStatus } from './coverage-status.rule';
import type { RegionPolicy } from '@qmcb/domain';
import { RULES } from './registry';
import { DUPLICATE_CODES, EXEMPTION_CODES, NO_LINKS, REASON_CODES, SURVEY_CODES } from './types';
import type { Decision, LinkContext, ReasonCode, Rule, RuleHit } from './types';

/**
 * Only people we register are compared (docs/design/comparison-model.md): someone with a household
 * record here, or insured here (an entry from our social-insurance systems), or registered here by
 * an approved survey form. Anyone else (say, only a tax record of a non-local person) stays
 * undecided until one of those arrives.
 */
export function inComparisonScope(record: Pick<RegistrationRecord, 'household' | 'insurance' | 'collected'>): boolean {
  if (record.household !== null || record.collected !== null) return true;
  return Object.values(record.insurance).some((e) => e.department === 'social-insurance');
}

function toReason({ code, rule, ruleVersion, detail }: RuleHit): OutcomeReason {
  return { code, rule, ruleVersion, detail };
}

function inOrder(hits: RuleHit[], codes: readonly ReasonCode[]): RuleHit[] {
  return hits.filter((h) => codes.includes(h.code)).sort((a, b) => REASON_CODES.indexOf(a.code) - REASON_CODES.indexOf(b.code));
}

function decide(hits: RuleHit[]): { outcome: Decision['outcome']; reasons: RuleHit[] } {
  const benefit = inOrder(hits, ['BENEFIT_AFTER_DEATH']);
  if (benefit.length > 0) return { outcome: 'needs-survey', reasons: benefit };
  const exempt = inOrder(hits, EXEMPTION_CODES);
  if (exempt.length > 0) return { outcome: 'exempt', reasons: exempt };
  const survey = inOrder(hits, SURVEY_CODES);
  const duplicate = inOrder(hits, DUPLICATE_CODES);
  if (duplicate.length > 0) return { outcome: 'duplicate', reasons: [...duplicate, ...survey] };
  if (survey.length > 0) return { outcome: 'needs-survey', reasons: survey };
  return { outcome: 'registered', reasons: inOrder(hits, ['COMPLETE']) };
}

/**
 * Compares a person's merged record as of `asOf` (the triggering event's `occurredAt`: ages are
 * computed then, so a rebuild decides the same). Pure and deterministic. Outcome precedence:
 * benefit after death (needs survey), exempt, duplicate, needs survey, registered directly; and the
 * status per insurance type (rule `coverage-status`). `links`: the identity links the record takes
 * part in, `record` already merged with the records linked to it (`mergeLinked`).
 */
export function compare(record: RegistrationRecord, policy: RegionPolicy, asOf: string, rules: readonly Rule[] = RULES, links: LinkContext = NO_LINKS): Decision {
  const base = buildContext(record, policy, asOf, links);
  const hits: RuleHit[] = [];
  for (const rule of rules) hits.push(...rule.evaluate({ ...base, earlier: [...hits] }));
  const { outcome, reasons } = decide(hits);
  return { outcome, reasons: reasons.map(toReason), hits, coverage: coverageStatus({ ...base, earlier: hits }) };
}

interface CoverageSignature {
  insuranceType: string;
  status: string;
  reason: string | null;
  regions: readonly string[];
}

const coverageKey = (items: readonly CoverageSignature[] | undefined): string =>
  (items ?? []).map((c) => `${c.insuranceType}:${c.status}:${c.reason ?? ''}:${c.regions.join('+')}`).join(',');

/** Whether a new decision differs from the last one recorded (outcome, reason codes, or a status per insurance type). */
export function decisionChanged(
  previous: { outcome: string; reasons: { code: string }[]; coverage?: readonly CoverageSignature[] } | null,
  next: Pick<Decision, 'outcome' | 'reasons'> & { coverage: readonly CoverageSignature[] },
): boolean {
  if (!previous) return true;
  if (previous.outcome !== next.outcome) return true;
  const a = previous.reasons.map((r) => r.code).sort().join(',');
  const b = next.reasons.map((r) => r.code).sort().join(',');
  return a !== b || coverageKey(previous.coverage) !== coverageKey(next.coverage);
}
