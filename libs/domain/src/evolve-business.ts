import {
  CARD_ISSUED,
  CARD_LOST,
  CARD_REPLACED,
  DEATH_REGISTERED,
  EMPLOYER_CLOSED,
  EMPLOYER_OPENED,
  HOUSEHOLD_MOVED_IN,
  HOUSEHOLD_MOVED_OUT,
  INSURANCE_BENEFIT_APPROVED,
  INSURANCE_CONTRIBUTION_PAID,
  INSURANCE_ENDED,
  INSURANCE_ENROLLED,
  INSURANCE_PAYMENT_STARTED,
  INSURANCE_PAYMENT_STOPPED,
  INSURANCE_SUSPENDED,
  REGISTRY_ABSENT_FROM_ROSTER,
  REGISTRY_CHANGE_APPROVED,
  REGISTRY_CHANGE_PROPOSED,
  REGISTRY_CHANGE_REJECTED,
} from '@qmcb/contracts';
import type { BusinessEventType, Department, EventOf, InsuranceBusinessEvent, InsuranceStatus } from '@qmcb/contracts';
import type { BenefitState, MigrationState } from './business-record';
import { NO_IDENTITY } from './identity-statements';
import { supersedes } from './insurance-precedence';
import { insuranceKey } from './registration-record';
import type { InsuranceEntry, InsuranceKey, RegistrationRecord } from './registration-record';

/**
 * How business events (procedure §20-§24) change the registration record. Pure, like evolve (which
 * calls these and then recomputes the resolved identity). Every fact carries the event's business time
 * (`occurredAt`) as its as-of time: an older fact never overwrites a newer one of the same slot.
 */

export type BusinessEvent = { [K in BusinessEventType]: EventOf<K> }[BusinessEventType];
export type RegistryEvent =
  | EventOf<typeof REGISTRY_CHANGE_PROPOSED>
  | EventOf<typeof REGISTRY_CHANGE_APPROVED>
  | EventOf<typeof REGISTRY_CHANGE_REJECTED>
  | EventOf<typeof REGISTRY_ABSENT_FROM_ROSTER>;

/** Equal times count as newer, as for department records: of two facts of one moment, the later on the log wins. */
export function notOlder(asOf: string, than: string | null | undefined): boolean {
  if (than === null || than === undefined) return true;
  const a = Date.parse(asOf);
  const b = Date.parse(than);
  return Number.isNaN(a) || Number.isNaN(b) || a >= b;
}

/** The key of a roster absence: the department and the slot it no longer lists. */
export function absenceKey(department: Department, slot: string): string {
  return `${department}:${slot}`;
}

/** A record of this department and slot, as of `asOf`, lifts an absence flagged by an older (or same-day) roster. */
export function clearAbsence(record: RegistrationRecord, department: Department, slot: string, asOf: string): RegistrationRecord {
  const key = absenceKey(department, slot);
  const absence = record.rosterAbsences[key];
  if (!absence || !notOlder(asOf, absence.rosterAsOf)) return record;
  const rosterAbsences = { ...record.rosterAbsences };
  delete rosterAbsences[key];
  return { ...record, rosterAbsences };
}

type EntryChange = (entry: InsuranceEntry) => InsuranceEntry;

/**
 * Changes the entry an insurance business event is about, where the source precedence lets it
 * (insurance-precedence.ts); creates it when missing if `create` gives its status. A new holder
 * starts from what was held (its status, start, employer, benefits) without the other holder's
 * identity statement.
 */
function changeEntry(record: RegistrationRecord, event: BusinessEvent, p: InsuranceBusinessEvent, create: InsuranceStatus | null, change: EntryChange): RegistrationRecord {
  const key = insuranceKey(p.insuranceType, p.scheme, p.region);
  const previous = record.insurance[key];
  if (!previous && create === null) return record;
  const holder = { source: 'department' as const, department: p.department, asOf: event.occurredAt };
  if (!supersedes(previous, holder)) return record;
  const sameHolder = previous?.source === 'department' && previous.department === p.department;
  const base: InsuranceEntry = {
    insuranceType: p.insuranceType,
    scheme: p.scheme,
    status: previous?.status ?? create ?? 'active',
    region: p.region,
    employer: previous?.employer ?? null,
    since: previous?.since ?? null,
    receivingBenefit: previous?.receivingBenefit ?? null,
    benefitStatus: previous?.benefitStatus ?? null,
    ...(sameHolder && previous ? { name: previous.name, sex: previous.sex, birthDate: previous.birthDate, phone: previous.phone, address: previous.address } : NO_IDENTITY),
    source: 'department',
    department: p.department,
    asOf: event.occurredAt,
    eventId: event.eventId,
  };
  const next = change(base);
  return clearAbsence({ ...record, insurance: { ...record.insurance, [key]: next } }, p.department, `insurance:${key}`, event.occurredAt);
}

function keyOf(p: InsuranceBusinessEvent): InsuranceKey {
  return insuranceKey(p.insuranceType, p.scheme, p.region);
}

function withBenefit(record: RegistrationRecord, event: BusinessEvent, p: InsuranceBusinessEvent, next: (previous: BenefitState | undefined) => BenefitState): RegistrationRecord {
  const key = keyOf(p);
  const previous = record.benefits[key];
  if (!notOlder(event.occurredAt, previous?.asOf)) return record;
  return { ...record, benefits: { ...record.benefits, [key]: next(previous) } };
}

function withMigration(record: RegistrationRecord, event: BusinessEvent, change: Partial<MigrationState>): RegistrationRecord {
  const previous = record.migration;
  const base: MigrationState = previous ?? { movedOutOn: null, movedOutTo: null, movedOutFrom: null, movedInOn: null, movedInFrom: null, asOf: event.occurredAt, eventId: event.eventId };
  return { ...record, migration: { ...base, ...change, asOf: event.occurredAt, eventId: event.eventId } };
}

/** A business event applied to the record (the resolved identity is recomputed by the caller). */
export function applyBusinessEvent(record: RegistrationRecord, event: BusinessEvent): RegistrationRecord {
  switch (event.type) {
    case INSURANCE_ENROLLED: {
      const p = event.payload;
      let next = changeEntry(record, event, p, 'active', (e) => ({ ...e, status: 'active', since: p.since, employer: p.employer ?? e.employer }));
      if (p.transferredFrom && p.transferredFrom !== p.region) {
        // 转移接续: the entry the insurance came from ends with this enrolment, so a transfer is no duplicate.
        next = changeEntry(next, event, { ...p, region: p.transferredFrom }, null, (e) => ({ ...e, status: 'ended' }));
      }
      return next;
    }
    case INSURANCE_SUSPENDED:
      return changeEntry(record, event, event.payload, 'suspended', (e) => ({ ...e, status: 'suspended' }));
    case INSURANCE_ENDED:
      return changeEntry(record, event, event.payload, 'ended', (e) => ({ ...e, status: 'ended' }));
    case INSURANCE_CONTRIBUTION_PAID: {
      const p = event.payload;
      const key = keyOf(p);
      const previous = record.contributions[key];
      // A contribution for an entry we do not hold tells us it exists; it changes no status we hold.
      const withEntry = record.insurance[key] ? record : changeEntry(record, event, p, 'active', (e) => e);
      if (previous && previous.lastMonth > p.month) return withEntry;
      return { ...withEntry, contributions: { ...withEntry.contributions, [key]: { lastMonth: p.month, paidBy: p.paidBy, amount: p.amount ?? null, asOf: event.occurredAt, eventId: event.eventId } } };
    }
    case INSURANCE_BENEFIT_APPROVED: {
      const p = event.payload;
      return withBenefit(record, event, p, (b) => ({
        benefit: p.benefit,
        status: 'approved',
        approvedOn: p.effectiveDate,
        paymentStartedOn: b?.benefit === p.benefit ? b.paymentStartedOn : null,
        paymentStoppedOn: null,
        stopReason: null,
        asOf: event.occurredAt,
        eventId: event.eventId,
      }));
    }
    case INSURANCE_PAYMENT_STARTED: {
      const p = event.payload;
      const paying = withBenefit(record, event, p, (b) => ({
        benefit: p.benefit,
        status: 'paying',
        approvedOn: b?.benefit === p.benefit ? b.approvedOn : null,
        paymentStartedOn: p.effectiveDate,
        paymentStoppedOn: null,
        stopReason: null,
        asOf: event.occurredAt,
        eventId: event.eventId,
      }));
      return changeEntry(paying, event, p, 'active', (e) => ({ ...e, receivingBenefit: true, benefitStatus: 'receiving' }));
    }
    case INSURANCE_PAYMENT_STOPPED: {
      const p = event.payload;
      const stopped = withBenefit(record, event, p, (b) => ({
        benefit: p.benefit,
        status: 'stopped',
        approvedOn: b?.benefit === p.benefit ? b.approvedOn : null,
        paymentStartedOn: b?.benefit === p.benefit ? b.paymentStartedOn : null,
        paymentStoppedOn: p.effectiveDate,
        stopReason: p.reason,
        asOf: event.occurredAt,
        eventId: event.eventId,
      }));
      return changeEntry(stopped, event, p, null, (e) => ({ ...e, receivingBenefit: false, benefitStatus: 'stopped' }));
    }
    case CARD_ISSUED: {
      const p = event.payload;
      if (!notOlder(event.occurredAt, record.card?.asOf)) return record;
      return { ...record, card: { status: 'active', cardNumber: p.cardNumber, issuedOn: p.issuedOn, issuingRegion: p.issuingRegion, lostOn: null, asOf: event.occurredAt, eventId: event.eventId } };
    }
    case CARD_LOST: {
      const p = event.payload;
      const card = record.card;
      if (!notOlder(event.occurredAt, card?.asOf)) return record;
      // A loss of a card we never heard of still says the person holds no usable card.
      const known = card?.cardNumber === p.cardNumber ? card : null;
      return {
        ...record,
        card: { status: 'lost', cardNumber: p.cardNumber, issuedOn: known?.issuedOn ?? null, issuingRegion: known?.issuingRegion ?? null, lostOn: p.reportedOn, asOf: event.occurredAt, eventId: event.eventId },
      };
    }
    case CARD_REPLACED: {
      const p = event.payload;
      if (!notOlder(event.occurredAt, record.card?.asOf)) return record;
      return { ...record, card: { status: 'active', cardNumber: p.cardNumber, issuedOn: p.issuedOn, issuingRegion: record.card?.issuingRegion ?? null, lostOn: null, asOf: event.occurredAt, eventId: event.eventId } };
    }
    case DEATH_REGISTERED: {
      const p = event.payload;
      if (!notOlder(event.occurredAt, record.death?.asOf)) return record;
      return clearAbsence({ ...record, death: { deathDate: p.deathDate, name: null, department: p.department, asOf: event.occurredAt, eventId: event.eventId } }, p.department, 'death', event.occurredAt);
    }
    case HOUSEHOLD_MOVED_OUT: {
      const p = event.payload;
      const household = record.household;
      const moved = withMigration(record, event, { movedOutOn: p.movedOn, movedOutTo: p.toDivision ?? null, movedOutFrom: household?.villageCode ?? null });
      if (!household || !notOlder(event.occurredAt, household.asOf)) return moved;
      // The person stays in the registry, filed where the household was, marked moved out (EXEMPT_MOVED_OUT here).
      const next = { ...household, status: 'moved-out' as const, asOf: event.occurredAt, eventId: event.eventId };
      return clearAbsence({ ...moved, household: next, hukouStatus: next.status, householdAsOf: next.asOf }, p.department, 'household', event.occurredAt);
    }
    case HOUSEHOLD_MOVED_IN: {
      const p = event.payload;
      const previous = record.household;
      const moved = withMigration(record, event, { movedInOn: p.movedOn, movedInFrom: p.fromDivision ?? previous?.villageCode ?? null });
      if (!notOlder(event.occurredAt, previous?.asOf)) return moved;
      const household = {
        name: p.name,
        sex: p.sex ?? previous?.sex ?? null,
        birthDate: p.birthDate ?? previous?.birthDate ?? null,
        ethnicity: previous?.ethnicity ?? null,
        address: p.address ?? null,
        villageCode: p.villageCode,
        hukouType: p.hukouType ?? previous?.hukouType ?? null,
        status: 'normal' as const,
        phone: previous?.phone ?? null,
        householdNo: previous?.householdNo ?? null,
        relationToHead: previous?.relationToHead ?? null,
        asOf: event.occurredAt,
        eventId: event.eventId,
      };
      return clearAbsence(
        {
          ...moved,
          household,
          ethnicity: household.ethnicity,
          hukouDivision: household.villageCode,
          hukouAddress: household.address,
          hukouType: household.hukouType,
          hukouStatus: household.status,
          householdAsOf: household.asOf,
        },
        p.department,
        'household',
        event.occurredAt,
      );
    }
    case EMPLOYER_OPENED:
    case EMPLOYER_CLOSED: {
      const p = event.payload;
      if (!notOlder(event.occurredAt, record.employer?.asOf)) return record;
      const name = p.employerName ?? (record.employer?.creditCode === p.employerCreditCode ? record.employer.name : null);
      return {
        ...record,
        employer: {
          creditCode: p.employerCreditCode,
          name,
          status: event.type === EMPLOYER_OPENED ? 'open' : 'closed',
          effectiveDate: p.effectiveDate,
          department: p.department,
          asOf: event.occurredAt,
          eventId: event.eventId,
        },
      };
    }
  }
}

/** Proposals, the county's decisions on them, and roster absences. */
export function applyRegistryEvent(record: RegistrationRecord, event: RegistryEvent): RegistrationRecord {
  switch (event.type) {
    case REGISTRY_CHANGE_PROPOSED: {
      const { proposalId, change, reason } = event.payload;
      if (record.pendingChanges[proposalId]) return record;
      return {
        ...record,
        pendingChanges: {
          ...record.pendingChanges,
          [proposalId]: {
            proposalId,
            type: change.type,
            occurredAt: change.occurredAt,
            source: change.source,
            actor: change.actor,
            changeEventId: change.eventId,
            payload: { ...(change.payload as Record<string, unknown>) },
            reason,
            proposedAt: event.occurredAt,
            eventId: event.eventId,
          },
        },
      };
    }
    case REGISTRY_CHANGE_APPROVED: {
      const pending = record.pendingChanges[event.payload.proposalId];
      if (!pending) return record;
      const pendingChanges = { ...record.pendingChanges };
      delete pendingChanges[pending.proposalId];
      // The approved change enters as the business event it was, at its own business time; the
      // approval is the event that made it (its ID marks every fact it set).
      const change = { ...event, type: pending.type, occurredAt: pending.occurredAt, payload: pending.payload } as unknown as BusinessEvent;
      return applyBusinessEvent({ ...record, pendingChanges }, change);
    }
    case REGISTRY_CHANGE_REJECTED: {
      if (!record.pendingChanges[event.payload.proposalId]) return record;
      const pendingChanges = { ...record.pendingChanges };
      delete pendingChanges[event.payload.proposalId];
      return { ...record, pendingChanges };
    }
    case REGISTRY_ABSENT_FROM_ROSTER: {
      const { snapshotId, department, kind, slot, scope, rosterAsOf } = event.payload;
      return {
        ...record,
        rosterAbsences: { ...record.rosterAbsences, [absenceKey(department, slot)]: { snapshotId, department, kind, slot, scope, rosterAsOf, eventId: event.eventId } },
      };
    }
  }
}
