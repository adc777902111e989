import { ContractViolationError } from '@qmcb/contracts';
import type { Department } from '@qmcb/contracts';
import { checkCharacter } from '@qmcb/domain';
import { DomainError } from '@qmcb/platform';
import { admitBusinessEvents } from './business-event-admission';

const F = '44098119700315123';
const ID = `${F}${checkCharacter(F)}`;
const ctx = { department: 'social-insurance' as const, actor: 'key:si-1', correlationId: 'c-1', recordedAt: '2026-03-02T00:00:00.000Z' };
const enrolled = (over: Record<string, unknown> = {}) => ({
  type: 'insurance.enrolled',
  businessId: 'SI-1',
  citizenId: ID,
  occurredAt: '2026-03-01T09:00:00+08:00',
  payload: { insuranceType: 'pension', scheme: 'resident', region: '440981', since: '2026-03-01' },
  ...over,
});

function refusal(raw: unknown[], department: Department = ctx.department): unknown {
  try {
    admitBusinessEvents(raw, { ...ctx, department });
  } catch (e) {
    if (e instanceof ContractViolationError) return { violations: e.violations };
    if (e instanceof DomainError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('admitted');
}

describe('admission of business events', () => {
  it('given a valid event, then its event: the envelope from the request and the key, the department and business ID in the payload', () => {
    const [event] = admitBusinessEvents([enrolled()], ctx);
    expect(event).toEqual({
      eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'insurance.enrolled',
      schemaVersion: 1,
      personKey: ID,
      occurredAt: '2026-03-01T01:00:00.000Z',
      recordedAt: '2026-03-02T00:00:00.000Z',
      source: 'dept:social-insurance',
      actor: 'key:si-1',
      correlationId: 'c-1',
      causationId: null,
      basedOnVersion: null,
      payload: { insuranceType: 'pension', scheme: 'resident', region: '440981', since: '2026-03-01', department: 'social-insurance', businessId: 'SI-1' },
    });
  });

  it('given the same event sent again (another request, keys in another order), then the same event ID; other content, another ID', () => {
    const [a] = admitBusinessEvents([enrolled()], ctx);
    const [b] = admitBusinessEvents([enrolled({ payload: { since: '2026-03-01', region: '440981', scheme: 'resident', insuranceType: 'pension' }, occurredAt: '2026-03-01T01:00:00Z' })], { ...ctx, correlationId: 'c-2', recordedAt: '2026-03-05T00:00:00.000Z' });
    const [c] = admitBusinessEvents([enrolled({ payload: { insuranceType: 'pension', scheme: 'resident', region: '440981', since: '2026-03-02' } })], ctx);
    expect(b?.eventId).toBe(a?.eventId);
    expect(c?.eventId).not.toBe(a?.eventId);
  });

  it('given invalid events, then the batch is refused naming every field and rule, and nothing of it is admitted', () => {
    expect(
      refusal([
        enrolled(),
        enrolled({ type: 'insurance.moved', extra: 1 }),
        enrolled({ citizenId: `${F}${checkCharacter(F) === '0' ? '1' : '0'}`, occurredAt: '2026-03-01 09:00' }),
        enrolled({ payload: { insuranceType: 'pension', scheme: 'resident', region: '4409', since: '2026/03/01', department: 'tax' } }),
      ]),
    ).toEqual({
      violations: [
        { field: 'events.1.extra', rule: 'whitelistValidation', message: 'property extra should not exist' },
        { field: 'events.1.type', rule: 'isIn', message: expect.stringContaining('type must be one of: insurance.enrolled, insurance.suspended') },
        { field: 'events.2.citizenId', rule: 'citizenId', message: 'events.2.citizenId must be a valid citizen ID (GB 11643): business systems key people by their social security number' },
        { field: 'events.2.occurredAt', rule: 'isIso8601', message: 'events.2.occurredAt must be an ISO 8601 time with its offset, e.g. 2026-03-01T09:30:00+08:00' },
        { field: 'events.3.payload.department', rule: 'serverSet', message: 'events.3.payload.department must not be sent: it comes from the API key' },
        { field: 'events.3.payload.since', rule: 'matches', message: 'events.3.payload.since must be YYYY-MM-DD' },
        { field: 'events.3.payload.region', rule: 'matches', message: 'events.3.payload.region must be a 6-digit county code' },
      ],
    });
  });

  it('given a time or a month that does not exist (30 February, month 13), then refused on the calendar rule, naming the field and the value', () => {
    const paid = { type: 'insurance.contribution-paid', businessId: 'SI-2', citizenId: ID, occurredAt: '2026-03-01T09:00:00+08:00', payload: { insuranceType: 'pension', scheme: 'resident', region: '440981', month: '2026-13', paidBy: 'self' } };
    expect(refusal([enrolled({ occurredAt: '2026-02-30T10:00:00Z' }), paid])).toEqual({
      violations: [
        { field: 'events.0.occurredAt', rule: 'isCalendarDateTime', message: 'events.0.occurredAt must be a date and time that exists (ISO 8601), got "2026-02-30T10:00:00Z"' },
        { field: 'events.1.payload.month', rule: 'isCalendarMonth', message: 'events.1.payload.month must be a month that exists (YYYY-MM), got "2026-13"' },
      ],
    });
  });

  it('given a type the department may not send, then 403 naming the event', () => {
    expect(refusal([enrolled(), { type: 'death.registered', businessId: 'D-1', citizenId: ID, occurredAt: '2026-03-01T00:00:00Z', payload: { deathDate: '2026-02-28' } }])).toEqual({
      code: 'FORBIDDEN',
      message: "events[1]: events of type 'death.registered' may not be sent by department 'social-insurance'",
    });
  });

  it('given a move into a village that does not exist, then refused on the village', () => {
    expect(refusal([{ type: 'household.moved-in', businessId: 'M-1', citizenId: ID, occurredAt: '2026-03-01T00:00:00Z', payload: { movedOn: '2026-03-01', villageCode: '440981999999', name: '张三' } }], 'public-security')).toEqual({
      violations: [{ field: 'events.0.payload.villageCode', rule: 'knownDivision', message: 'events.0.payload.villageCode 440981999999 is not a known village/community code' }],
    });
  });
});
