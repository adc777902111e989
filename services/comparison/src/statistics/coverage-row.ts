import { INSURANCE_TYPES, NOT_INSURED_REASONS } from '@qmcb/contracts';
import type { CoverageReason, CoverageStatus, InsuranceType, NotInsuredReason, Outcome } from '@qmcb/contracts';
import { filingDivision } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';

/**
 * What the statistics count of one person at one time (docs/design/coverage-statistics.md): where
 * their household is registered, whether they belong to the household-registered population, their
 * birth date (for "60 and over" as of any date), the recorded outcome, and the recorded status per
 * insurance type. Written by the comparison projection whenever it changes (coverage_current, and
 * the versions it replaced in coverage_history), so every figure can be asked as of a past time.
 */
export interface TypeCoverage {
  status: CoverageStatus | null;
  reason: CoverageReason | null;
  /** Counties of the active entries, comma-separated; null when none. */
  regions: string | null;
}

export interface CoverageRow {
  personKey: string;
  /** 12-digit village of the household registration; null without one. */
  village: string | null;
  /** Where the record is filed (scope of non-local people): household village, residence, else insuring county. */
  division: string | null;
  /** Household-registered here (户籍人口): a household record whose status is neither moved out nor deceased, and no death record. */
  inPopulation: boolean;
  /** YYYY-MM-DD, null when unknown or not a real date. */
  birthDate: string | null;
  outcome: Outcome | 'none';
  /** 未参保原因 as the person gave it (approved survey, window or self-service), null when never collected. */
  surveyedReason: NotInsuredReason | null;
  coverage: Record<InsuranceType, TypeCoverage>;
}

/** Column prefix of each insurance type (`work-injury` → `work_injury`). */
export const TYPE_COLUMN: Record<InsuranceType, string> = {
  pension: 'pension',
  medical: 'medical',
  unemployment: 'unemployment',
  'work-injury': 'work_injury',
  maternity: 'maternity',
};

const NONE: TypeCoverage = { status: null, reason: null, regions: null };

function realDate(value: string | null): string | null {
  if (value === null || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const t = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === value ? value : null;
}

function surveyedReasonOf(record: RegistrationRecord): NotInsuredReason | null {
  const reason = record.collected?.notInsuredReason ?? null;
  return reason !== null && (NOT_INSURED_REASONS as readonly string[]).includes(reason) ? reason : null;
}

/**
 * The statistics row of a record, or null for someone the statistics never count (no household
 * record here and never compared: say, a tax record of a non-local person). Pure.
 */
export function coverageRowOf(record: RegistrationRecord): CoverageRow | null {
  if (record.household === null && record.comparison === null) return null;
  const h = record.household;
  const byType = new Map((record.comparison?.coverage ?? []).map((c) => [c.insuranceType, c]));
  const coverage = {} as Record<InsuranceType, TypeCoverage>;
  for (const type of INSURANCE_TYPES) {
    const c = byType.get(type);
    coverage[type] = c ? { status: c.status, reason: c.reason, regions: c.regions.length > 0 ? c.regions.join(',') : null } : NONE;
  }
  return {
    personKey: record.personKey,
    village: h?.villageCode ?? null,
    division: filingDivision(record),
    inPopulation: h !== null && h.status !== 'moved-out' && h.status !== 'deceased' && record.death === null,
    birthDate: realDate(record.birthDate),
    outcome: record.comparison?.outcome ?? 'none',
    surveyedReason: surveyedReasonOf(record),
    coverage,
  };
}

/** Whether two rows count the same (the person key aside). */
export function sameCoverageRow(a: CoverageRow | null, b: CoverageRow | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.village !== b.village || a.division !== b.division || a.inPopulation !== b.inPopulation || a.birthDate !== b.birthDate || a.outcome !== b.outcome || a.surveyedReason !== b.surveyedReason) return false;
  return INSURANCE_TYPES.every((t) => {
    const x = a.coverage[t];
    const y = b.coverage[t];
    return x.status === y.status && x.reason === y.reason && x.regions === y.regions;
  });
}
