import { ageFacts, entryFact, hit, noneActive } from './context';
import type { FactRef, Rule, RuleHit } from './types';

/**
 * Partly insured (未参全): employed per tax without active unemployment or work-injury insurance;
 * or medical without pension for a working-age non-student.
 */
export const partlyInsured: Rule = {
  name: 'partly-insured',
  // 2: employment also from employers opened and closed; studies end on the expected graduation (issue 9).
  version: 2,
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    if (ctx.employment.employed) {
      const missing = (['unemployment', 'work-injury'] as const).filter((type) => ctx.active(type).length === 0);
      if (missing.length > 0) {
        hits.push(hit(this, 'PARTLY_INSURED_EMPLOYEE', `employed per ${ctx.employment.per} without ${missing.join(' or ')} insurance`, [...ctx.employment.facts, ...missing.map(noneActive)]));
      }
    }
    const medical = ctx.active('medical');
    const { pensionMinAge, retirementAge } = ctx.policy;
    if (medical.length > 0 && ctx.active('pension').length === 0 && ctx.age !== null && ctx.age >= pensionMinAge && ctx.age < retirementAge && !ctx.student) {
      const policy: FactRef = { source: 'policy', field: 'working age', value: `${pensionMinAge}-${retirementAge - 1}`, asOf: null };
      hits.push(
        hit(this, 'PARTLY_INSURED_NO_PENSION', 'medical insurance without pension at working age', [
          ...medical.map((e) => entryFact(e)),
          noneActive('pension'),
          ...ageFacts(ctx),
          policy,
        ]),
      );
    }
    return hits;
  },
};
