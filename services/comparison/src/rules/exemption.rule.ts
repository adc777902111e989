import { hit } from './context';
import { COVERAGE_CODES, SURVEY_CODES } from './types';
import type { FactRef, ReasonCode, Rule, RuleContext, RuleHit } from './types';

/**
 * Whether, exemptions aside, the person would be "needs survey" solely for insurance-coverage
 * reasons: no benefit after death, no duplicate, and every survey reason a coverage one.
 */
function onlyCoverageReasons(earlier: readonly RuleHit[]): ReasonCode[] | null {
  const codes = earlier.map((h) => h.code);
  const survey = codes.filter((c) => (SURVEY_CODES as readonly ReasonCode[]).includes(c));
  const blocking = codes.some((c) => c === 'BENEFIT_AFTER_DEATH' || c.startsWith('DUPLICATE_'));
  if (blocking || survey.length === 0 || !survey.every((c) => COVERAGE_CODES.includes(c))) return null;
  return survey;
}

function hukouFact(ctx: RuleContext): FactRef | null {
  const h = ctx.record.household;
  return h ? { source: 'public-security', field: 'hukouStatus', value: h.status, asOf: h.asOf } : null;
}

/**
 * Exemptions that must not count as uninsured (seed 003: students, military and prisoners told apart;
 * deceased and moved out). Evaluated after the other rules, since a student is exempt only from
 * coverage reasons.
 */
export const exemption: Rule = {
  name: 'exemption',
  // 2: custody ends on its release date and studies on the expected graduation (time, issue 9).
  version: 2,
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    const status = ctx.record.household?.status ?? null;
    const hukou = hukouFact(ctx);
    if (ctx.deathFacts.length > 0) hits.push(hit(this, 'EXEMPT_DECEASED', 'deceased', ctx.deathFacts));
    if (status === 'moved-out' && hukou) hits.push(hit(this, 'EXEMPT_MOVED_OUT', 'household registration moved out', [hukou]));
    if (status === 'military' && hukou) hits.push(hit(this, 'EXEMPT_MILITARY', 'serving in the military', [hukou]));
    const custody = ctx.record.custody;
    const prison: FactRef[] = [
      ...(status === 'prison' && hukou ? [hukou] : []),
      ...(ctx.inCustody && custody ? [{ source: 'justice' as const, field: 'inCustody', value: true, asOf: custody.asOf }] : []),
    ];
    if (prison.length > 0) hits.push(hit(this, 'EXEMPT_PRISONER', 'in prison', prison));
    const enrolment = ctx.record.enrolment;
    const coverage = ctx.student ? onlyCoverageReasons(ctx.earlier) : null;
    if (enrolment && coverage) {
      hits.push(
        hit(this, 'EXEMPT_STUDENT', 'enrolled student, otherwise a survey target only for insurance coverage', [
          { source: 'education', field: 'enrolled', value: true, asOf: enrolment.asOf },
          { source: 'record', field: 'coverage reasons set aside', value: coverage.join(', '), asOf: null },
        ]),
      );
    }
    return hits;
  },
};
