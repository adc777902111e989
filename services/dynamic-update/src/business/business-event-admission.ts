import { BUSINESS_EVENTS, CALENDAR_DATE_TIME_RULE, ContractViolationError, calendarDateTimeMessage, deterministicId, departmentMaySendBusinessEvent, flattenValidationErrors, isBusinessEventType, isCalendarDateTime, newEvent } from '@qmcb/contracts';
import type { BusinessEventType, ContractViolation, Department, EventOf } from '@qmcb/contracts';
import { isKnownDivision, personKeyFor, validateCitizenId } from '@qmcb/domain';
import { DomainError } from '@qmcb/platform';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { createHash } from 'crypto';

/**
 * The one admission check of business events (`POST /business-events`): every event of a batch
 * valid, or the batch refused naming every offending field; a type the department may not send is a
 * 403. Pure: the events it builds carry deterministic IDs, so a re-sent event is the same event.
 */

/** One business event as a business system posts it. */
export interface BusinessEventInput {
  type: BusinessEventType;
  businessId: string;
  citizenId: string;
  occurredAt: string;
  payload: Record<string, unknown>;
}

export type BusinessEvent = { [K in BusinessEventType]: EventOf<K> }[BusinessEventType];

export interface BatchContext {
  department: Department;
  actor: string;
  correlationId: string;
  recordedAt: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const OWN_FIELDS = ['type', 'businessId', 'citizenId', 'occurredAt', 'payload'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keys sorted, absent left out: the same content hashes alike whatever order it was written in. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().filter((k) => value[k] !== undefined).map((k) => [k, canonical(value[k])]));
}

/**
 * department + type + the sender's business ID + what the event says (person, time, payload): a
 * re-sent event gets the same ID and changes nothing; a corrected one (same business ID, other
 * content) is another event.
 */
export function businessEventId(department: Department, input: BusinessEventInput, personKey: string, occurredAt: string): string {
  const content = createHash('sha256').update(JSON.stringify([personKey, occurredAt, canonical(input.payload)])).digest('hex');
  return deterministicId('business-event', department, input.type, input.businessId, content);
}

/** The violations of one posted event, paths relative to it (`payload.since`); empty when valid. */
export function checkBusinessEvent(plain: unknown, department: Department): { violations: ContractViolation[]; forbidden: string | null } {
  const v: ContractViolation[] = [];
  if (!isObject(plain)) return { violations: [{ field: '(event)', rule: 'isObject', message: 'the event must be a JSON object' }], forbidden: null };
  for (const key of Object.keys(plain)) {
    if (!OWN_FIELDS.includes(key)) v.push({ field: key, rule: 'whitelistValidation', message: `property ${key} should not exist` });
  }
  const { type, businessId, citizenId, occurredAt, payload } = plain;
  if (!isBusinessEventType(type)) {
    v.push({ field: 'type', rule: 'isIn', message: `type must be one of: ${Object.keys(BUSINESS_EVENTS).join(', ')}` });
  }
  if (typeof businessId !== 'string' || businessId.length < 1 || businessId.length > 128) {
    v.push({ field: 'businessId', rule: 'length', message: 'businessId must be 1 to 128 characters' });
  }
  if (typeof citizenId !== 'string' || !validateCitizenId(citizenId).ok) {
    v.push({ field: 'citizenId', rule: 'citizenId', message: 'citizenId must be a valid citizen ID (GB 11643): business systems key people by their social security number' });
  }
  if (typeof occurredAt !== 'string' || !ISO.test(occurredAt) || Number.isNaN(Date.parse(occurredAt))) {
    v.push({ field: 'occurredAt', rule: 'isIso8601', message: 'occurredAt must be an ISO 8601 time with its offset, e.g. 2026-03-01T09:30:00+08:00' });
  } else if (!isCalendarDateTime(occurredAt)) {
    v.push({ field: 'occurredAt', rule: CALENDAR_DATE_TIME_RULE, message: calendarDateTimeMessage('occurredAt', occurredAt) });
  }
  if (!isObject(payload)) {
    v.push({ field: 'payload', rule: 'isObject', message: 'payload must be an object of the fields of the type' });
  } else if (isBusinessEventType(type)) {
    for (const own of ['department', 'businessId'] as const) {
      if (own in payload) v.push({ field: `payload.${own}`, rule: 'serverSet', message: `payload.${own} must not be sent: ${own === 'department' ? 'it comes from the API key' : 'it is given once, at the top of the event'}` });
    }
    const full = { ...payload, department, businessId: typeof businessId === 'string' ? businessId : 'x' };
    const errors = validateSync(plainToInstance(BUSINESS_EVENTS[type].payload as new () => object, full), { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
    v.push(...flattenValidationErrors(errors, 'payload').filter((x) => x.field !== 'payload.department' && x.field !== 'payload.businessId'));
    const village = payload['villageCode'];
    if (type === 'household.moved-in' && typeof village === 'string' && /^\d{12}$/.test(village) && !isKnownDivision(village)) {
      v.push({ field: 'payload.villageCode', rule: 'knownDivision', message: `payload.villageCode ${village} is not a known village/community code` });
    }
  }
  const forbidden = isBusinessEventType(type) && !departmentMaySendBusinessEvent(department, type) ? `events of type '${type}' may not be sent by department '${department}'` : null;
  return { violations: v, forbidden };
}

/** The event of a checked input. */
export function buildBusinessEvent(input: BusinessEventInput, ctx: BatchContext): BusinessEvent {
  const personKey = personKeyFor(input.citizenId);
  const occurredAt = new Date(input.occurredAt).toISOString();
  const eventId = businessEventId(ctx.department, input, personKey, occurredAt);
  const payload = { ...input.payload, department: ctx.department, businessId: input.businessId } as never;
  return newEvent(input.type, eventId, personKey, payload, {
    source: `dept:${ctx.department}`,
    actor: ctx.actor,
    occurredAt,
    recordedAt: ctx.recordedAt,
    correlationId: ctx.correlationId,
  }) as BusinessEvent;
}

/**
 * A batch, all or nothing: the events, or a 400 naming every offending field (`events.3.payload.since`),
 * or a 403 naming the first event of a type the department may not send.
 */
export function admitBusinessEvents(raw: readonly unknown[], ctx: BatchContext): BusinessEvent[] {
  const checked = raw.map((r) => checkBusinessEvent(r, ctx.department));
  const violations = checked.flatMap((c, i) => c.violations.map((v) => ({ field: `events.${i}.${v.field}`, rule: v.rule, message: v.message.startsWith(v.field) ? `events.${i}.${v.message}` : v.message })));
  if (violations.length) throw new ContractViolationError(violations);
  const forbidden = checked.findIndex((c) => c.forbidden !== null);
  if (forbidden >= 0) throw new DomainError('FORBIDDEN', `events[${forbidden}]: ${checked[forbidden]?.forbidden}`);
  return raw.map((r) => buildBusinessEvent(r as BusinessEventInput, ctx));
}
