import { INSURANCE_TYPES } from '@qmcb/contracts';
import type { InsuranceEntry } from '@qmcb/domain';
import { entryFact, hit } from './context';
import type { Rule, RuleHit } from './types';

function groupBy<K extends string>(entries: InsuranceEntry[], key: (e: InsuranceEntry) => K): Map<K, InsuranceEntry[]> {
  const groups = new Map<K, InsuranceEntry[]>();
  for (const e of entries) {
    const k = key(e);
    const group = groups.get(k);
    if (group) group.push(e);
    else groups.set(k, [e]);
  }
  return groups;
}

/**
 * Duplicate enrolment (重复参保, procedure §10): an active pension in two schemes, an active medical
 * insurance in two schemes, or the same insurance type and scheme active in two regions.
 */
export const duplicateEnrollment: Rule = {
  name: 'duplicate-enrollment',
  version: 1,
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const [type, code] of [
      ['pension', 'DUPLICATE_PENSION'],
      ['medical', 'DUPLICATE_MEDICAL'],
    ] as const) {
      const active = ctx.active(type);
      if (groupBy(active, (e) => e.scheme).size > 1) {
        hits.push(hit(this, code, `active ${type} in ${new Set(active.map((e) => e.scheme)).size} schemes`, active.map((e) => entryFact(e))));
      }
    }
    const everyActive = INSURANCE_TYPES.flatMap((type) => ctx.active(type));
    const inTwoRegions = [...groupBy(everyActive, (e) => `${e.insuranceType}:${e.scheme}`).entries()].filter(([, group]) => new Set(group.map((e) => e.region)).size > 1);
    if (inTwoRegions.length > 0) {
      hits.push(
        hit(
          this,
          'DUPLICATE_REGION',
          `active in two regions: ${inTwoRegions.map(([typeScheme]) => typeScheme).join(', ')}`,
          inTwoRegions.flatMap(([, group]) => group.map((e) => entryFact(e))),
        ),
      );
    }
    return hits;
  },
};
