import { HouseholdFacts } from '@qmcb/contracts';
import { unknownDivisionViolation } from './source-record-event';

const household = (villageCode: string): HouseholdFacts =>
  Object.assign(new HouseholdFacts(), { kind: 'household' as const, name: '李明', villageCode, status: 'normal' as const });

describe('unknownDivisionViolation', () => {
  it('accepts a real village code (高州市 石仔岭街道 南宫居委会)', () => {
    expect(unknownDivisionViolation(household('440981002001'))).toBeNull();
  });

  it('names the field and the rule for a well-formed code that is no village', () => {
    expect(unknownDivisionViolation(household('440981999999'), 'records.2.')).toEqual({
      field: 'records.2.facts.villageCode',
      rule: 'knownDivision',
      message: 'records.2.facts.villageCode 440981999999 is not a known village/community code',
    });
  });

  it('has nothing to say of facts without a village code', () => {
    expect(unknownDivisionViolation({ kind: 'death', deathDate: '2026-01-01' })).toBeNull();
  });
});
