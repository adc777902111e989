import { aged, codes, decide, hitOf, household, insurance, person } from './spec-helpers';

describe('rule uninsured v1: UNINSURED', () => {
  it('given no insurance at all, when compared, then needs survey with UNINSURED', () => {
    const decision = decide(person(household()));
    expect(decision.outcome).toBe('needs-survey');
    expect(decision.reasons).toEqual([
      { code: 'UNINSURED', rule: 'uninsured', ruleVersion: 1, detail: 'no active pension and no active medical insurance: social-insurance pension=none active; social-insurance medical=none active' },
    ]);
  });

  it('given a suspended pension and an ended medical insurance, when compared, then UNINSURED (neither counts as active) with both entries as facts', () => {
    const decision = decide(person(household(), insurance('pension', 'employee', { status: 'suspended' }), insurance('medical', 'employee', { status: 'ended' })));
    expect(codes(decision)).toEqual(['UNINSURED']);
    expect(hitOf(decision, 'UNINSURED')?.facts.slice(2)).toEqual([
      { source: 'social-insurance', field: 'medical:employee:440981', value: 'ended', asOf: expect.any(String) },
      { source: 'social-insurance', field: 'pension:employee:440981', value: 'suspended', asOf: expect.any(String) },
    ]);
  });

  it('given only an active medical insurance, when compared, then not UNINSURED', () => {
    expect(hitOf(decide(person(household(), insurance('medical', 'resident'))), 'UNINSURED')).toBeUndefined();
  });

  it('given only an active pension, when compared, then not UNINSURED', () => {
    expect(hitOf(decide(person(household(), insurance('pension', 'resident'))), 'UNINSURED')).toBeUndefined();
  });

  it('given only unemployment and work-injury insurance, when compared, then UNINSURED', () => {
    expect(codes(decide(person(household(), insurance('unemployment', 'single'), insurance('work-injury', 'single'))))).toEqual(['UNINSURED']);
  });

  it('given a newborn without insurance, when compared, then UNINSURED: medical is due for everyone', () => {
    expect(codes(decide(aged(0, household())))).toEqual(['UNINSURED']);
  });

  it('given only insurance elsewhere reported by the higher registry, when compared, then not UNINSURED', () => {
    const decision = decide(person(household(), insurance('pension', 'resident', { region: '440103' }, 'higher-registry'), insurance('medical', 'resident', { region: '440103' }, 'higher-registry')));
    expect(decision.outcome).toBe('registered');
  });

  it('given the active pension was ended by a newer record, when compared, then UNINSURED', () => {
    const decision = decide(
      person(household(), insurance('pension', 'resident', {}, 'social-insurance', '2026-01-01T00:00:00Z'), insurance('pension', 'resident', { status: 'ended' }, 'social-insurance', '2026-02-01T00:00:00Z')),
    );
    expect(codes(decision)).toEqual(['UNINSURED']);
  });
});
