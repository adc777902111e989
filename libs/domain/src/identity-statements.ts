import type { Department, Sex } from '@qmcb/contracts';
import type { RegistrationRecord } from './registration-record';

/**
 * What one record a department holds for the person says of the identity: one per held slot
 * (the household record, each insurance entry by type + scheme + region, the tax record, each
 * welfare category, the death registration, the enrolment, the custody record). Two slots of one
 * department are two statements: the pension and the medical business systems may disagree (§8).
 */
export interface IdentityStatement {
  claimant: Department;
  /** `household`, `insurance:pension:resident:440981`, `tax`, `welfare:extreme-poverty`, `death`, `enrolment`, `custody`. */
  slot: string;
  asOf: string;
  eventId: string;
  name: string | null;
  sex: Sex | null;
  birthDate: string | null;
  phone: string | null;
  address: string | null;
}

export const NO_IDENTITY = { name: null, sex: null, birthDate: null, phone: null, address: null } as const;

/** Every held department record's identity statement, in a fixed order (slot kind, then key). */
export function identityStatements(record: Pick<RegistrationRecord, 'household' | 'insurance' | 'tax' | 'welfare' | 'death' | 'enrolment' | 'custody'>): IdentityStatement[] {
  const out: IdentityStatement[] = [];
  const h = record.household;
  if (h) {
    out.push({ claimant: 'public-security', slot: 'household', asOf: h.asOf, eventId: h.eventId, name: h.name, sex: h.sex, birthDate: h.birthDate, phone: h.phone, address: h.address });
  }
  for (const key of Object.keys(record.insurance).sort() as (keyof typeof record.insurance)[]) {
    const e = record.insurance[key];
    if (e.source !== 'department' || e.department === null) continue;
    out.push({ claimant: e.department, slot: `insurance:${key}`, asOf: e.asOf, eventId: e.eventId, name: e.name, sex: e.sex, birthDate: e.birthDate, phone: e.phone, address: e.address });
  }
  const t = record.tax;
  if (t) out.push({ claimant: 'tax', slot: 'tax', asOf: t.asOf, eventId: t.eventId, ...NO_IDENTITY, name: t.name });
  for (const category of Object.keys(record.welfare).sort() as (keyof typeof record.welfare)[]) {
    const w = record.welfare[category];
    if (w) out.push({ claimant: 'civil-affairs', slot: `welfare:${category}`, asOf: w.asOf, eventId: w.eventId, ...NO_IDENTITY, name: w.name });
  }
  const d = record.death;
  // A death approved from a visit is collected information, stated by the survey claim instead.
  if (d && d.department !== 'collected') out.push({ claimant: d.department, slot: 'death', asOf: d.asOf, eventId: d.eventId, ...NO_IDENTITY, name: d.name });
  const en = record.enrolment;
  if (en) out.push({ claimant: 'education', slot: 'enrolment', asOf: en.asOf, eventId: en.eventId, ...NO_IDENTITY, name: en.name, sex: en.sex, birthDate: en.birthDate });
  const c = record.custody;
  if (c) out.push({ claimant: 'justice', slot: 'custody', asOf: c.asOf, eventId: c.eventId, ...NO_IDENTITY, name: c.name });
  return out;
}
