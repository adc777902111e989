import { InsuranceFacts } from '@qmcb/contracts';
import { citizenIdInfo, insuranceEntries, resolveFields } from '@qmcb/domain';
import type { InsuranceEntry, RegistrationRecord } from '@qmcb/domain';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { createHash } from 'crypto';

/**
 * One line of the export: exactly a record of `POST /records` and of the NDJSON bulk format
 * (docs/design/comparison-model.md), kind `insurance`, so the higher registry loads it as is.
 */
export interface ExchangeLine {
  sourceRecordId: string;
  citizenId: string;
  mode: 'snapshot';
  asOf: string;
  facts: InsuranceFactsOut;
}

/** The insurance contract's fields, as plain JSON (absent fields left out, never null). */
export type InsuranceFactsOut = { kind: 'insurance' } & Omit<Partial<InsuranceFacts>, 'kind'> &
  Pick<InsuranceFacts, 'insuranceType' | 'scheme' | 'status' | 'region'>;

/**
 * Whether the household registration of the person lies outside `region` (a 6-digit county code):
 * no household record here, a household village in another county, or a household that moved out
 * (迁出: the hukou is no longer here even though the old village is still named).
 */
export function isNonLocal(record: Pick<RegistrationRecord, 'hukouDivision' | 'hukouStatus'>, region: string): boolean {
  if (record.hukouDivision === null) return true;
  if (!record.hukouDivision.startsWith(region)) return true;
  return record.hukouStatus === 'moved-out';
}

/** The person's active insurance entries in `region`, ordered by insurance key. */
export function activeEntriesIn(record: Pick<RegistrationRecord, 'insurance'>, region: string): InsuranceEntry[] {
  return insuranceEntries(record).filter((e) => e.region === region && e.status === 'active');
}

/**
 * Stable per person, insurance type, scheme and region, so a re-export of an unchanged entry is the
 * same record (same event ID at the receiver), and a changed one replaces it (snapshot). Does not
 * carry the citizen ID.
 */
export function exchangeRecordId(personKey: string, entry: Pick<InsuranceEntry, 'insuranceType' | 'scheme' | 'region'>): string {
  const digest = createHash('sha256').update(`${personKey}|${entry.insuranceType}|${entry.scheme}|${entry.region}`).digest('hex').slice(0, 24);
  return `XR-${entry.region}-${entry.insuranceType}-${entry.scheme}-${digest}`;
}

/** Drops the optional fields that would not pass the insurance contract, so every line loads. */
function conforming(facts: InsuranceFactsOut): InsuranceFactsOut | null {
  const errors = validateSync(plainToInstance(InsuranceFacts, facts), { forbidUnknownValues: false });
  if (errors.length === 0) return facts;
  const bad = new Set(errors.map((e) => e.property));
  if (['kind', 'insuranceType', 'scheme', 'status', 'region'].some((p) => bad.has(p))) return null;
  const kept = Object.fromEntries(Object.entries(facts).filter(([k]) => !bad.has(k))) as InsuranceFactsOut;
  return validateSync(plainToInstance(InsuranceFacts, kept), { forbidUnknownValues: false }).length === 0 ? kept : null;
}

/**
 * The export lines of one person for `region`: one per active insurance entry there, with the
 * person's identity as resolved here by the field precedence (name, sex, birth date, phone,
 * address: what `GET /persons` shows under `fields`) for the receiver's own comparison. None when
 * the person is local, has no active entry there, or has no valid citizen ID: records under an ID
 * that fails GB 11643 are most likely a local person's under a mistyped ID (issue 10), and the
 * higher registry could match them to no one; they stay here to be linked or corrected. Records
 * linked to a person (`person_link`) are left out by the repository.
 */
export function nonLocalInsuredLines(record: RegistrationRecord, region: string): ExchangeLine[] {
  if (!isNonLocal(record, region) || record.citizenId === null || !record.citizenIdValid) return [];
  const citizenId = record.citizenId;
  const fields = resolveFields(record, record.citizenIdValid ? citizenIdInfo(citizenId) : null);
  const identity = {
    name: fields.name.value ?? undefined,
    sex: fields.sex.value ?? undefined,
    birthDate: fields.birthDate.value ?? undefined,
    phone: fields.phone.value ?? undefined,
    address: fields.address.value ?? undefined,
  };
  const lines: ExchangeLine[] = [];
  for (const entry of activeEntriesIn(record, region)) {
    const facts = conforming(
      dropUndefined({
        kind: 'insurance',
        insuranceType: entry.insuranceType,
        scheme: entry.scheme,
        status: entry.status,
        region: entry.region,
        employer: entry.employer ?? undefined,
        since: entry.since ?? undefined,
        receivingBenefit: entry.receivingBenefit ?? undefined,
        ...identity,
      }),
    );
    if (facts) lines.push({ sourceRecordId: exchangeRecordId(record.personKey, entry), citizenId, mode: 'snapshot', asOf: entry.asOf, facts });
  }
  return lines;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
