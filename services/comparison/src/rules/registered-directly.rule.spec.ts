import { approvedForm, decide, hitCodes, household, insurance, person } from './spec-helpers';

describe('rule registered-directly v1: COMPLETE', () => {
  it('given complete, accurate information and active pension and medical, when compared, then registered directly on the covering entries', () => {
    const decision = decide(person(household(), insurance('pension', 'employee'), insurance('medical', 'employee'), insurance('unemployment', 'single')));
    expect(decision.outcome).toBe('registered');
    expect(decision.reasons).toEqual([
      {
        code: 'COMPLETE',
        rule: 'registered-directly',
        ruleVersion: 1,
        detail: 'complete and accurate: social-insurance pension:employee:440981=active; social-insurance medical:employee:440981=active',
      },
    ]);
    expect(hitCodes(decision)).toEqual(['COMPLETE']);
  });

  it('given the insurance came from an approved form, when compared, then registered with the survey as source', () => {
    const form = approvedForm({
      insurance: [
        { insuranceType: 'pension', scheme: 'resident', status: 'active', region: '440981' },
        { insuranceType: 'medical', scheme: 'resident', status: 'active', region: '440981' },
      ],
    });
    const decision = decide(person(household(), form));
    expect(decision.hits[0].facts.map((f) => f.source)).toEqual(['survey', 'survey']);
  });

  it('given any other rule fires, when compared, then COMPLETE does not', () => {
    expect(hitCodes(decide(person(household())))).toEqual(['UNINSURED']);
  });
});
