import type { InsuranceEntry } from './registration-record';
import { filingDivision, surveyVillage } from './record-divisions';

const entry = (region: string, status: InsuranceEntry['status']): InsuranceEntry =>
  ({ insuranceType: 'pension', scheme: 'employee', status, region }) as InsuranceEntry;

describe('the divisions of a record', () => {
  describe('filingDivision: where a record is filed for scope', () => {
    it('given a household village, then that village, whatever else is known', () => {
      expect(filingDivision({ hukouDivision: '440981002001', residenceDivision: '440103001001', insurance: {} })).toBe('440981002001');
    });

    it('given no household but a residence, then the residence village', () => {
      expect(filingDivision({ hukouDivision: null, residenceDivision: '440103001001', insurance: {} })).toBe('440103001001');
    });

    it('given only insurance, then the lowest county with an active entry; ended entries do not file anyone', () => {
      const insurance = { a: entry('440982', 'active'), b: entry('440981', 'active'), c: entry('110101', 'ended') } as never;
      expect(filingDivision({ hukouDivision: null, residenceDivision: null, insurance })).toBe('440981');
    });

    it('given nothing at all, then null', () => {
      expect(filingDivision({ hukouDivision: null, residenceDivision: null, insurance: { a: entry('440981', 'ended') } as never })).toBeNull();
    });
  });

  describe('surveyVillage: where a target is visited', () => {
    const both = { hukouDivision: '440981002001', residenceDivision: '440103001001' };

    it('given the default policy (household), then the household village', () => {
      expect(surveyVillage(both, { surveyBy: 'household' })).toBe('440981002001');
    });

    it('given a region that surveys by residence, then the residence village', () => {
      expect(surveyVillage(both, { surveyBy: 'residence' })).toBe('440103001001');
    });

    it('given the policy place unknown, then the other one', () => {
      expect(surveyVillage({ hukouDivision: null, residenceDivision: '440103001001' }, { surveyBy: 'household' })).toBe('440103001001');
      expect(surveyVillage({ hukouDivision: '440981002001', residenceDivision: null }, { surveyBy: 'residence' })).toBe('440981002001');
      expect(surveyVillage({ hukouDivision: null, residenceDivision: null }, { surveyBy: 'residence' })).toBeNull();
    });
  });
});
