/** The comparison model (信息比对, procedure §7-§10): named, versioned rules, outcome precedence, region policy. */
export { compare, decisionChanged, inComparisonScope } from './compare';
export { ageOn, buildContext, chinaDate } from './context';
export { RULES } from './registry';
export { normaliseName } from './inaccurate-information.rule';
export { COVERAGE_CODES, DUPLICATE_CODES, EXEMPTION_CODES, REASON_CODES, RULE_NAMES, SURVEY_CODES } from './types';
export type { Decision, FactRef, FactSource, ReasonCode, Rule, RuleContext, RuleHit, RuleName } from './types';
