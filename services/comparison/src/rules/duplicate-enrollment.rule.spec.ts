import { codes, decide, hitCodes, hitOf, household, insurance, person } from './spec-helpers';

describe('rule duplicate-enrollment v1', () => {
  describe('DUPLICATE_PENSION', () => {
    it('given active employee and resident pensions, when compared, then duplicate with DUPLICATE_PENSION on both entries', () => {
      const decision = decide(person(household(), insurance('pension', 'employee'), insurance('pension', 'resident'), insurance('medical', 'employee')));
      expect(decision.outcome).toBe('duplicate');
      expect(decision.reasons).toEqual([
        { code: 'DUPLICATE_PENSION', rule: 'duplicate-enrollment', ruleVersion: 1, detail: 'active pension in 2 schemes: social-insurance pension:employee:440981=active; social-insurance pension:resident:440981=active' },
      ]);
      expect(hitOf(decision, 'DUPLICATE_PENSION')?.facts.map((f) => f.field)).toEqual(['pension:employee:440981', 'pension:resident:440981']);
    });

    it.each(['suspended', 'ended'] as const)('given an employee pension and a %s resident pension, when compared, then no duplicate', (status) => {
      const decision = decide(person(household(), insurance('pension', 'employee'), insurance('pension', 'resident', { status }), insurance('medical', 'employee')));
      expect(decision.outcome).toBe('registered');
    });

    it('given the second scheme reported by the higher registry in another county, when compared, then DUPLICATE_PENSION (not DUPLICATE_REGION: two schemes)', () => {
      const decision = decide(person(household(), insurance('pension', 'employee'), insurance('pension', 'resident', { region: '440103' }, 'higher-registry'), insurance('medical', 'employee')));
      expect(codes(decision)).toEqual(['DUPLICATE_PENSION']);
    });
  });

  describe('DUPLICATE_MEDICAL', () => {
    it('given active employee and resident medical insurance, when compared, then DUPLICATE_MEDICAL', () => {
      const decision = decide(person(household(), insurance('pension', 'employee'), insurance('medical', 'employee'), insurance('medical', 'resident')));
      expect(codes(decision)).toEqual(['DUPLICATE_MEDICAL']);
    });

    it('given one medical scheme active and the other ended, when compared, then no duplicate', () => {
      expect(decide(person(household(), insurance('pension', 'employee'), insurance('medical', 'employee'), insurance('medical', 'resident', { status: 'ended' }))).outcome).toBe('registered');
    });
  });

  describe('DUPLICATE_REGION', () => {
    it('given the same scheme active here and elsewhere, when compared, then DUPLICATE_REGION only', () => {
      const decision = decide(person(household(), insurance('pension', 'resident'), insurance('pension', 'resident', { region: '440103' }, 'higher-registry'), insurance('medical', 'resident')));
      expect(decision.outcome).toBe('duplicate');
      expect(codes(decision)).toEqual(['DUPLICATE_REGION']);
      expect(hitOf(decision, 'DUPLICATE_REGION')?.facts).toEqual([
        { source: 'higher-registry', field: 'pension:resident:440103', value: 'active', asOf: expect.any(String) },
        { source: 'social-insurance', field: 'pension:resident:440981', value: 'active', asOf: expect.any(String) },
      ]);
    });

    it('given the same scheme in two regions but one suspended, when compared, then no duplicate', () => {
      const decision = decide(person(household(), insurance('pension', 'resident'), insurance('pension', 'resident', { region: '440103', status: 'suspended' }, 'higher-registry'), insurance('medical', 'resident')));
      expect(decision.outcome).toBe('registered');
    });

    it('given unemployment insurance active in two regions, when compared, then DUPLICATE_REGION for it', () => {
      const decision = decide(person(household(), insurance('pension', 'employee'), insurance('medical', 'employee'), insurance('unemployment', 'single'), insurance('unemployment', 'single', { region: '440902' })));
      expect(codes(decision)).toEqual(['DUPLICATE_REGION']);
      expect(hitOf(decision, 'DUPLICATE_REGION')?.detail).toMatch(/^active in two regions: unemployment:single:/);
    });
  });

  describe('several at once', () => {
    it('given two pension schemes, one of them in two regions, and two medical schemes, then PENSION, MEDICAL, REGION in that order, each once', () => {
      const decision = decide(
        person(
          household(),
          insurance('pension', 'employee'),
          insurance('pension', 'employee', { region: '440902' }),
          insurance('pension', 'resident'),
          insurance('medical', 'resident'),
          insurance('medical', 'employee'),
        ),
      );
      expect(codes(decision)).toEqual(['DUPLICATE_PENSION', 'DUPLICATE_MEDICAL', 'DUPLICATE_REGION']);
      expect(hitCodes(decision)).toEqual(['DUPLICATE_PENSION', 'DUPLICATE_MEDICAL', 'DUPLICATE_REGION']);
    });

    it('given a duplicate and survey reasons, when compared, then duplicate with the duplicate codes first, then the survey codes', () => {
      const decision = decide(person(household({ phone: undefined, sex: 'female' }), insurance('medical', 'employee'), insurance('medical', 'resident'), { department: 'tax', facts: { kind: 'tax', employed: true } }));
      expect(decision.outcome).toBe('duplicate');
      expect(codes(decision)).toEqual(['DUPLICATE_MEDICAL', 'INACCURATE_SEX', 'MISSING_PHONE', 'PARTLY_INSURED_EMPLOYEE', 'PARTLY_INSURED_NO_PENSION']);
    });
  });
});
