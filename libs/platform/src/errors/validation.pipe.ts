import { BadRequestException, ValidationPipe } from '@nestjs/common';
import type { ArgumentMetadata, ValidationError } from '@nestjs/common';
import { flattenValidationErrors } from '@qmcb/contracts';

/**
 * A property that is absent (or null) breaks every rule it carries, and class-validator reports them
 * all: a missing `expectedVersion` would read "must not be greater than 1000000". One violation says
 * what is wrong instead: rule `isDefined`, "expectedVersion is required" ("… (got null)" for null).
 */
function requiredFirst(errors: ValidationError[]): ValidationError[] {
  return errors.map((e) => {
    if ((e.value === undefined || e.value === null) && e.constraints && Object.keys(e.constraints).length > 0) {
      const message = e.value === null ? `${e.property} is required (got null)` : `${e.property} is required`;
      return { ...e, constraints: { isDefined: message }, children: [] };
    }
    return e.children?.length ? { ...e, children: requiredFirst(e.children) } : e;
  });
}

/**
 * The rules that say what kind of value a field takes: its type, and `notCitizenId` (a citizen ID
 * where a person ID goes). When one of them is broken, the value's other rules say nothing useful
 * (`"3"` for an integer from 1 to 1,000,000 is not "less than 1" nor "greater than 1000000"): only
 * that rule is reported for the field.
 */
const TYPE_RULES: ReadonlySet<string> = new Set(['isInt', 'isNumber', 'isString', 'isBoolean', 'isArray', 'isObject', 'isDate', 'notCitizenId']);

function typeFirst(errors: ValidationError[]): ValidationError[] {
  return errors.map((e) => {
    const broken = Object.entries(e.constraints ?? {}).filter(([rule]) => TYPE_RULES.has(rule));
    if (broken.length > 0) return { ...e, constraints: Object.fromEntries(broken), children: [] };
    return e.children?.length ? { ...e, children: typeFirst(e.children) } : e;
  });
}

/** 400 VALIDATION_FAILED naming every offending field by its dotted path (`form.insurance.0.region`). */
export function validationExceptionFactory(errors: ValidationError[]): BadRequestException {
  const violations = flattenValidationErrors(typeFirst(requiredFirst(errors)));
  const fields = [...new Set(violations.map((v) => v.field))];
  return new BadRequestException({
    statusCode: 400,
    code: 'VALIDATION_FAILED',
    message: `validation failed: ${fields.join(', ')}`,
    violations,
  });
}

/** Types whose values the pipe does not validate (as Nest's ValidationPipe decides): a body declared `unknown` or `object` is the route's. */
const NOT_VALIDATED: readonly unknown[] = [String, Boolean, Number, Array, Object, Buffer, Date];

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * A body validated against a DTO must be a JSON object: an array would be validated element by
 * element (violations named `0`, `1`, …) and `null` or a number not at all. One violation for the body.
 */
class QmcbValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const validated = metadata.metatype !== undefined && !NOT_VALIDATED.includes(metadata.metatype);
    if (metadata.type === 'body' && validated && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      const message = `body must be a JSON object (got ${kindOf(value)})`;
      throw new BadRequestException({ statusCode: 400, code: 'VALIDATION_FAILED', message, violations: [{ field: 'body', rule: 'isObject', message }] });
    }
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new QmcbValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: validationExceptionFactory,
  });
}
