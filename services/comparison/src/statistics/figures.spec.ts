import { INSURANCE_TYPES } from '@qmcb/contracts';
import type { CoverageReason, CoverageStatus, InsuranceType } from '@qmcb/contracts';
import { childrenOf } from '@qmcb/domain';
import { bornBy, figureName, figuresOf, parseFigure, ratio, reportOf } from './figures';
import type { CountRow } from './figures';

type Statuses = Partial<Record<InsuranceType, [CoverageStatus | null, CoverageReason | null]>>;
const [TOWNSHIP, OTHER] = childrenOf('440981').map((d) => d.code) as [string, string];

function rows(n: number, statuses: Statuses, extra: Partial<CountRow> = {}): CountRow {
  const all = Object.fromEntries(INSURANCE_TYPES.map((t) => {
    const given = statuses[t];
    return [t, given ? { status: given[0], reason: given[1] } : { status: 'not-due', reason: 'NOT_EMPLOYED' }];
  })) as CountRow['statuses'];
  return { area: TOWNSHIP, outcome: 'registered', surveyedReason: null, aged: false, n, statuses: all, ...extra };
}

describe('figures', () => {
  const county: CountRow[] = [
    rows(90, { pension: ['insured-here', null], medical: ['insured-here', null] }),
    rows(3, { pension: ['insured-elsewhere', null], medical: ['insured-elsewhere', null] }, { area: OTHER }),
    rows(4, { pension: ['not-insured', 'NEVER_ENROLLED'], medical: ['insured-here', null] }, { outcome: 'needs-survey', aged: true }),
    rows(2, { pension: ['not-insured', 'LAPSED'], medical: ['not-insured', 'LAPSED'] }, { outcome: 'needs-survey', area: OTHER, surveyedReason: 'cannot-afford' }),
    rows(5, { pension: ['exempt', 'STUDENT'], medical: ['insured-here', null] }, { outcome: 'exempt' }),
    rows(1, { pension: ['exempt', 'MILITARY'], medical: ['exempt', 'MILITARY'] }, { outcome: 'exempt' }),
    rows(6, { pension: ['not-due', 'UNDER_AGE'], medical: ['insured-here', null] }),
    rows(1, { pension: [null, null], medical: [null, null] }, { outcome: 'none' }),
  ];

  it('given the counts of a county, then the population, registration, coverage per type with reasons, and 60+ without pension', () => {
    const f = figuresOf('440981', county, { coverageTargets: { pension: 0.97, medical: 0.97 } });
    expect(f).toMatchObject({ division: '440981', name: '高州市', level: 'county', population: 112, registered: 105, agedWithoutPension: 4 });
    expect(f.registration).toEqual(ratio(105, 112));
    expect(f.types.pension).toEqual({
      due: 99, insured: 93, insuredHere: 90, insuredElsewhere: 3, notInsured: 6, notDue: 6, exempt: 6, undecided: 1,
      coverage: { numerator: 93, denominator: 99, rate: 0.939394 },
      target: 0.97, gap: 0.030606, shortOfTarget: 4,
      notInsuredByReason: { NEVER_ENROLLED: 4, LAPSED: 2 },
      notInsuredBySurveyedReason: {
        unwilling: 0, 'cannot-afford': 2, 'insured-elsewhere': 0, 'not-aware': 0, 'employer-not-enrolled': 0, student: 0, military: 0, 'in-prison': 0, 'too-old': 0, other: 0, 'not-surveyed': 4,
      },
      notDueByReason: { UNDER_AGE: 6, NOT_EMPLOYED: 0, NOT_ASSESSED: 0 },
      exemptByReason: { DECEASED: 0, MOVED_OUT: 0, MILITARY: 1, PRISONER: 0, STUDENT: 5, LINKED: 0 },
    });
    expect(f.types.medical).toMatchObject({ due: 110, insured: 108, notInsured: 2, coverage: { rate: 0.981818 }, target: 0.97, gap: -0.011818, shortOfTarget: 0 });
    expect(f.types.unemployment).toMatchObject({ due: 0, coverage: { numerator: 0, denominator: 0, rate: null }, target: null, gap: null, shortOfTarget: null, notDue: 112 });
  });

  it('given the same counts, then the report lists every township of the county, empty ones with zeros, in code order', () => {
    const { total, areas } = reportOf('440981', county, { coverageTargets: {} });
    const townships = childrenOf('440981').map((d) => d.code);
    expect(areas.map((a) => a.division)).toEqual(townships);
    expect(areas.find((a) => a.division === TOWNSHIP)?.population).toBe(107);
    expect(areas.find((a) => a.division === OTHER)?.population).toBe(5);
    expect(areas.reduce((sum, a) => sum + a.population, 0)).toBe(total.population);
    expect(areas.filter((a) => a.population === 0)).toHaveLength(townships.length - 2);

    const unknown = reportOf('440981', [rows(7, {}, { area: '440981999' })], { coverageTargets: {} }).areas;
    expect(unknown.map((a) => a.division)).toEqual([...townships, '440981999']);
  });

  it('given a village, then the total only', () => {
    expect(reportOf('440981001001', [], { coverageTargets: {} })).toMatchObject({ total: { population: 0, level: 'village' }, areas: [] });
  });

  it.each([
    ['population', { kind: 'population' }],
    ['aged-without-pension', { kind: 'aged-without-pension' }],
    ['pension:not-insured', { kind: 'type', type: 'pension', status: 'not-insured', reason: null }],
    ['work-injury:not-due:NOT_EMPLOYED', { kind: 'type', type: 'work-injury', status: 'not-due', reason: 'NOT_EMPLOYED' }],
    ['medical:due', { kind: 'type', type: 'medical', status: 'due', reason: null }],
    ['pension:newly-covered', { kind: 'change', type: 'pension', direction: 'newly-covered' }],
    ['medical:not-insured-because:cannot-afford', { kind: 'surveyed', type: 'medical', reason: 'cannot-afford' }],
    ['medical:not-insured-because:not-surveyed', { kind: 'surveyed', type: 'medical', reason: 'not-surveyed' }],
  ])('parses the figure %s, and names it back', (name, figure) => {
    expect(parseFigure(name)).toEqual(figure);
    expect(figureName(figure as never)).toBe(name);
  });

  it.each([
    ['dental:due', 'figure must start with population, registered, not-registered, aged-without-pension or an insurance type'],
    ['pension:covered', 'the status of a figure must be one of due, insured, insured-here'],
    ['pension:exempt:LAPSED', 'the reason of exempt must be one of DECEASED, MOVED_OUT, MILITARY, PRISONER, STUDENT, LINKED'],
    ['pension:insured:LAPSED', 'insured takes no reason'],
    ['pension:newly-covered:LAPSED', 'newly-covered takes no reason'],
    ['pension', 'figure must be <type>:<status>'],
    ['pension:not-insured-because:poor', 'the reason of not-insured-because must be one of unwilling, cannot-afford'],
  ])('refuses the figure %s with a clear message', (name, message) => {
    expect(parseFigure(name)).toEqual(expect.stringContaining(message));
  });

  it('gives the latest birth date of someone of an age on a date, 29 February counted as the rules count it', () => {
    expect(bornBy('2026-11-01', 60)).toBe('1966-11-01');
    expect(bornBy('2028-02-29', 60)).toBe('1968-02-29');
    expect(bornBy('2028-02-29', 61)).toBe('1967-02-28');
  });
});
