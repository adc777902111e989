import { BadRequestException, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from '@nestjs/common';
import { flattenValidationErrors } from '@qmcb/contracts';

/** 400 VALIDATION_FAILED naming every offending field by its dotted path (`form.insurance.0.region`). */
export function validationExceptionFactory(errors: ValidationError[]): BadRequestException {
  const violations = flattenValidationErrors(errors);
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
