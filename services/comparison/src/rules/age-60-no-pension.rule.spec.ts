import { aged, codes, decide, hitOf, household, insurance } from './spec-helpers';

describe('rule age-60-no-pension v1: AGE_60_NO_PENSION', () => {
  it('given 59 without a pension, when compared, then it does not fire', () => {
    expect(hitOf(decide(aged(59, household())), 'AGE_60_NO_PENSION')).toBeUndefined();
  });

  it('given 60 without any insurance, when compared, then UNINSURED then AGE_60_NO_PENSION', () => {
    const decision = decide(aged(60, household()));
    expect(codes(decision)).toEqual(['UNINSURED', 'AGE_60_NO_PENSION']);
    expect(decision.reasons[1]).toMatchObject({ rule: 'age-60-no-pension', ruleVersion: 1 });
    expect(hitOf(decision, 'AGE_60_NO_PENSION')?.facts).toContainEqual({ source: 'record', field: 'age on 2026-11-01', value: 60, asOf: null });
  });

  it('given 75 with medical insurance only, when compared, then AGE_60_NO_PENSION', () => {
    expect(codes(decide(aged(75, household(), insurance('medical', 'resident'))))).toEqual(['AGE_60_NO_PENSION']);
  });

  it('given 60 with an active pension, when compared, then it does not fire', () => {
    expect(decide(aged(60, household(), insurance('pension', 'resident', { receivingBenefit: true }), insurance('medical', 'resident'))).outcome).toBe('registered');
  });

  it('given 60 with a suspended pension, when compared, then it fires', () => {
    expect(codes(decide(aged(61, household(), insurance('pension', 'resident', { status: 'suspended' }), insurance('medical', 'resident'))))).toEqual(['AGE_60_NO_PENSION']);
  });

  it('given the region checks from 65, when a 64-year-old has no pension, then it does not fire; at 65 it does', () => {
    expect(hitOf(decide(aged(64, household(), insurance('medical', 'resident')), { pensionAgeCheck: 65, retirementAge: 65 }), 'AGE_60_NO_PENSION')).toBeUndefined();
    expect(codes(decide(aged(65, household(), insurance('medical', 'resident')), { pensionAgeCheck: 65, retirementAge: 65 }))).toEqual(['AGE_60_NO_PENSION']);
  });
});
