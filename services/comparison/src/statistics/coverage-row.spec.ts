import type { CollectedData, RegistrationRecord } from '@qmcb/domain';
import { covered, death, household, insurance, person, recordOf, tax } from '../rules/spec-helpers';
import { coverageRowOf, sameCoverageRow } from './coverage-row';

const decided = (record: RegistrationRecord, outcome: 'registered' | 'needs-survey' = 'registered'): RegistrationRecord => ({
  ...record,
  comparison: {
    outcome,
    previousOutcome: 'none',
    reasons: [],
    coverage: [
      { insuranceType: 'pension', status: 'insured-elsewhere', reason: null, regions: ['440982', '440983'], rule: 'coverage-status', ruleVersion: 1, detail: '' },
      { insuranceType: 'medical', status: 'not-insured', reason: 'LAPSED', regions: [], rule: 'coverage-status', ruleVersion: 1, detail: '' },
    ],
    decidedAt: '2026-11-01T00:00:00.000Z',
    eventId: 'e',
  },
});

describe('coverageRowOf', () => {
  it('given a household-registered person with a decision, then their village, the population, the outcome and each recorded status', () => {
    const record = decided(person(household(), ...covered()));
    expect(coverageRowOf(record)).toEqual({
      personKey: record.personKey,
      village: '440981002001',
      division: '440981002001',
      inPopulation: true,
      birthDate: '1985-03-15',
      outcome: 'registered',
      surveyedReason: null,
      coverage: {
        pension: { status: 'insured-elsewhere', reason: null, regions: '440982,440983' },
        medical: { status: 'not-insured', reason: 'LAPSED', regions: null },
        unemployment: { status: null, reason: null, regions: null },
        'work-injury': { status: null, reason: null, regions: null },
        maternity: { status: null, reason: null, regions: null },
      },
    });
  });

  it.each([
    ['moved out', household({ status: 'moved-out' })],
    ['deceased', household({ status: 'deceased' })],
  ])('given someone %s, then counted but outside the population', (_what, fact) => {
    expect(coverageRowOf(person(fact))).toMatchObject({ inPopulation: false, village: '440981002001' });
  });

  it('given a death record beside a normal household, then outside the population; military and prison stay inside', () => {
    expect(coverageRowOf(person(household(), death()))?.inPopulation).toBe(false);
    expect(coverageRowOf(person(household({ status: 'military' })))?.inPopulation).toBe(true);
    expect(coverageRowOf(person(household({ status: 'prison' })))?.inPopulation).toBe(true);
  });

  it('given no household and no decision (a tax record only), then no row; a non-local insured person decided, a row outside the population', () => {
    expect(coverageRowOf(person(tax()))).toBeNull();
    expect(coverageRowOf(decided(person(insurance('pension', 'employee'))))).toMatchObject({ village: null, division: '440981', inPopulation: false });
  });

  it('given an impossible birth date, then none rather than a row the database refuses', () => {
    expect(coverageRowOf(recordOf('44098119850315123X', false, household({ birthDate: '1985-02-30' })))?.birthDate).toBeNull();
  });

  it('given the reason the person gave for not being insured (approved), then that reason', () => {
    const record = person(household());
    const collected = { notInsuredReason: 'cannot-afford' } as CollectedData;
    expect(coverageRowOf({ ...record, collected })?.surveyedReason).toBe('cannot-afford');
  });

  it('tells rows apart by anything counted, not by the person key', () => {
    const a = coverageRowOf(decided(person(household())));
    const b = coverageRowOf(decided(person(household()), 'needs-survey'));
    expect(sameCoverageRow(a, a)).toBe(true);
    expect(sameCoverageRow(a, b)).toBe(false);
    expect(sameCoverageRow(a, null)).toBe(false);
    expect(sameCoverageRow(null, null)).toBe(true);
  });
});
