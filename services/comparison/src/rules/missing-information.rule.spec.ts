import { approvedForm, codes, covered, decide, hitOf, household, insurance, person } from './spec-helpers';

describe('rule missing-information v1', () => {
  describe('MISSING_PHONE', () => {
    it('given no source gives a phone, when compared, then needs survey with MISSING_PHONE', () => {
      const decision = decide(person(household({ phone: undefined }), ...covered()));
      expect(decision.outcome).toBe('needs-survey');
      expect(decision.reasons).toEqual([
        { code: 'MISSING_PHONE', rule: 'missing-information', ruleVersion: 1, detail: 'no source and no approved form gives a phone: policy requirePhone=true; record phone=none' },
      ]);
    });

    it('given only social insurance has a phone, when compared, then it does not fire', () => {
      expect(decide(person(household({ phone: undefined }), insurance('pension', 'resident', { phone: '13700000000' }), insurance('medical', 'resident'))).outcome).toBe('registered');
    });

    it('given an approved form gives the phone, when compared, then it does not fire', () => {
      expect(decide(person(household({ phone: undefined }), ...covered(), approvedForm())).outcome).toBe('registered');
    });

    it('given the region does not require a phone, when compared, then it does not fire', () => {
      expect(hitOf(decide(person(household({ phone: undefined }), ...covered()), { requirePhone: false }), 'MISSING_PHONE')).toBeUndefined();
    });
  });

  describe('MISSING_ADDRESS', () => {
    it('given no source gives an address, when compared, then MISSING_ADDRESS', () => {
      expect(codes(decide(person(household({ address: undefined }), ...covered())))).toEqual(['MISSING_ADDRESS']);
    });

    it('given social insurance has an address, or an approved form a residence, when compared, then it does not fire', () => {
      expect(decide(person(household({ address: undefined }), insurance('pension', 'resident', { address: '某地' }), insurance('medical', 'resident'))).outcome).toBe('registered');
      expect(decide(person(household({ address: undefined }), ...covered(), approvedForm())).outcome).toBe('registered');
    });

    it('given the region does not require an address, when compared, then it does not fire', () => {
      expect(decide(person(household({ address: undefined }), ...covered()), { requireAddress: false }).outcome).toBe('registered');
    });
  });

  it('given neither phone nor address, when compared, then PHONE before ADDRESS', () => {
    expect(codes(decide(person(household({ phone: undefined, address: undefined }), ...covered())))).toEqual(['MISSING_PHONE', 'MISSING_ADDRESS']);
  });
});
