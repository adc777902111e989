import { maskCitizenId } from '@qmcb/domain';
import { hit } from './context';
import type { Rule, RuleHit } from './types';

/**
 * Records under a mistyped citizen ID (docs/design/identity-linking.md):
 * - `LINKED_TO_PERSON` (an exemption): this record's facts belong to another person by a proposed or
 *   confirmed link; it is neither a survey target of its own nor a non-local person;
 * - `INACCURATE_CITIZEN_ID` on the person: a link is proposed and not yet confirmed, so the correction
 *   of the departments' ID goes to survey or review. A confirmed link raises nothing.
 * Evaluated after `inaccurate-information`, whose own INACCURATE_CITIZEN_ID (the person's ID fails
 * GB 11643) is not repeated.
 */
export const idLinking: Rule = {
  name: 'id-linking',
  version: 1,
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    const { linkedTo, linked } = ctx.links;
    if (linkedTo) {
      hits.push(
        hit(this, 'LINKED_TO_PERSON', `records of a mistyped citizen ID, ${linkedTo.status} as another person's`, [
          { source: 'record', field: 'linkedTo', value: maskCitizenId(linkedTo.personKey), asOf: null },
          { source: 'record', field: 'linkStatus', value: linkedTo.status, asOf: null },
        ]),
      );
    }
    const proposed = linked.filter((l) => l.status === 'proposed');
    if (proposed.length > 0 && !ctx.earlier.some((h) => h.code === 'INACCURATE_CITIZEN_ID')) {
      hits.push(
        hit(
          this,
          'INACCURATE_CITIZEN_ID',
          'records sent under a mistyped citizen ID are proposed as this person\'s, to confirm',
          proposed.map((l) => ({ source: 'record' as const, field: 'linked record', value: l.citizenIdAsSent === null ? null : maskCitizenId(l.citizenIdAsSent), asOf: null })),
        ),
      );
    }
    return hits;
  },
};
