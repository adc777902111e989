import { insuranceKey } from '@qmcb/domain';
import type { InsuranceEntry, InsuranceKey, RegistrationRecord } from '@qmcb/domain';

/**
 * The person's record as comparison sees it with the records linked to them (proposed or confirmed):
 * the insurance entries of the linked records count as the person's. Of two entries of one type,
 * scheme and region, the newer (as of) stands; on a tie the person's own. A linked entry says nothing
 * of the identity (its name, sex, birth date, phone and address stay with the mistyped records), so
 * it cannot make the person's identity inaccurate. Everything else stays the person's own. Pure.
 */
export function mergeLinked(record: RegistrationRecord, linked: readonly RegistrationRecord[]): RegistrationRecord {
  if (linked.length === 0) return record;
  const insurance: Record<InsuranceKey, InsuranceEntry> = { ...record.insurance };
  for (const other of [...linked].sort((a, b) => (a.personKey < b.personKey ? -1 : 1))) {
    for (const entry of Object.values(other.insurance)) {
      const key = insuranceKey(entry.insuranceType, entry.scheme, entry.region);
      const held = insurance[key];
      if (held && Date.parse(held.asOf) >= Date.parse(entry.asOf)) continue;
      insurance[key] = { ...entry, name: null, sex: null, birthDate: null, phone: null, address: null };
    }
  }
  const sorted = {} as Record<InsuranceKey, InsuranceEntry>;
  for (const key of (Object.keys(insurance) as InsuranceKey[]).sort()) sorted[key] = insurance[key];
  return { ...record, insurance: sorted };
}
