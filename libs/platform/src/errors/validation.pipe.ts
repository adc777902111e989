import { BadRequestException, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from '@nestjs/common';
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

/** 400 VALIDATION_FAILED naming every offending field by its dotted path (`form.insurance.0.region`). */
export function validationExceptionFactory(errors: ValidationError[]): BadRequestException {
  const violations = flattenValidationErrors(requiredFirst(errors));
  const fields = [...new Set(violations.map((v) => v.field))];
  return new BadRequestException({
    statusCode: 400,
    code: 'VALIDATION_FAILED',
    message: `validation failed: ${fields.join(', ')}`,
    violations,
  });
}

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: validationExceptionFactory,
  });
}
