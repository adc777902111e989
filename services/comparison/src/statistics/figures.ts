import { COVERAGE_STATUSES, EXEMPT_REASONS, INSURANCE_TYPES, NOT_DUE_REASONS, NOT_INSURED_REASONS, NOT_INSURED_STATUS_REASONS, REASONS_BY_STATUS } from '@qmcb/contracts';
import type { CoverageReason, CoverageStatus, ExemptReason, InsuranceType, NotDueReason, NotInsuredReason, NotInsuredStatusReason, Outcome } from '@qmcb/contracts';
import { childrenOf, divisionLevel, findDivision } from '@qmcb/domain';
import type { RegionPolicy } from '@qmcb/domain';

/**
 * The statistics of procedure §27-§31 (docs/design/coverage-statistics.md), pure: figures from the
 * counts of the statistics rows, and the figures' names (each has a detail list).
 */

/** Registered (登记): the outcome needs nothing more, the record is complete and accurate or the person exempt. */
export const REGISTERED_OUTCOMES: readonly Outcome[] = ['registered', 'exempt'];
/** Insured (参保): here or elsewhere. */
export const INSURED_STATUSES: readonly CoverageStatus[] = ['insured-here', 'insured-elsewhere'];
/** Due (应参保): insured or not insured; not due and exempt people are outside the denominator. */
export const DUE_STATUSES: readonly CoverageStatus[] = ['insured-here', 'insured-elsewhere', 'not-insured'];

/** Statistics are asked for a county, a township or a village (6, 9 or 12 digits). */
export const STATISTICS_LEVELS = ['county', 'township', 'village'] as const;
export type StatisticsLevel = (typeof STATISTICS_LEVELS)[number];
export const STATISTICS_DIVISION = /^(\d{6}|\d{9}|\d{12})$/;

export function statisticsLevel(division: string): StatisticsLevel {
  return division.length === 6 ? 'county' : division.length === 9 ? 'township' : 'village';
}

/** The length of the areas a division's report is broken into: townships of a county, villages of a township, the village itself. */
export function areaLength(division: string): number {
  return division.length === 6 ? 9 : 12;
}

/** One group of the counting query: people with the same area, outcome, statuses and age band. */
export interface CountRow {
  area: string;
  outcome: Outcome | 'none';
  /** 未参保原因 as collected from the person; null when never collected. */
  surveyedReason: NotInsuredReason | null;
  /** Per type: status and reason, null where never decided. */
  statuses: Record<InsuranceType, { status: CoverageStatus | null; reason: CoverageReason | null }>;
  /** At or over the region's `pensionAgeCheck` on the date asked. */
  aged: boolean;
  n: number;
}

export interface Ratio {
  numerator: number;
  denominator: number;
  /** numerator / denominator, six decimals; null when the denominator is 0. */
  rate: number | null;
}

export interface TypeFigures {
  /** 应参保: insured here + insured elsewhere + not insured. */
  due: number;
  insured: number;
  insuredHere: number;
  insuredElsewhere: number;
  notInsured: number;
  notDue: number;
  exempt: number;
  /** People of the population without a decided status (not yet compared, or decided before statuses existed). */
  undecided: number;
  coverage: Ratio;
  /** The region's target (fraction), null without one. */
  target: number | null;
  /** target − rate (fraction; positive: below target), null without a target or a rate. */
  gap: number | null;
  /** More people insured needed to reach the target (0 when reached), null without a target. */
  shortOfTarget: number | null;
  notInsuredByReason: Record<NotInsuredStatusReason, number>;
  /** The not insured by the reason they gave (未参保原因, collected by survey, window or self-service); `not-surveyed` when none was collected. */
  notInsuredBySurveyedReason: Record<SurveyedReason, number>;
  notDueByReason: Record<NotDueReason, number>;
  exemptByReason: Record<ExemptReason, number>;
}

export interface AreaFigures {
  division: string;
  name: string | null;
  level: StatisticsLevel;
  /** 户籍人口: the denominator. */
  population: number;
  registered: number;
  /** 全民参保登记率: registered / population. */
  registration: Ratio;
  types: Record<InsuranceType, TypeFigures>;
  /** 60 (the region's pensionAgeCheck) and over without a pension: not insured in pension. */
  agedWithoutPension: number;
}

export const SURVEYED_REASONS = [...NOT_INSURED_REASONS, 'not-surveyed'] as const;
export type SurveyedReason = (typeof SURVEYED_REASONS)[number];

export function ratio(numerator: number, denominator: number): Ratio {
  return { numerator, denominator, rate: denominator === 0 ? null : Math.round((numerator / denominator) * 1e6) / 1e6 };
}

const zeros = <K extends string>(keys: readonly K[]): Record<K, number> => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

function emptyType(): Omit<TypeFigures, 'coverage' | 'target' | 'gap' | 'shortOfTarget'> {
  return {
    due: 0,
    insured: 0,
    insuredHere: 0,
    insuredElsewhere: 0,
    notInsured: 0,
    notDue: 0,
    exempt: 0,
    undecided: 0,
    notInsuredByReason: zeros(NOT_INSURED_STATUS_REASONS),
    notInsuredBySurveyedReason: zeros(SURVEYED_REASONS),
    notDueByReason: zeros(NOT_DUE_REASONS),
    exemptByReason: zeros(EXEMPT_REASONS),
  };
}

function withTarget(t: ReturnType<typeof emptyType>, target: number | null): TypeFigures {
  const coverage = ratio(t.insured, t.due);
  const gap = target === null || coverage.rate === null ? null : Math.round((target - coverage.rate) * 1e6) / 1e6;
  // Whole people: the smallest count that reaches the target, less those insured (never below 0).
  const needed = target === null ? null : Math.max(0, Math.ceil(target * t.due - 1e-9) - t.insured);
  return { ...t, coverage, target, gap, shortOfTarget: needed };
}

/** The figures of a division from the counting rows of its areas. Pure. */
export function figuresOf(division: string, rows: readonly CountRow[], policy: Pick<RegionPolicy, 'coverageTargets'>): AreaFigures {
  let population = 0;
  let registered = 0;
  let aged = 0;
  const types = Object.fromEntries(INSURANCE_TYPES.map((t) => [t, emptyType()])) as Record<InsuranceType, ReturnType<typeof emptyType>>;
  for (const row of rows) {
    population += row.n;
    if ((REGISTERED_OUTCOMES as readonly string[]).includes(row.outcome)) registered += row.n;
    if (row.aged && row.statuses.pension.status === 'not-insured') aged += row.n;
    for (const type of INSURANCE_TYPES) {
      const { status, reason } = row.statuses[type];
      const t = types[type];
      switch (status) {
        case 'insured-here':
          t.insuredHere += row.n;
          t.insured += row.n;
          t.due += row.n;
          break;
        case 'insured-elsewhere':
          t.insuredElsewhere += row.n;
          t.insured += row.n;
          t.due += row.n;
          break;
        case 'not-insured':
          t.notInsured += row.n;
          t.due += row.n;
          if (reason && reason in t.notInsuredByReason) t.notInsuredByReason[reason as NotInsuredStatusReason] += row.n;
          t.notInsuredBySurveyedReason[row.surveyedReason ?? 'not-surveyed'] += row.n;
          break;
        case 'not-due':
          t.notDue += row.n;
          if (reason && reason in t.notDueByReason) t.notDueByReason[reason as NotDueReason] += row.n;
          break;
        case 'exempt':
          t.exempt += row.n;
          if (reason && reason in t.exemptByReason) t.exemptByReason[reason as ExemptReason] += row.n;
          break;
        case null:
          t.undecided += row.n;
          break;
      }
    }
  }
  return {
    division,
    name: findDivision(division)?.name ?? null,
    level: statisticsLevel(division),
    population,
    registered,
    registration: ratio(registered, population),
    types: Object.fromEntries(INSURANCE_TYPES.map((t) => [t, withTarget(types[t], policy.coverageTargets[t] ?? null)])) as Record<InsuranceType, TypeFigures>,
    agedWithoutPension: aged,
  };
}

/**
 * The division's figures and those of each area it is broken into (townships of a county, villages of
 * a township; every known area listed, an empty one with zeros; areas with people but unknown to the
 * division list at the end).
 */
export function reportOf(division: string, rows: readonly CountRow[], policy: Pick<RegionPolicy, 'coverageTargets'>): { total: AreaFigures; areas: AreaFigures[] } {
  const total = figuresOf(division, rows, policy);
  if (division.length === 12) return { total, areas: [] };
  const byArea = new Map<string, CountRow[]>();
  for (const row of rows) {
    const list = byArea.get(row.area) ?? [];
    list.push(row);
    byArea.set(row.area, list);
  }
  const known = childrenOf(division).map((d) => d.code).filter((code) => code.length === areaLength(division));
  const codes = [...known, ...[...byArea.keys()].filter((code) => !known.includes(code)).sort()];
  return { total, areas: codes.map((code) => figuresOf(code, byArea.get(code) ?? [], policy)) };
}

// ---- figure names: each figure has a detail list behind it

export const CHANGE_DIRECTIONS = ['newly-covered', 'newly-uncovered'] as const;
export type ChangeDirection = (typeof CHANGE_DIRECTIONS)[number];

export type FigureStatus = CoverageStatus | 'due' | 'insured';

export type Figure =
  | { kind: 'population' }
  | { kind: 'registered' }
  | { kind: 'not-registered' }
  | { kind: 'aged-without-pension' }
  | { kind: 'type'; type: InsuranceType; status: FigureStatus; reason: CoverageReason | null }
  | { kind: 'surveyed'; type: InsuranceType; reason: SurveyedReason }
  | { kind: 'change'; type: InsuranceType; direction: ChangeDirection };

/**
 * Figure names (the `figure` of a detail list): `population`, `registered`, `not-registered`,
 * `aged-without-pension`, `<type>:<status>` with status one of due, insured, insured-here,
 * insured-elsewhere, not-insured, not-due, exempt, `<type>:<status>:<REASON>` for a reason of
 * not-insured, not-due or exempt, `<type>:not-insured-because:<reason>` for the not insured by the
 * reason they gave (a NOT_INSURED_REASONS code, or not-surveyed), and `<type>:newly-covered` /
 * `<type>:newly-uncovered` (between two times).
 */
export function parseFigure(name: string): Figure | string {
  if (name === 'population' || name === 'registered' || name === 'not-registered' || name === 'aged-without-pension') return { kind: name };
  const [type, status, reason, ...rest] = name.split(':');
  if (!type || !(INSURANCE_TYPES as readonly string[]).includes(type)) return `figure must start with population, registered, not-registered, aged-without-pension or an insurance type (${INSURANCE_TYPES.join(', ')})`;
  if (rest.length > 0 || status === undefined) return 'figure must be <type>:<status> or <type>:<status>:<REASON>';
  if (status === 'not-insured-because') {
    if (reason === undefined || !(SURVEYED_REASONS as readonly string[]).includes(reason)) return `the reason of not-insured-because must be one of ${SURVEYED_REASONS.join(', ')}`;
    return { kind: 'surveyed', type: type as InsuranceType, reason: reason as SurveyedReason };
  }
  if ((CHANGE_DIRECTIONS as readonly string[]).includes(status)) {
    if (reason !== undefined) return `${status} takes no reason`;
    return { kind: 'change', type: type as InsuranceType, direction: status as ChangeDirection };
  }
  const statuses: readonly string[] = ['due', 'insured', ...COVERAGE_STATUSES];
  if (!statuses.includes(status)) return `the status of a figure must be one of ${[...statuses, 'not-insured-because', ...CHANGE_DIRECTIONS].join(', ')}`;
  if (reason === undefined) return { kind: 'type', type: type as InsuranceType, status: status as FigureStatus, reason: null };
  const allowed: readonly string[] = status === 'due' || status === 'insured' ? [] : REASONS_BY_STATUS[status as CoverageStatus];
  if (!allowed.includes(reason)) return allowed.length === 0 ? `${status} takes no reason` : `the reason of ${status} must be one of ${allowed.join(', ')}`;
  return { kind: 'type', type: type as InsuranceType, status: status as FigureStatus, reason: reason as CoverageReason };
}

export function figureName(figure: Figure): string {
  switch (figure.kind) {
    case 'population':
    case 'registered':
    case 'not-registered':
    case 'aged-without-pension':
      return figure.kind;
    case 'type':
      return `${figure.type}:${figure.status}${figure.reason ? `:${figure.reason}` : ''}`;
    case 'change':
      return `${figure.type}:${figure.direction}`;
    case 'surveyed':
      return `${figure.type}:not-insured-because:${figure.reason}`;
  }
}

/** The date (YYYY-MM-DD) on or before which someone born is `age` or older on `date` (ages as the rules count them: a 29 February birthday comes on 1 March). */
export function bornBy(date: string, age: number): string {
  const year = String(Number(date.slice(0, 4)) - age).padStart(4, '0');
  const md = date.slice(5);
  // 29 February of a year that has none: those born on 28 February are of age, no one born later.
  if (md === '02-29') {
    const y = Number(year);
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    return leap ? `${year}-02-29` : `${year}-02-28`;
  }
  return `${year}-${md}`;
}

export function isStatisticsDivision(code: string): boolean {
  return STATISTICS_DIVISION.test(code) && divisionLevel(code) !== undefined;
}
