import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { IsISO8601, IsOptional, Matches, validateSync } from 'class-validator';
import { DATE_PATTERN } from './business-vocabulary';
import { IsCalendarDate, IsCalendarDateTime, IsCalendarMonth, isCalendarDate, isCalendarDateTime, isCalendarMonth } from './calendar-date';
import { newEvent } from './event-factory';
import { ChangeFields } from './events/change-request';
import { INSURANCE_CONTRIBUTION_PAID, INSURANCE_ENROLLED, InsuranceContributionPaidV1, InsuranceEnrolledV1 } from './events/insurance-business.events';
import { SURVEY_CAMPAIGN_OPENED } from './events/survey-campaign.events';
import { EnvelopeShape, decodeEvent, flattenValidationErrors, parseEvent } from './registry';

class Dated {
  @IsOptional() @Matches(DATE_PATTERN, { message: 'on must be YYYY-MM-DD' }) @IsCalendarDate()
  on?: unknown;
}

const violations = (plain: object, cls: new () => object = Dated): { field: string; rule: string; message: string }[] =>
  flattenValidationErrors(validateSync(plainToInstance(cls, plain), { whitelist: true, forbidNonWhitelisted: true }));

describe('isCalendarDate', () => {
  it.each(['2024-02-29', '2000-02-29', '2026-02-28', '2026-12-31', '2026-01-01', '1900-02-28', '0001-01-01'])('accepts %s, a day that exists', (d) => {
    expect(isCalendarDate(d)).toBe(true);
  });

  it.each(['2026-02-29', '1900-02-29', '2026-02-30', '2026-04-31', '2026-13-01', '2026-13-45', '2026-00-10', '2026-01-00', '2026-01-32', '0000-01-01'])('refuses %s, a day that does not exist', (d) => {
    expect(isCalendarDate(d)).toBe(false);
  });

  it.each(['', '2026-2-1', '2026-02-01T00:00:00Z', ' 2026-02-01', '２０２６-02-01'])('refuses %j, not YYYY-MM-DD', (d) => {
    expect(isCalendarDate(d)).toBe(false);
  });
});

describe('@IsCalendarDate()', () => {
  it('refuses an impossible date naming the field, the rule and the value', () => {
    expect(violations({ on: '2026-02-30' })).toEqual([{ field: 'on', rule: 'isCalendarDate', message: 'on must be a date that exists (YYYY-MM-DD), got "2026-02-30"' }]);
    expect(violations({ on: '2026-13-45' })).toEqual([{ field: 'on', rule: 'isCalendarDate', message: 'on must be a date that exists (YYYY-MM-DD), got "2026-13-45"' }]);
  });

  it('accepts a real date and an absent one; leaves a malformed one to the pattern (one violation, not two)', () => {
    expect(violations({ on: '2024-02-29' })).toEqual([]);
    expect(violations({})).toEqual([]);
    expect(violations({ on: '2026/02/01' })).toEqual([{ field: 'on', rule: 'matches', message: 'on must be YYYY-MM-DD' }]);
    expect(violations({ on: 20260201 })).toEqual([{ field: 'on', rule: 'matches', message: 'on must be YYYY-MM-DD' }]);
  });

  it('is on the event contracts that take a date: a request with fields.birthDate 2031-02-30 is refused', () => {
    expect(violations({ birthDate: '2031-02-30' }, ChangeFields)).toEqual([
      { field: 'birthDate', rule: 'isCalendarDate', message: 'birthDate must be a date that exists (YYYY-MM-DD), got "2031-02-30"' },
    ]);
    expect(violations({ department: 'social-insurance', businessId: 'b-1', insuranceType: 'medical', scheme: 'resident', region: '440981', since: '2026-02-30' }, InsuranceEnrolledV1)).toEqual([
      { field: 'since', rule: 'isCalendarDate', message: 'since must be a date that exists (YYYY-MM-DD), got "2026-02-30"' },
    ]);
  });
});

describe('events already on the log with an impossible date (accepted before the rule)', () => {
  const origin = { source: 'dept:social-insurance', actor: 'dept:social-insurance', occurredAt: '2026-03-01T01:30:00.000Z', correlationId: 'c-1' };
  const enrolled = newEvent(INSURANCE_ENROLLED, 'e-1', '440981198503150012', { department: 'social-insurance', businessId: 'b-1', insuranceType: 'medical', scheme: 'resident', region: '440981', since: '2026-02-30' }, origin);

  it('still decode as they are (a rebuild does not dead-letter them), on read and on write', () => {
    expect(decodeEvent(Buffer.from(JSON.stringify(enrolled))).payload).toEqual(enrolled.payload);
    expect(parseEvent(enrolled).payload).toEqual(enrolled.payload);
    const campaign = { campaignId: '7f0a3d52-6a3c-4d43-9a51-2f6b3f1c2a10', countyCode: '440981', name: 'x', startsOn: '2026-02-30', deadline: '2026-13-45', openedBy: 'county-1' };
    expect(decodeEvent(JSON.stringify(newEvent(SURVEY_CAMPAIGN_OPENED, 'e-2', 'O-00000000000000000000000000000001', campaign as never, origin))).payload).toEqual(campaign);
  });

  it('while the shape is still enforced on the log', () => {
    expect(() => decodeEvent(JSON.stringify({ ...enrolled, payload: { ...enrolled.payload, since: '2026/02/01' } }))).toThrow('event violates its contract: payload.since (matches)');
  });
});

class Timed {
  @IsOptional() @IsISO8601() @IsCalendarDateTime()
  at?: unknown;

  @IsOptional() @Matches(/^\d{4}-\d{2}$/, { message: 'month must be YYYY-MM' }) @IsCalendarMonth()
  month?: unknown;
}

describe('isCalendarDateTime', () => {
  it.each(['2024-02-29T10:00:00Z', '2026-02-28T23:59:59.999+08:00', '2026-12-31T00:00:00Z', '2026-03-01', '2026-03-01T24:00:00Z', '20260301T093000Z', '2026-W09-1', '2026-060'])(
    'accepts %s (a moment that exists, or a spelling it leaves to IsISO8601)',
    (v) => expect(isCalendarDateTime(v)).toBe(true),
  );

  it.each(['2026-02-30T10:00:00Z', '2026-02-29T00:00:00+08:00', '2026-13-01T00:00:00Z', '2026-04-31', '2026-01-01T25:00:00Z', '2026-01-01T24:01:00Z', '2026-01-01T10:60:00Z', '2026-01-01T10:00:61Z'])(
    'refuses %s, a day or a time of day that does not exist',
    (v) => expect(isCalendarDateTime(v)).toBe(false),
  );
});

describe('isCalendarMonth', () => {
  it.each(['2026-01', '2026-12', '0001-01'])('accepts %s', (v) => expect(isCalendarMonth(v)).toBe(true));
  it.each(['2026-13', '2026-00', '0000-01', '2026-1', '2026-01-01', ''])('refuses %j', (v) => expect(isCalendarMonth(v)).toBe(false));
});

describe('@IsCalendarDateTime() and @IsCalendarMonth()', () => {
  it('refuse an impossible date-time or month naming the field, the rule and the value, one violation each', () => {
    expect(violations({ at: '2026-02-30T10:00:00Z', month: '2026-13' }, Timed)).toEqual([
      { field: 'at', rule: 'isCalendarDateTime', message: 'at must be a date and time that exists (ISO 8601), got "2026-02-30T10:00:00Z"' },
      { field: 'month', rule: 'isCalendarMonth', message: 'month must be a month that exists (YYYY-MM), got "2026-13"' },
    ]);
  });

  it('accept real ones and absent ones; leave a malformed one to the shape rule', () => {
    expect(violations({ at: '2024-02-29T23:59:59+08:00', month: '2026-12' }, Timed)).toEqual([]);
    expect(violations({}, Timed)).toEqual([]);
    expect(violations({ at: '2026-13-01Tnoon', month: '2026/12' }, Timed)).toEqual([
      { field: 'at', rule: 'isIso8601', message: 'at must be a valid ISO 8601 date string' },
      { field: 'month', rule: 'matches', message: 'month must be YYYY-MM' },
    ]);
  });

  it('are on the event contracts that take a date-time or a month: the envelope times, a visit, a contribution month', () => {
    const paid = { department: 'social-insurance', businessId: 'b-1', insuranceType: 'medical', scheme: 'resident', region: '440981', month: '2026-13', paidBy: 'self' };
    expect(violations(paid, InsuranceContributionPaidV1)).toEqual([{ field: 'month', rule: 'isCalendarMonth', message: 'month must be a month that exists (YYYY-MM), got "2026-13"' }]);
    const envelope = { ...newEvent(INSURANCE_CONTRIBUTION_PAID, 'e-4', '440981198503150012', { ...paid, month: '2026-12' } as never, { source: 's', actor: 'a', occurredAt: '2026-03-01T00:00:00.000Z', correlationId: 'c' }), recordedAt: '2026-02-29T08:00:00Z' };
    expect(violations(envelope, EnvelopeShape)).toEqual([{ field: 'recordedAt', rule: 'isCalendarDateTime', message: 'recordedAt must be a date and time that exists (ISO 8601), got "2026-02-29T08:00:00Z"' }]);
  });
});

describe('events already on the log with an impossible date-time or month (accepted before the rules)', () => {
  const origin = { source: 'dept:social-insurance', actor: 'dept:social-insurance', occurredAt: '2026-02-30T01:30:00.000Z', correlationId: 'c-1' };
  const paid = newEvent(
    INSURANCE_CONTRIBUTION_PAID,
    'e-3',
    '440981198503150012',
    { department: 'social-insurance', businessId: 'b-1', insuranceType: 'medical', scheme: 'resident', region: '440981', month: '2026-13', paidBy: 'self' },
    origin,
  );

  it('still decode as they are, on read and on write', () => {
    expect(paid.occurredAt).toBe('2026-02-30T01:30:00.000Z');
    expect(decodeEvent(Buffer.from(JSON.stringify(paid))).payload).toEqual(paid.payload);
    expect(parseEvent(paid).occurredAt).toBe('2026-02-30T01:30:00.000Z');
  });

  it('while the shapes are still enforced on the log', () => {
    expect(() => decodeEvent(JSON.stringify({ ...paid, payload: { ...paid.payload, month: '2026/13' } }))).toThrow('event violates its contract: payload.month (matches)');
    expect(() => decodeEvent(JSON.stringify({ ...paid, occurredAt: 'yesterday' }))).toThrow('event violates its contract: occurredAt (isIso8601)');
  });
});
