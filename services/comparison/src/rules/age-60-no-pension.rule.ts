import { ageFacts, hit, noneActive } from './context';
import type { Rule } from './types';

/** 60 or older without a pension: to be followed up (seed 003). The age is the region's `pensionAgeCheck`. */
export const age60NoPension: Rule = {
  name: 'age-60-no-pension',
  version: 1,
  evaluate(ctx) {
    if (ctx.age === null || ctx.age < ctx.policy.pensionAgeCheck || ctx.active('pension').length > 0) return [];
    return [
      hit(this, 'AGE_60_NO_PENSION', `aged ${ctx.policy.pensionAgeCheck} or older without an active pension`, [
        ...ageFacts(ctx),
        { source: 'policy', field: 'pensionAgeCheck', value: ctx.policy.pensionAgeCheck, asOf: null },
        noneActive('pension'),
      ]),
    ];
  },
};
