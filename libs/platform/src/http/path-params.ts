import { Injectable } from '@nestjs/common';
import { registerDecorator } from 'class-validator';
import type { ValidationArguments, ValidationOptions } from 'class-validator';
import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { DomainError } from '../errors/domain.error';
import { PERSON_ID_PATTERN } from '../person-ids/person-ids';

/**
 * Pipes of path parameters whose refusals follow the one error body (docs/api/errors.md): 400
 * `VALIDATION_FAILED` with a violation naming the parameter and the rule. The value is never echoed
 * (a URL may carry anything, a citizen ID included).
 *
 *   @Param('taskId', UuidPipe) taskId: string
 *   @Param('deadLetterId', IntPipe) deadLetterId: number
 *   @Param('personId', PersonIdPipe) personId: string
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INT = /^(0|[1-9]\d{0,14})$/;

/** Something that may be a citizen ID: never accepted in a URL (it would sit in every proxy's access log). */
export const CITIZEN_ID_LIKE = /^[0-9０-９]{15,17}[0-9Xx０-９ＸｘX]?$/;

export const CITIZEN_ID_IN_URL_MESSAGE = 'a citizen ID is not accepted in a URL: POST /persons/lookup with {"citizenId": "..."}, or use the personId of a list or view';

function refuse(field: string, rule: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', message, { violations: [{ field, rule, message }] });
}

function nameOf(metadata: ArgumentMetadata, fallback: string): string {
  return typeof metadata.data === 'string' && metadata.data ? metadata.data : fallback;
}

/** A UUID (any version, either case): rule `isUuid`. */
@Injectable()
export class UuidPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, metadata: ArgumentMetadata): string {
    if (typeof value === 'string' && UUID.test(value)) return value;
    const field = nameOf(metadata, 'id');
    throw refuse(field, 'isUuid', `${field} must be a UUID (8-4-4-4-12 hexadecimal digits)`);
  }
}

/** A non-negative integer in decimal: rule `isInt`; answers the number. */
@Injectable()
export class IntPipe implements PipeTransform<unknown, number> {
  transform(value: unknown, metadata: ArgumentMetadata): number {
    if (typeof value === 'string' && INT.test(value)) return Number(value);
    // The global ValidationPipe (transform) has already made a number of a `number` parameter.
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
    const field = nameOf(metadata, 'id');
    throw refuse(field, 'isInt', `${field} must be a non-negative integer`);
  }
}

/**
 * A person ID (53 characters `a-z2-7`, as lists and views give them): rule `isPersonId`; a citizen
 * ID in its place is refused with rule `notCitizenId` and says where to send it. A well-formed ID
 * this deployment did not make passes here and is answered 404 by the reader, like a person who does
 * not exist.
 */
@Injectable()
export class PersonIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, metadata: ArgumentMetadata): string {
    if (typeof value === 'string' && PERSON_ID_PATTERN.test(value)) return value;
    const field = nameOf(metadata, 'personId');
    if (typeof value === 'string' && CITIZEN_ID_LIKE.test(value)) throw refuse(field, 'notCitizenId', CITIZEN_ID_IN_URL_MESSAGE);
    throw refuse(field, 'isPersonId', `${field} must be the personId of a list or view (53 characters a-z and 2-7)`);
  }
}

/**
 * A person ID property of a body or query (`@NotCitizenId() @Matches(PERSON_ID_PATTERN)`): a citizen
 * ID in its place is refused with rule `notCitizenId`, saying to give it as `citizenId`, rather than
 * only "must be a person ID" (the validation pipe reports this rule alone). The value is never echoed.
 */
export function NotCitizenId(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'notCitizenId',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => !(typeof value === 'string' && CITIZEN_ID_LIKE.test(value)),
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property ?? 'personId'} must be the personId of a list or view, not a citizen ID: give a citizen ID as {"citizenId": "..."}`,
      },
    });
  };
}
