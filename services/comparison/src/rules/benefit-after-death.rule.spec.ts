import { codes, covered, death, decide, hitOf, household, insurance, person } from './spec-helpers';

describe('rule benefit-after-death v1: BENEFIT_AFTER_DEATH', () => {
  it('given a deceased household status and a pension still receiving benefit, when compared, then needs survey with BENEFIT_AFTER_DEATH only', () => {
    const record = person(
      household({ status: 'deceased', phone: undefined }),
      insurance('pension', 'employee', { receivingBenefit: true }),
      insurance('pension', 'resident'),
      insurance('medical', 'resident'),
    );
    const decision = decide(record);
    expect(decision.outcome).toBe('needs-survey');
    expect(codes(decision)).toEqual(['BENEFIT_AFTER_DEATH']);
    expect(decision.reasons[0]).toMatchObject({ rule: 'benefit-after-death', ruleVersion: 1 });
    expect(hitOf(decision, 'BENEFIT_AFTER_DEATH')?.facts).toEqual([
      { source: 'public-security', field: 'hukouStatus', value: 'deceased', asOf: expect.any(String) },
      { source: 'social-insurance', field: 'pension:employee:440981.receivingBenefit', value: true, asOf: expect.any(String) },
    ]);
  });

  it('given a death record from civil affairs and a benefit status of receiving, when compared, then it fires', () => {
    const decision = decide(person(household(), ...covered(), insurance('medical', 'resident', { benefitStatus: 'receiving' }), death({ deathDate: '2026-05-03' })));
    expect(codes(decision)).toEqual(['BENEFIT_AFTER_DEATH']);
    expect(hitOf(decision, 'BENEFIT_AFTER_DEATH')?.detail).toBe(
      'deceased but a benefit is still being received: civil-affairs deathDate=2026-05-03; social-insurance medical:resident:440981.benefitStatus=receiving',
    );
  });

  it('given a benefit that ended or stopped with the death, when compared, then it does not fire and the person is exempt as deceased', () => {
    const decision = decide(person(household({ status: 'deceased' }), insurance('pension', 'resident', { receivingBenefit: false, benefitStatus: 'stopped' })));
    expect(hitOf(decision, 'BENEFIT_AFTER_DEATH')).toBeUndefined();
    expect(decision.outcome).toBe('exempt');
    expect(codes(decision)).toEqual(['EXEMPT_DECEASED']);
  });

  it('given a living person receiving a pension, when compared, then it does not fire', () => {
    const decision = decide(person(household(), insurance('pension', 'resident', { receivingBenefit: true, benefitStatus: 'receiving' }), insurance('medical', 'resident')));
    expect(decision.outcome).toBe('registered');
  });

  it('given a deceased person with a benefit, when a higher registry reports it paid elsewhere, then it fires on that entry too', () => {
    const decision = decide(person(household(), death(), insurance('pension', 'employee', { region: '440103', receivingBenefit: true }, 'higher-registry')));
    expect(hitOf(decision, 'BENEFIT_AFTER_DEATH')?.facts).toContainEqual(expect.objectContaining({ source: 'higher-registry', field: 'pension:employee:440103.receivingBenefit' }));
  });
});
