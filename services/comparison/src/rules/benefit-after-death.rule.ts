import { entryFact, hit } from './context';
import type { FactRef, Rule } from './types';

/** Benefits still paid after death (procedure §1-§2: duplicate or undue benefit payments). */
export const benefitAfterDeath: Rule = {
  name: 'benefit-after-death',
  version: 1,
  evaluate(ctx) {
    if (ctx.deathFacts.length === 0) return [];
    const paying: FactRef[] = [];
    for (const e of ctx.entries) {
      if (e.receivingBenefit === true) paying.push(entryFact(e, true, '.receivingBenefit'));
      else if (e.benefitStatus === 'receiving') paying.push(entryFact(e, 'receiving', '.benefitStatus'));
    }
    if (paying.length === 0) return [];
    return [hit(this, 'BENEFIT_AFTER_DEATH', 'deceased but a benefit is still being received', [...ctx.deathFacts, ...paying])];
  },
};
