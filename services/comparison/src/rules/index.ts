/** The comparison model (信息比对, procedure §7-§10): named, versioned rules, outcome precedence, region policy. */
export { compare, decisionChanged, inComparisonScope } from './compare';
export { ageOn, buildContext, chinaDate } from './context';
export { EMPLOYMENT_TYPES, coverageStatus, coverageStatusRule, homeCounty } from './coverage-status.rule';
export { RULES } from './registry';
export { normaliseName } from './inaccurate-information.rule';
export { COVERAGE_CODES, DUPLICATE_CODES, EXEMPTION_CODES, NO_LINKS, REASON_CODES, RULE_NAMES, SURVEY_CODES } from './types';
export type { ActiveLinkStatus, CoverageHit, Decision, FactRef, FactSource, LinkContext, LinkRef, ReasonCode, Rule, RuleContext, RuleHit, RuleName } from './types';
