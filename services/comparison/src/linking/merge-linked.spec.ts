import { household, insurance, invalidIdFor, person, recordOf } from '../rules/spec-helpers';
import { mergeLinked } from './merge-linked';

describe('mergeLinked', () => {
  const linked = recordOf(invalidIdFor('1985-03-15'), false, insurance('pension', 'resident', { name: '李敏', birthDate: '1985-03-16', phone: '13911112222' }, 'social-insurance', '2026-10-05T00:00:00.000Z'));

  it('given a person without pension and linked records with one, then the pension counts as theirs, saying nothing of the identity', () => {
    const own = person(household(), insurance('medical', 'resident'));
    const merged = mergeLinked(own, [linked]);
    expect(Object.keys(merged.insurance)).toEqual(['medical:resident:440981', 'pension:resident:440981']);
    expect(merged.insurance['pension:resident:440981']).toMatchObject({ status: 'active', department: 'social-insurance', name: null, birthDate: null, phone: null, address: null, sex: null });
    expect({ ...merged, insurance: own.insurance }).toEqual(own);
  });

  it('given the person holds the same entry, then the newer stands, the person\'s own on a tie', () => {
    const older = person(household(), insurance('pension', 'resident', { status: 'ended' }, 'social-insurance', '2026-10-01T00:00:00.000Z'));
    expect(mergeLinked(older, [linked]).insurance['pension:resident:440981']?.status).toBe('active');
    const newer = person(household(), insurance('pension', 'resident', { status: 'ended' }, 'social-insurance', '2026-10-09T00:00:00.000Z'));
    expect(mergeLinked(newer, [linked]).insurance['pension:resident:440981']?.status).toBe('ended');
    const tie = person(household(), insurance('pension', 'resident', { status: 'suspended' }, 'social-insurance', '2026-10-05T00:00:00.000Z'));
    expect(mergeLinked(tie, [linked]).insurance['pension:resident:440981']?.status).toBe('suspended');
  });

  it('given no linked records, then the record itself', () => {
    const own = person(household());
    expect(mergeLinked(own, [])).toBe(own);
  });
});
