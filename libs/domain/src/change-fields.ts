import { CHANGE_FIELDS } from '@qmcb/contracts';
import type { ChangeField, ChangeFields } from '@qmcb/contracts';
import { insuranceEntries } from './registration-record';
import type { RegistrationRecord } from './registration-record';

/** A field's value as the record holds it now, in the shape a change proposes it (JSON, comparable). */
export type FieldValue = string | boolean | null | { name: string; creditCode: string | null } | { insuranceType: string; scheme: string; status: string; region: string }[];

/**
 * The record's current value of every field a change may propose (procedure §7 items): what review
 * shows beside the proposed value, and what it compares to tell a stale item.
 */
export function currentValues(record: RegistrationRecord): Record<ChangeField, FieldValue> {
  return {
    citizenId: record.collected?.citizenId ?? record.citizenId,
    name: record.name,
    sex: record.sex,
    birthDate: record.birthDate,
    ethnicity: record.ethnicity,
    hukouType: record.hukouType,
    phone: record.phone,
    residenceDivision: record.residenceDivision,
    residenceAddress: record.residenceAddress,
    employmentStatus: record.employmentStatus,
    employer: record.collected?.approvals.employer
      ? record.collected.employer
      : record.tax?.employer
        ? { name: record.tax.employer, creditCode: record.tax.employerCreditCode }
        : null,
    insurance: insuranceEntries(record).map(({ insuranceType, scheme, status, region }) => ({ insuranceType, scheme, status, region })),
    notInsuredReason: record.notInsuredReason,
    insuredElsewhere: record.insuredElsewhere,
    deathDate: record.death?.deathDate ?? null,
  };
}

/** The proposed value of a field, in the same shape as currentValues (undefined: not proposed). */
export function proposedValue(fields: ChangeFields, field: ChangeField): FieldValue | undefined {
  const value = fields[field];
  if (value === undefined) return undefined;
  if (field === 'employer') return fields.employer ? { name: fields.employer.name, creditCode: fields.employer.creditCode ?? null } : null;
  if (field === 'insurance') return (fields.insurance ?? []).map(({ insuranceType, scheme, status, region }) => ({ insuranceType, scheme, status, region }));
  if (field === 'citizenId') return typeof value === 'string' ? value.toUpperCase() : null;
  return value as FieldValue;
}

/** The fields a change proposes, in CHANGE_FIELDS order. */
export function proposedFields(fields: ChangeFields): ChangeField[] {
  return CHANGE_FIELDS.filter((f) => fields[f] !== undefined);
}

/** The record's values of the fields a change proposes, when it was submitted: what "stale" is measured against. */
export function valuesBefore(record: RegistrationRecord | null, fields: ChangeFields): Partial<Record<ChangeField, FieldValue>> {
  if (!record) return {};
  const now = currentValues(record);
  return Object.fromEntries(proposedFields(fields).map((f) => [f, now[f]]));
}

/** Deep equality of two field values (plain JSON). */
export function sameValue(a: FieldValue | undefined, b: FieldValue | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
