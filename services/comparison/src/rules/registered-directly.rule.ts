import { entryFact, hit } from './context';
import type { Rule } from './types';

/** Complete and accurate: registered directly (直接确认参保登记, procedure §7). Fires when no other rule did. */
export const registeredDirectly: Rule = {
  name: 'registered-directly',
  version: 1,
  evaluate(ctx) {
    if (ctx.earlier.length > 0) return [];
    const covering = [...ctx.active('pension'), ...ctx.active('medical')].map((e) => entryFact(e));
    return [hit(this, 'COMPLETE', 'complete and accurate', covering)];
  },
};
