import { entryFact, hit, noneActive } from './context';
import type { Rule } from './types';

/**
 * Uninsured (未参保): no active pension and no active medical insurance. Medical insurance is due for
 * everyone, so one of the two is always due.
 */
export const uninsured: Rule = {
  name: 'uninsured',
  version: 1,
  evaluate(ctx) {
    if (ctx.active('pension').length > 0 || ctx.active('medical').length > 0) return [];
    const lapsed = ctx.entries.filter((e) => e.insuranceType === 'pension' || e.insuranceType === 'medical').map((e) => entryFact(e));
    return [hit(this, 'UNINSURED', 'no active pension and no active medical insurance', [noneActive('pension'), noneActive('medical'), ...lapsed])];
  },
};
