import { isISO8601, registerDecorator } from 'class-validator';
import type { ValidationArguments, ValidationOptions } from 'class-validator';

/**
 * The one calendar-date rule: a `YYYY-MM-DD` string must also name a day that exists (month 01-12,
 * day within the month, 29 February in leap years only, no year 0000). The shape itself is checked by
 * `DATE_PATTERN` (rule `matches`, "must be YYYY-MM-DD"); this rule judges only strings of that shape, so
 * a malformed value gets one violation, not two.
 *
 * Requests are refused an impossible date (400, rule `isCalendarDate`), every DTO and every event
 * contract field that takes a date carries `@IsCalendarDate()`. The log is not: events appended
 * before the rule existed may hold one, and they must still decode (a rebuild must not dead-letter
 * them), so the contract check of events on the log (`parseEvent`, `decodeEvent`) tolerates this one
 * rule (`TOLERATED_ON_THE_LOG` in registry.ts). Events are never rewritten. Date-times
 * (`isCalendarDateTime`, beside `IsISO8601`) and `YYYY-MM` months (`isCalendarMonth`) follow the same
 * rule, below.
 */
export const CALENDAR_DATE_RULE = 'isCalendarDate';
/** The same rule for ISO 8601 date-times (`2026-02-30T10:00:00Z` is refused) and `YYYY-MM` months (`2026-13`). */
export const CALENDAR_DATE_TIME_RULE = 'isCalendarDateTime';
export const CALENDAR_MONTH_RULE = 'isCalendarMonth';

const SHAPE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when `value` is `YYYY-MM-DD` and that day exists in the (proleptic) Gregorian calendar. */
export function isCalendarDate(value: string): boolean {
  const m = SHAPE.exec(value);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] as number;
  return day <= days;
}

/** The message of a refused date, naming the field and the value. */
export function calendarDateMessage(field: string, value: unknown): string {
  return `${field} must be a date that exists (YYYY-MM-DD), got ${JSON.stringify(value)}`;
}

/**
 * class-validator decorator of the rule (`isCalendarDate`). Values that are not a `YYYY-MM-DD` string
 * pass it: their shape is `Matches(DATE_PATTERN)`'s to refuse, and absence `IsOptional`'s to allow.
 */
export function IsCalendarDate(options?: ValidationOptions): PropertyDecorator {
  return (object: object, propertyName: string | symbol): void => {
    registerDecorator({
      name: CALENDAR_DATE_RULE,
      target: object.constructor,
      propertyName: propertyName as string,
      options: { message: (args: ValidationArguments) => calendarDateMessage(args.property, args.value), ...options },
      validator: {
        validate(value: unknown): boolean {
          return typeof value !== 'string' || !SHAPE.test(value) || isCalendarDate(value);
        },
      },
    });
  };
}

/**
 * A date-time's calendar part: the date `YYYY-MM-DD` (or `YYYYMMDD`) it starts with, and the time of
 * day after `T` or a space (hh, mm, ss). Other ISO 8601 spellings (week and ordinal dates) and the
 * shape itself are `IsISO8601`'s to judge.
 */
const DATE_TIME = /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2}))?)?)?/;

/**
 * False when an ISO 8601 date-time names a day or a time of day that does not exist: a day not in its
 * month (`2026-02-30T10:00:00Z`), month 13, hour 24 or more (but `24:00:00`), minute or second 60 or
 * more. Anything else is true (a shape it does not read is left to `IsISO8601`).
 */
export function isCalendarDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m) return true;
  if (!isCalendarDate(`${m[1]}-${m[2]}-${m[3]}`)) return false;
  if (m[4] === undefined) return true;
  const hour = Number(m[4]);
  const minute = Number(m[5] ?? 0);
  const second = Number(m[6] ?? 0);
  if (hour === 24) return minute === 0 && second === 0;
  return hour < 24 && minute < 60 && second < 60;
}

export function calendarDateTimeMessage(field: string, value: unknown): string {
  return `${field} must be a date and time that exists (ISO 8601), got ${JSON.stringify(value)}`;
}

/**
 * class-validator decorator of the rule (`isCalendarDateTime`), beside `IsISO8601()`: a string naming
 * a day or time that does not exist is refused; anything else passes (its shape is `IsISO8601`'s).
 */
export function IsCalendarDateTime(options?: ValidationOptions): PropertyDecorator {
  return (object: object, propertyName: string | symbol): void => {
    registerDecorator({
      name: CALENDAR_DATE_TIME_RULE,
      target: object.constructor,
      propertyName: propertyName as string,
      options: { message: (args: ValidationArguments) => calendarDateTimeMessage(args.property, args.value), ...options },
      validator: {
        validate(value: unknown): boolean {
          // Only what IsISO8601 accepts is judged: a malformed value gets one violation (isIso8601), not two.
          // (The cheap check first: the shape is looked at again only for a day that does not exist.)
          return typeof value !== 'string' || isCalendarDateTime(value) || !isISO8601(value);
        },
      },
    });
  };
}

const MONTH = /^(\d{4})-(\d{2})$/;

/** True when `value` is `YYYY-MM` and that month exists (01-12, no year 0000). */
export function isCalendarMonth(value: string): boolean {
  const m = MONTH.exec(value);
  if (!m) return false;
  const month = Number(m[2]);
  return Number(m[1]) >= 1 && month >= 1 && month <= 12;
}

export function calendarMonthMessage(field: string, value: unknown): string {
  return `${field} must be a month that exists (YYYY-MM), got ${JSON.stringify(value)}`;
}

/**
 * class-validator decorator of the rule (`isCalendarMonth`), beside `Matches(MONTH_PATTERN)`: values
 * that are not a `YYYY-MM` string pass it (the pattern refuses their shape).
 */
export function IsCalendarMonth(options?: ValidationOptions): PropertyDecorator {
  return (object: object, propertyName: string | symbol): void => {
    registerDecorator({
      name: CALENDAR_MONTH_RULE,
      target: object.constructor,
      propertyName: propertyName as string,
      options: { message: (args: ValidationArguments) => calendarMonthMessage(args.property, args.value), ...options },
      validator: {
        validate(value: unknown): boolean {
          return typeof value !== 'string' || !MONTH.test(value) || isCalendarMonth(value);
        },
      },
    });
  };
}
