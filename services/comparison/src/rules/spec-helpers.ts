import { REVIEW_FINAL_APPROVED, SOURCE_RECORD_RECEIVED, currentVersion, deterministicId, parseEvent } from '@qmcb/contracts';
import type {
  BusinessEventType,
  EventPayloads,
  CollectedForm,
  CustodyFacts,
  DeathFacts,
  Department,
  EnrolmentFacts,
  HouseholdFacts,
  InsuranceFacts,
  InsuranceType,
  RegistrationEvent,
  Scheme,
  Sex,
  SourceFacts,
  SourceMode,
  TaxFacts,
  WelfareFacts,
} from '@qmcb/contracts';
import { checkCharacter, foldEvents, personKeyFor } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { compare } from './compare';
import { DEFAULT_REGION_POLICY } from '@qmcb/domain';
import type { RegionPolicy } from '@qmcb/domain';
import type { Decision } from './types';

/** Builders for the rule specs: records are folded from events exactly as the services fold them. */

export const COUNTY = '440981';
export const VILLAGE = '440981002001';
/** The decision time of every spec unless said otherwise: 1 Nov 2026, 08:00 in China. */
export const AS_OF = '2026-11-01T00:00:00.000Z';
export const AS_OF_DATE = '2026-11-01';
const RECEIVED = '2026-10-01T00:00:00.000Z';

/** A valid 18-digit ID of someone born on `birthDate`; the sequence digit agrees with the sex. */
export function citizenIdFor(birthDate: string, sex: Sex = 'male'): string {
  const first17 = `${COUNTY}${birthDate.replace(/-/g, '')}${sex === 'male' ? '001' : '002'}`;
  return first17 + checkCharacter(first17);
}

/** The ID of `citizenIdFor` with a wrong check character. */
export function invalidIdFor(birthDate: string, sex: Sex = 'male'): string {
  const valid = citizenIdFor(birthDate, sex);
  return valid.slice(0, 17) + (valid[17] === '0' ? '1' : '0');
}

/** The birth date of someone who is `age` on `on` (YYYY-MM-DD), `daysPast` days after that birthday. */
export function bornAged(age: number, on = AS_OF_DATE, daysPast = 0): string {
  const date = new Date(`${on}T00:00:00Z`);
  date.setUTCFullYear(date.getUTCFullYear() - age);
  date.setUTCDate(date.getUTCDate() - daysPast);
  return date.toISOString().slice(0, 10);
}

export const DEFAULT_BIRTH = '1985-03-15';
export const PHONE = '13800138000';
export const ADDRESS = '广东省高州市石仔岭街道南宫居委会 12 号';

export interface SourceFact {
  department: Department;
  facts: SourceFacts;
  asOf?: string;
  mode?: SourceMode;
}
export interface ApprovedForm {
  form: CollectedForm;
  at: string;
}
/** A business event of the person (issue 9), at business time `at`. */
export interface BusinessFact {
  business: { type: BusinessEventType; payload: object; at: string };
}
type Given = SourceFact | ApprovedForm | BusinessFact;

export const business = <K extends BusinessEventType>(type: K, payload: EventPayloads[K], at = RECEIVED): BusinessFact => ({ business: { type, payload, at } });

/** A household record of a normal resident with phone and address; sex and birth date come from the ID unless given. */
export const household = (facts: Partial<HouseholdFacts> = {}, asOf?: string): SourceFact => ({
  department: 'public-security',
  facts: { kind: 'household', name: '李明', villageCode: VILLAGE, status: 'normal', phone: PHONE, address: ADDRESS, ...facts },
  asOf,
});

export const insurance = (
  insuranceType: InsuranceType,
  scheme: Scheme,
  facts: Partial<InsuranceFacts> = {},
  department: Department = 'social-insurance',
  asOf?: string,
): SourceFact => ({
  department,
  facts: { kind: 'insurance', insuranceType, scheme, status: 'active', region: COUNTY, ...facts },
  asOf,
});

/** Active resident pension and resident medical insurance here. */
export const covered = (): SourceFact[] => [insurance('pension', 'resident'), insurance('medical', 'resident')];

export const tax = (facts: Partial<TaxFacts> = {}): SourceFact => ({ department: 'tax', facts: { kind: 'tax', employed: true, ...facts } });
export const welfare = (facts: Partial<WelfareFacts> = {}): SourceFact => ({
  department: 'civil-affairs',
  facts: { kind: 'welfare', category: 'minimum-living-allowance', active: true, ...facts },
});
export const death = (facts: Partial<DeathFacts> = {}, department: Department = 'civil-affairs'): SourceFact => ({
  department,
  facts: { kind: 'death', deathDate: '2026-06-01', ...facts },
});
export const enrolment = (facts: Partial<EnrolmentFacts> = {}): SourceFact => ({ department: 'education', facts: { kind: 'enrolment', enrolled: true, ...facts } });
export const custody = (facts: Partial<CustodyFacts> = {}): SourceFact => ({ department: 'justice', facts: { kind: 'custody', inCustody: true, ...facts } });

export const approvedForm = (form: Partial<CollectedForm> = {}, at = '2026-10-15T00:00:00.000Z'): ApprovedForm => ({
  form: {
    name: '李明',
    phone: PHONE,
    employmentStatus: 'farmer',
    residenceAddress: ADDRESS,
    residenceDivision: VILLAGE,
    insurance: [],
    insuredElsewhere: false,
    ...form,
  },
  at,
});

let counter = 0;

function envelope(personKey: string, occurredAt: string, type: RegistrationEvent['type'], payload: unknown, schemaVersion = currentVersion(type)): RegistrationEvent {
  counter += 1;
  return parseEvent({
    eventId: deterministicId('rules-spec', String(counter)),
    type,
    schemaVersion,
    personKey,
    occurredAt,
    recordedAt: occurredAt,
    source: 'svc:spec',
    actor: 'svc:spec',
    correlationId: 'spec',
    causationId: null,
    basedOnVersion: null,
    payload,
  });
}

/** The record of a person with this citizen ID after these facts (in this order). */
export function recordOf(citizenId: string, valid: boolean, ...given: Given[]): RegistrationRecord {
  const personKey = personKeyFor(citizenId);
  const events = given.map((g) => {
    if ('business' in g) return envelope(personKey, g.business.at, g.business.type, g.business.payload);
    if ('form' in g) {
      return envelope(personKey, g.at, REVIEW_FINAL_APPROVED, {
        reviewId: deterministicId('review', String(counter)),
        submissionId: deterministicId('submission', String(counter)),
        reviewerId: 'approver-1',
        countyCode: COUNTY,
        form: g.form,
        // The first form (v1, upcast when read, as old events on the log are).
      }, 1);
    }
    const asOf = g.asOf ?? RECEIVED;
    return envelope(personKey, asOf, SOURCE_RECORD_RECEIVED, {
      department: g.department,
      sourceRecordId: `${g.facts.kind}-${counter}`,
      mode: g.mode ?? 'snapshot',
      citizenIdAsSent: citizenId,
      citizenIdValid: valid,
      asOf,
      facts: g.facts,
    });
  });
  const record = foldEvents(events);
  if (!record) throw new Error('a record needs at least one fact');
  return record;
}

/** A person born on `DEFAULT_BIRTH` (41 on AS_OF), male, with a valid ID. */
export const person = (...given: Given[]): RegistrationRecord => recordOf(citizenIdFor(DEFAULT_BIRTH), true, ...given);

/** A person of this age on AS_OF. */
export const aged = (age: number, ...given: Given[]): RegistrationRecord => recordOf(citizenIdFor(bornAged(age)), true, ...given);

export function decide(record: RegistrationRecord, policy: Partial<RegionPolicy> = {}, asOf = AS_OF): Decision {
  return compare(record, { ...DEFAULT_REGION_POLICY, ...policy }, asOf);
}

export const codes = (decision: Pick<Decision, 'reasons'>): string[] => decision.reasons.map((r) => r.code);
export const hitCodes = (decision: Decision): string[] => decision.hits.map((h) => h.code);
export const hitOf = (decision: Decision, code: string) => decision.hits.find((h) => h.code === code);
