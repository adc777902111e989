import * as fc from 'fast-check';
import { DEFAULT_REGION_POLICY } from '@qmcb/domain';
import type { RegionPolicy } from '@qmcb/domain';
import { chinaDate, compare } from '../rules';
import { business, covered, custody, enrolment, household, insurance, recordOf, tax, citizenIdFor } from '../rules/spec-helpers';
import type { BusinessFact, SourceFact } from '../rules/spec-helpers';
import { birthdayAt, nextRecompare, startOfChinaDay } from './next-due';

const policy: RegionPolicy = DEFAULT_REGION_POLICY;

describe('nextRecompare: the next day a decision may change by itself', () => {
  it('given someone turning 60 next March, when asked in November, then the due day is the 60th birthday (pensionAgeCheck and retirementAge)', () => {
    const record = recordOf(citizenIdFor('1966-03-15'), true, household(), insurance('medical', 'resident'));
    expect(nextRecompare(record, policy, '2025-11-01')).toEqual({ dueDate: '2026-03-15', because: ['age 60 (retirementAge)', 'age 60 (pensionAgeCheck)'] });
    // On the day itself the next one is not that day again: nothing is ahead for the ages.
    expect(nextRecompare(record, policy, '2026-03-15')).toBeNull();
  });

  it('given a region whose ages differ, then its ages count', () => {
    const record = recordOf(citizenIdFor('2010-05-01'), true, household());
    expect(nextRecompare(record, { ...policy, pensionMinAge: 18 }, '2026-01-01')).toEqual({ dueDate: '2028-05-01', because: ['age 18 (pensionMinAge)'] });
  });

  it('given a student, a prisoner with a release date and an employer closing later, then the earliest of their days', () => {
    const record = recordOf(
      citizenIdFor('1960-01-01'),
      true,
      household(),
      enrolment({ expectedGraduationYear: 2027 }),
      custody({ releaseDate: '2027-03-01' }),
      business('employer.closed', { department: 'tax', businessId: 'C-1', employerCreditCode: '91440981MA4UJ1234X', effectiveDate: '2026-12-31' }),
    );
    expect(nextRecompare(record, policy, '2026-11-01')).toEqual({ dueDate: '2026-12-31', because: ['employer closes'] });
    expect(nextRecompare(record, policy, '2026-12-31')).toEqual({ dueDate: '2027-03-01', because: ['release date'] });
    expect(nextRecompare(record, policy, '2027-03-01')).toEqual({ dueDate: '2027-07-01', because: ['school year of 2027 ends'] });
  });

  it('knows 29 February birthdays come on 1 March in common years', () => {
    expect(birthdayAt('2008-02-29', 16)).toBe('2024-02-29');
    expect(birthdayAt('2008-02-29', 60)).toBe('2068-02-29');
    expect(birthdayAt('2007-02-28', 60)).toBe('2067-02-28');
    expect(birthdayAt('2008-02-29', 17)).toBe('2025-03-01');
  });

  it('takes the day in China', () => {
    expect(startOfChinaDay('2026-03-15')).toBe('2026-03-14T16:00:00.000Z');
    expect(chinaDate(startOfChinaDay('2026-03-15'))).toBe('2026-03-15');
  });

  const day = (offset: number, from = '2020-01-01'): string => new Date(Date.parse(`${from}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);
  const anyBirth = fc.integer({ min: 0, max: 365 * 80 }).map((n) => day(n, '1940-01-01'));
  const anyFacts: fc.Arbitrary<(SourceFact | BusinessFact)[]> = fc
    .record({
      insured: fc.constantFrom('none', 'medical', 'both'),
      student: fc.option(fc.integer({ min: 2020, max: 2032 }), { nil: undefined }),
      release: fc.option(fc.integer({ min: 0, max: 3650 }).map((n) => day(n)), { nil: undefined }),
      employed: fc.boolean(),
      closes: fc.option(fc.integer({ min: 0, max: 3650 }).map((n) => day(n)), { nil: undefined }),
    })
    .map(({ insured, student, release, employed, closes }) => [
      household(),
      ...(insured === 'both' ? covered() : insured === 'medical' ? [insurance('medical', 'resident')] : []),
      ...(student !== undefined ? [enrolment({ expectedGraduationYear: student })] : []),
      ...(release !== undefined ? [custody({ releaseDate: release })] : []),
      ...(employed ? [tax({ employerCreditCode: '91440981MA4UJ1234X' })] : []),
      ...(closes !== undefined
        ? [business('employer.closed', { department: 'tax', businessId: 'C', employerCreditCode: '91440981MA4UJ1234X', effectiveDate: closes }, '2021-01-01T00:00:00.000Z')]
        : []),
    ]);

  const anyPolicy = fc.constantFrom<RegionPolicy>(policy, { ...policy, pensionMinAge: 18, retirementAge: 63, pensionAgeCheck: 65 });

  it('holds the decision still from the asked day up to the day before the due day (the rules read no other date)', () => {
    fc.assert(
      fc.property(anyPolicy, anyBirth, anyFacts, fc.integer({ min: 0, max: 3650 }), fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), (policy, birth, facts, from, picks) => {
        const record = recordOf(citizenIdFor(birth), true, ...facts);
        const asOfDate = day(from);
        const due = nextRecompare(record, policy, asOfDate);
        const decided = (date: string): string => {
          const d = compare(record, policy, startOfChinaDay(date));
          return `${d.outcome}:${d.reasons.map((r) => r.code).join(',')}`;
        };
        const first = decided(asOfDate);
        // Without a due day, up to ten years ahead; else up to the day before it.
        const span = due ? Math.round((Date.parse(due.dueDate) - Date.parse(asOfDate)) / 86_400_000) - 1 : 3650;
        for (const pick of [...picks, span]) {
          if (span <= 0) break;
          expect(decided(day(pick % (span + 1), asOfDate))).toBe(first);
        }
      }),
      { numRuns: 400, seed: 9 },
    );
  });
});
