import { INSURANCE_TYPES, NOT_INSURED_REASONS, OUTCOMES } from '@qmcb/contracts';
import type { CoverageReason, CoverageStatus, InsuranceType, NotInsuredReason, Outcome } from '@qmcb/contracts';

/**
 * Everything the figures count of a person but the place and the age, packed into one integer
 * (`sig` of the statistics rows), so that counting a county of a million groups by two small
 * columns instead of fourteen texts: 3 bits of outcome, 4 of the reason the person gave for not
 * being insured, 4 per insurance type for its status and reason. Pure.
 */

const OUTCOME_CODES: readonly (Outcome | 'none')[] = ['none', ...OUTCOMES];
const SURVEYED_CODES: readonly (NotInsuredReason | null)[] = [null, ...NOT_INSURED_REASONS];
/** Every (status, reason) the rule coverage-status gives; 0 is "no status". */
export const STATUS_CODES: readonly (readonly [CoverageStatus | null, CoverageReason | null])[] = [
  [null, null],
  ['insured-here', null],
  ['insured-elsewhere', null],
  ['not-insured', 'NEVER_ENROLLED'],
  ['not-insured', 'LAPSED'],
  ['not-due', 'UNDER_AGE'],
  ['not-due', 'NOT_EMPLOYED'],
  ['not-due', 'NOT_ASSESSED'],
  ['exempt', 'DECEASED'],
  ['exempt', 'MOVED_OUT'],
  ['exempt', 'MILITARY'],
  ['exempt', 'PRISONER'],
  ['exempt', 'STUDENT'],
  ['exempt', 'LINKED'],
];

export interface Signed {
  outcome: Outcome | 'none';
  surveyedReason: NotInsuredReason | null;
  statuses: Record<InsuranceType, { status: CoverageStatus | null; reason: CoverageReason | null }>;
}

const statusCode = (status: CoverageStatus | null, reason: CoverageReason | null): number => {
  const i = STATUS_CODES.findIndex(([s, r]) => s === status && r === reason);
  // A pair the rule never gives counts as no status rather than stop the projection.
  return i < 0 ? 0 : i;
};

export function signatureOf(s: Signed): number {
  let sig = Math.max(0, OUTCOME_CODES.indexOf(s.outcome)) | (Math.max(0, SURVEYED_CODES.indexOf(s.surveyedReason)) << 3);
  INSURANCE_TYPES.forEach((type, i) => {
    sig |= statusCode(s.statuses[type].status, s.statuses[type].reason) << (7 + 4 * i);
  });
  return sig;
}

export function fromSignature(sig: number): Signed {
  const statuses = {} as Signed['statuses'];
  INSURANCE_TYPES.forEach((type, i) => {
    const [status, reason] = STATUS_CODES[(sig >> (7 + 4 * i)) & 15] ?? [null, null];
    statuses[type] = { status, reason };
  });
  return { outcome: OUTCOME_CODES[sig & 7] ?? 'none', surveyedReason: SURVEYED_CODES[(sig >> 3) & 15] ?? null, statuses };
}
