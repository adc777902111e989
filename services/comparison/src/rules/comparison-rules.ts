import type { Outcome } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';

/** A rule that fired, with the facts it fired on (procedure §7-§10). */
export interface RuleHit {
  code: string;
  rule: string;
  ruleVersion: number;
  detail: string;
}

export interface Decision {
  outcome: Outcome;
  reasons: RuleHit[];
}

/** Where policy differs per region (age limits, which schemes count). */
export interface RegionPolicy {
  region: string;
}

export const DEFAULT_POLICY: RegionPolicy = { region: 'default' };

const EXEMPT_STATUSES: Record<string, string> = {
  deceased: 'EXEMPT_DECEASED',
  'moved-out': 'EXEMPT_MOVED_OUT',
  military: 'EXEMPT_MILITARY',
  prison: 'EXEMPT_PRISONER',
};

function activeSchemes(record: RegistrationRecord, insuranceType: string): string[] {
  return Object.entries(record.insurance)
    .filter(([key, i]) => key.startsWith(`${insuranceType}:`) && i.status === 'active')
    .map(([, i]) => `${i.scheme}@${i.region}`)
    .sort();
}

/**
 * Named, versioned rules. Precedence of outcomes: exempt, then duplicate, then needs survey,
 * else registered directly (直接确认参保登记).
 */
export function compare(record: RegistrationRecord, _policy: RegionPolicy = DEFAULT_POLICY): Decision {
  const exemptCode = record.hukouStatus ? EXEMPT_STATUSES[record.hukouStatus] : undefined;
  if (exemptCode) {
    return {
      outcome: 'exempt',
      reasons: [{ code: exemptCode, rule: 'hukou-status-exemption', ruleVersion: 1, detail: `hukouStatus=${record.hukouStatus}` }],
    };
  }

  const duplicates: RuleHit[] = [];
  for (const type of ['pension', 'medical'] as const) {
    const active = activeSchemes(record, type);
    if (active.length > 1) {
      duplicates.push({
        code: `DUPLICATE_${type.toUpperCase()}`,
        rule: 'duplicate-enrollment',
        ruleVersion: 1,
        detail: `active ${type}: ${active.join(', ')}`,
      });
    }
  }
  if (duplicates.length) return { outcome: 'duplicate', reasons: duplicates };

  const survey: RuleHit[] = [];
  if (!record.citizenIdValid) {
    survey.push({ code: 'INACCURATE_CITIZEN_ID', rule: 'inaccurate-information', ruleVersion: 1, detail: 'citizen ID fails GB 11643' });
  }
  const pension = activeSchemes(record, 'pension');
  const medical = activeSchemes(record, 'medical');
  if (pension.length === 0 && medical.length === 0) {
    survey.push({ code: 'UNINSURED', rule: 'uninsured', ruleVersion: 1, detail: 'no active pension and no active medical insurance' });
  }
  if (survey.length) return { outcome: 'needs-survey', reasons: survey };

  return {
    outcome: 'registered',
    reasons: [{ code: 'COMPLETE', rule: 'registered-directly', ruleVersion: 1, detail: `pension: ${pension.join(', ') || 'none'}; medical: ${medical.join(', ') || 'none'}` }],
  };
}

/** Whether a new decision differs from the last one recorded (outcome or reason codes). */
export function decisionChanged(previous: { outcome: string; reasons: { code: string }[] } | null, next: Decision): boolean {
  if (!previous) return true;
  if (previous.outcome !== next.outcome) return true;
  const a = previous.reasons.map((r) => r.code).sort().join(',');
  const b = next.reasons.map((r) => r.code).sort().join(',');
  return a !== b;
}
