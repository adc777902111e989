import { hit } from './context';
import type { Rule, RuleHit } from './types';

/** Missing information (procedure §7: mobile phone, residence): no source and no approved form gives one, where the region requires it. */
export const missingInformation: Rule = {
  name: 'missing-information',
  version: 1,
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    if (ctx.policy.requirePhone && ctx.fields.phone.value === null) {
      hits.push(
        hit(this, 'MISSING_PHONE', 'no source and no approved form gives a phone', [
          { source: 'policy', field: 'requirePhone', value: true, asOf: null },
          { source: 'record', field: 'phone', value: null, asOf: null },
        ]),
      );
    }
    if (ctx.policy.requireAddress && ctx.fields.address.value === null) {
      hits.push(
        hit(this, 'MISSING_ADDRESS', 'no source and no approved form gives an address', [
          { source: 'policy', field: 'requireAddress', value: true, asOf: null },
          { source: 'record', field: 'address', value: null, asOf: null },
        ]),
      );
    }
    return hits;
  },
};
