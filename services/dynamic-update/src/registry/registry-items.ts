import { insuranceEntries } from '@qmcb/domain';
import type { InsuranceKey, RegistrationRecord } from '@qmcb/domain';

/** The value of a registry item: what the feed and the history say it changed from and to. */
export type ItemValue = string | number | boolean | null;

/** One item that changed with an event. */
export interface ItemChange {
  item: string;
  from: ItemValue;
  to: ItemValue;
}

/**
 * The registry's items of a person (登记库, procedure §7, and the additions the plans name: sex, birth
 * date, ethnicity, hukou type, employer, social-security card, vulnerable groups, student, military,
 * custody, deceased), flat, by a stable name. Items without a value are left out, so an item that
 * disappears changes to null. What a change, the history, the provenance and the feed speak of.
 */
export function registryItems(record: RegistrationRecord): Record<string, ItemValue> {
  const items: Record<string, ItemValue> = {};
  const put = (name: string, value: ItemValue | undefined): void => {
    if (value !== null && value !== undefined) items[name] = value;
  };
  put('name', record.name);
  put('citizenId', record.citizenId);
  put('citizenIdValid', record.citizenIdValid);
  put('sex', record.sex);
  put('birthDate', record.birthDate);
  put('ethnicity', record.ethnicity);
  put('phone', record.phone);
  put('employmentStatus', record.employmentStatus);
  put('hukouDivision', record.hukouDivision);
  put('hukouAddress', record.hukouAddress);
  put('hukouType', record.hukouType);
  put('hukouStatus', record.hukouStatus);
  put('residenceDivision', record.residenceDivision);
  put('residenceAddress', record.residenceAddress);
  put('notInsuredReason', record.notInsuredReason);
  put('insuredElsewhere', record.insuredElsewhere);
  for (const e of insuranceEntries(record)) {
    const key = `insurance.${e.insuranceType}:${e.scheme}:${e.region}`;
    put(`${key}.status`, e.status);
    put(`${key}.heldBy`, e.source === 'survey' ? 'survey' : e.department);
    put(`${key}.since`, e.since);
    put(`${key}.employer`, e.employer);
    put(`${key}.benefitStatus`, e.benefitStatus);
  }
  for (const key of Object.keys(record.contributions).sort() as InsuranceKey[]) put(`contribution.${key}.lastMonth`, record.contributions[key]?.lastMonth);
  for (const key of Object.keys(record.benefits).sort() as InsuranceKey[]) {
    const b = record.benefits[key];
    put(`benefit.${key}.status`, b ? `${b.benefit} ${b.status}` : null);
  }
  if (record.card) {
    put('card.status', record.card.status);
    put('card.number', record.card.cardNumber);
    put('card.issuedOn', record.card.issuedOn);
  }
  for (const category of Object.keys(record.welfare).sort() as (keyof RegistrationRecord['welfare'])[]) put(`welfare.${category}`, record.welfare[category]?.active);
  put('death.deathDate', record.death?.deathDate);
  put('student', record.enrolment?.enrolled);
  put('student.expectedGraduationYear', record.enrolment?.expectedGraduationYear);
  put('custody', record.custody?.inCustody);
  put('custody.releaseDate', record.custody?.releaseDate);
  put('tax.employed', record.tax?.employed);
  put('tax.employerCreditCode', record.tax?.employerCreditCode);
  if (record.employer) put(`employer.${record.employer.creditCode}`, record.employer.status);
  put('migration.movedOutOn', record.migration?.movedOutOn);
  put('migration.movedOutTo', record.migration?.movedOutTo);
  put('migration.movedInOn', record.migration?.movedInOn);
  put('migration.movedInFrom', record.migration?.movedInFrom);
  put('outcome', record.comparison?.outcome);
  put('outcome.reasons', record.comparison ? record.comparison.reasons.map((r) => r.code).join(',') : null);
  put('flags.needsSurvey', record.flags.needsSurvey);
  put('flags.duplicate', record.flags.duplicate);
  put('flags.inaccurate', record.flags.inaccurate);
  for (const key of Object.keys(record.rosterAbsences).sort()) put(`rosterAbsence.${key}`, record.rosterAbsences[key]?.rosterAsOf);
  for (const id of Object.keys(record.pendingChanges).sort()) put(`pendingChange.${id}`, record.pendingChanges[id]?.type);
  return items;
}

/** What changed from one record to the next, item by item, in item order. */
export function itemChanges(before: RegistrationRecord | null, after: RegistrationRecord): ItemChange[] {
  const a = before ? registryItems(before) : {};
  const b = registryItems(after);
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const out: ItemChange[] = [];
  for (const item of names) {
    const from = a[item] ?? null;
    const to = b[item] ?? null;
    if (from !== to) out.push({ item, from, to });
  }
  return out;
}
