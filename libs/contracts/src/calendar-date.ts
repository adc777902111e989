import { registerDecorator } from 'class-validator';
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
 * rule (`TOLERATED_ON_THE_LOG` in registry.ts). Events are never rewritten.
 */
export const CALENDAR_DATE_RULE = 'isCalendarDate';

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
