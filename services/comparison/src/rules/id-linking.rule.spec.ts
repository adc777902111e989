import { DEFAULT_REGION_POLICY } from '@qmcb/domain';
import { mergeLinked } from '../linking/merge-linked';
import { compare } from './compare';
import { RULES } from './registry';
import { AS_OF, codes, hitOf, household, insurance, invalidIdFor, person, recordOf } from './spec-helpers';
import type { LinkContext } from './types';

const TYPED = invalidIdFor('1985-03-15');
const records = recordOf(TYPED, false, insurance('pension', 'resident', { name: '李明' }));
const PERSON_KEY = person(household()).personKey;
const proposedTo: LinkContext = { linkedTo: { personKey: PERSON_KEY, linkId: 'l1', status: 'proposed' }, linked: [] };
const linkedFrom = (status: 'proposed' | 'confirmed'): LinkContext => ({ linkedTo: null, linked: [{ recordKey: records.personKey, linkId: 'l1', status, citizenIdAsSent: TYPED }] });

describe('rule id-linking v1', () => {
  it('given records under a mistyped ID with no link, when compared, then a survey target for the ID like any invalid one', () => {
    const decision = compare(records, DEFAULT_REGION_POLICY, AS_OF);
    expect(decision.outcome).toBe('needs-survey');
    expect(codes(decision)).toEqual(['INACCURATE_CITIZEN_ID', 'MISSING_PHONE', 'MISSING_ADDRESS']);
    expect(decision.reasons[0]).toMatchObject({ rule: 'inaccurate-information' });
  });

  it('given records linked to a person, when compared, then exempt as linked: no survey of their own', () => {
    const decision = compare(records, DEFAULT_REGION_POLICY, AS_OF, RULES, proposedTo);
    expect(decision.outcome).toBe('exempt');
    expect(codes(decision)).toEqual(['LINKED_TO_PERSON']);
    expect(hitOf(decision, 'LINKED_TO_PERSON')?.facts).toEqual([
      { source: 'record', field: 'linkedTo', value: `${PERSON_KEY.slice(0, 6)}********${PERSON_KEY.slice(-4)}`, asOf: null },
      { source: 'record', field: 'linkStatus', value: 'proposed', asOf: null },
    ]);
  });

  it('given a person with no pension and a proposed link to records with one, when compared, then not uninsured but INACCURATE_CITIZEN_ID to confirm', () => {
    const own = person(household(), insurance('medical', 'resident'));
    expect(codes(compare(own, DEFAULT_REGION_POLICY, AS_OF))).toEqual(['PARTLY_INSURED_NO_PENSION']);
    const decision = compare(mergeLinked(own, [records]), DEFAULT_REGION_POLICY, AS_OF, RULES, linkedFrom('proposed'));
    expect(decision.outcome).toBe('needs-survey');
    expect(codes(decision)).toEqual(['INACCURATE_CITIZEN_ID']);
    expect(decision.reasons[0]).toMatchObject({ rule: 'id-linking', ruleVersion: 1 });
    expect(hitOf(decision, 'INACCURATE_CITIZEN_ID')?.facts).toEqual([{ source: 'record', field: 'linked record', value: `${TYPED.slice(0, 6)}********${TYPED.slice(-4)}`, asOf: null }]);
    expect(decision.coverage[0]).toMatchObject({ insuranceType: 'pension', status: 'insured-here' });
  });

  it('given the link confirmed, when compared, then registered: the correction is settled', () => {
    const own = person(household(), insurance('medical', 'resident'));
    expect(codes(compare(mergeLinked(own, [records]), DEFAULT_REGION_POLICY, AS_OF, RULES, linkedFrom('confirmed')))).toEqual(['COMPLETE']);
  });
});
