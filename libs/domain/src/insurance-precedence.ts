import type { InsuranceEntry } from './registration-record';

/**
 * Which source wins an insurance entry (`type:scheme:region`), documented in
 * docs/design/dynamic-update.md ("Source precedence for insurance status"):
 *
 * 1. The business system of the insuring region (department `social-insurance`, by record or by
 *    business event) over everything else, whatever the times: it is where the insurance is kept
 *    (procedure §22); the higher registry only relays it, and a relay of our own entry coming back
 *    (an echo) is never newer information than the system it came from.
 * 2. Then the higher registry's relay of other regions and the approved survey form, alike.
 *
 * Within one rank the newer evidence (as-of time) wins; equal times: the later on the log.
 */
export const INSURANCE_AUTHORITY = { 'business-system': 2, 'relay-or-form': 1 } as const;

export type EntryHolder = Pick<InsuranceEntry, 'source' | 'department'>;

export function insuranceAuthority(holder: EntryHolder): number {
  return holder.source === 'department' && holder.department === 'social-insurance' ? INSURANCE_AUTHORITY['business-system'] : INSURANCE_AUTHORITY['relay-or-form'];
}

function notOlder(asOf: string, than: string): boolean {
  const a = Date.parse(asOf);
  const b = Date.parse(than);
  return Number.isNaN(a) || Number.isNaN(b) || a >= b;
}

/** Whether what `next` says of an entry replaces `previous` (none held: always). Pure. */
export function supersedes(previous: (EntryHolder & Pick<InsuranceEntry, 'asOf'>) | null | undefined, next: EntryHolder & Pick<InsuranceEntry, 'asOf'>): boolean {
  if (!previous) return true;
  const a = insuranceAuthority(next);
  const b = insuranceAuthority(previous);
  if (a !== b) return a > b;
  return notOlder(next.asOf, previous.asOf);
}
