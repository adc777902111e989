import { insuranceEntries } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';

/** What a surveyor needs at the door of a target's person (name, sex, birth date, address, household, phone), from their record. */
export interface TargetPerson {
  citizenId: string | null;
  name: string | null;
  sex: string | null;
  birthDate: string | null;
  hukouDivision: string | null;
  hukouAddress: string | null;
  hukouStatus: string | null;
  residenceDivision: string | null;
  residenceAddress: string | null;
  phone: string | null;
  householdNo: string | null;
  relation: string | null;
  /** Current insurance per type as the departments report it (现参保情况), for the ledger and the door. */
  insurance: { insuranceType: string; scheme: string; status: string; region: string }[];
}

export function personOf(record: RegistrationRecord): TargetPerson {
  return {
    citizenId: record.collected?.citizenId ?? record.citizenId,
    name: record.name,
    sex: record.sex,
    birthDate: record.birthDate,
    hukouDivision: record.hukouDivision,
    hukouAddress: record.hukouAddress,
    hukouStatus: record.hukouStatus,
    residenceDivision: record.residenceDivision,
    residenceAddress: record.residenceAddress,
    phone: record.phone,
    householdNo: record.household?.householdNo ?? null,
    relation: record.household?.relationToHead ?? null,
    insurance: insuranceEntries(record).map(({ insuranceType, scheme, status, region }) => ({ insuranceType, scheme, status, region })),
  };
}

/**
 * The household (户) a person belongs to: public security's household number within the household's
 * village (`<village>-<户号>`); without one, a household of their own (`P-<person key>`).
 */
export function householdKeyOf(record: Pick<RegistrationRecord, 'personKey' | 'household'>): string {
  const h = record.household;
  return h?.householdNo ? `${h.villageCode}-${h.householdNo}` : `P-${record.personKey}`;
}
