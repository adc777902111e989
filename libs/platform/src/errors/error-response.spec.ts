import { BadRequestException, ConflictException, HttpException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { ContractViolationError } from '@qmcb/contracts';
import { notFound as notFound404, unauthenticated } from '@qmcb/auth';
import { JsonTooDeepError } from '../http/body';
import { IsIn, Matches, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { DomainError } from './domain.error';
import { ERROR_CODES, httpStatusOf } from './error-code';
import { toErrorResponse } from './error-response';
import { createValidationPipe } from './validation.pipe';

class Form {
  @Matches(/^1\d{10}$/, { message: 'phone must be an 11-digit mobile number' })
  phone: string;
}
class Submission {
  @ValidateNested() @Type(() => Form)
  form: Form;

  @IsIn(['a', 'b'])
  kind: string;
}

describe('toErrorResponse', () => {
  it('maps every DomainError code to its status and the stable body', () => {
    const statuses = Object.fromEntries(ERROR_CODES.map((c) => [c, httpStatusOf(c)]));
    expect(statuses).toEqual({
      VALIDATION_FAILED: 400,
      UNAUTHENTICATED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      CONFLICT: 409,
      RATE_LIMITED: 429,
      UNAVAILABLE: 503,
      INTERNAL: 500,
    });
    expect(toErrorResponse(new DomainError('CONFLICT', 'review r1 is at version 3, not 2'))).toEqual({
      status: 409,
      body: { statusCode: 409, code: 'CONFLICT', message: 'review r1 is at version 3, not 2' },
      unexpected: false,
    });
    const violations = [{ field: 'a.b', rule: 'isIn', message: 'a.b must be x' }];
    expect(toErrorResponse(new DomainError('VALIDATION_FAILED', 'bad', { violations })).body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'bad',
      violations,
    });
  });

  it('maps a ContractViolationError to 400 with its violations', () => {
    const violations = [{ field: 'payload.facts.villageCode', rule: 'matches', message: 'villageCode must be a 12-digit village/community code' }];
    expect(toErrorResponse(new ContractViolationError(violations))).toEqual({
      status: 400,
      body: { statusCode: 400, code: 'VALIDATION_FAILED', message: 'event violates its contract: payload.facts.villageCode (matches)', violations },
      unexpected: false,
    });
  });

  it("maps Nest's exceptions by status, keeping a code already in the body", () => {
    expect(toErrorResponse(new ConflictException()).body).toEqual({ statusCode: 409, code: 'CONFLICT', message: 'Conflict' });
    expect(toErrorResponse(new PayloadTooLargeException()).body.code).toBe('VALIDATION_FAILED');
    expect(toErrorResponse(new BadRequestException(['a must be x', 'b must be y'])).body.message).toBe('a must be x; b must be y');
    expect(toErrorResponse(unauthenticated('token expired')).body).toEqual({ statusCode: 401, code: 'UNAUTHENTICATED', message: 'token expired' });
    expect(toErrorResponse(new HttpException('upstream', 502))).toMatchObject({ status: 502, body: { code: 'INTERNAL' }, unexpected: true });
  });

  it('answers every 404 with one body, whatever it was thrown with, keeping the reason for the audit only', () => {
    const notFound = { statusCode: 404, code: 'NOT_FOUND', message: 'not found' };
    expect(toErrorResponse(new NotFoundException('Cannot GET /nope'))).toEqual({ status: 404, body: notFound, unexpected: false, reason: 'Cannot GET /nope' });
    expect(toErrorResponse(new DomainError('NOT_FOUND', 'review 42 not found'))).toEqual({ status: 404, body: notFound, unexpected: false, reason: 'review 42 not found' });
    expect(toErrorResponse(notFound404('outside the caller\'s division 440981'))).toEqual({ status: 404, body: notFound, unexpected: false, reason: "outside the caller's division 440981" });
  });

  it('maps 429 to RATE_LIMITED and keeps its message', () => {
    const limited = new HttpException({ statusCode: 429, code: 'RATE_LIMITED', message: 'rate limit of 60 list requests per 60 s exceeded; retry in 12 s' }, 429);
    expect(toErrorResponse(limited).body).toEqual({ statusCode: 429, code: 'RATE_LIMITED', message: 'rate limit of 60 list requests per 60 s exceeded; retry in 12 s' });
    expect(toErrorResponse(new HttpException('slow down', 429)).body.code).toBe('RATE_LIMITED');
  });

  it('words a body over its route\'s limit and a body nested too deeply', () => {
    const tooLarge = Object.assign(new Error('request entity too large'), { status: 413, expose: true, type: 'entity.too.large', limit: 102400 });
    expect(toErrorResponse(tooLarge).body).toEqual({ statusCode: 413, code: 'VALIDATION_FAILED', message: 'request body larger than the 102400 bytes this route accepts' });
    expect(toErrorResponse(new JsonTooDeepError(32, 33)).body).toEqual({ statusCode: 400, code: 'VALIDATION_FAILED', message: 'JSON nested deeper than 32 levels (at character 33)' });
  });

  it('hides unknown errors behind 500 INTERNAL', () => {
    expect(toErrorResponse(new Error('duplicate key 44098119850315123X'))).toEqual({
      status: 500,
      body: { statusCode: 500, code: 'INTERNAL', message: 'internal error' },
      unexpected: true,
    });
    expect(toErrorResponse('thrown string').status).toBe(500);
  });

  it('keeps client errors of the body parser as 400s', () => {
    const parse = Object.assign(new SyntaxError('Unexpected token } in JSON at position 9'), { status: 400, expose: true, type: 'entity.parse.failed' });
    expect(toErrorResponse(parse).body).toEqual({ statusCode: 400, code: 'VALIDATION_FAILED', message: 'Unexpected token } in JSON at position 9' });
  });
});

describe('createValidationPipe', () => {
  it('answers 400 VALIDATION_FAILED naming nested fields by dotted path', async () => {
    const pipe = createValidationPipe();
    let thrown: unknown;
    try {
      await pipe.transform({ form: { phone: '123' }, kind: 'c', extra: 1 }, { type: 'body', metatype: Submission });
    } catch (e) {
      thrown = e;
    }
    expect(toErrorResponse(thrown).body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'validation failed: extra, form.phone, kind',
      violations: [
        { field: 'extra', rule: 'whitelistValidation', message: 'property extra should not exist' },
        { field: 'form.phone', rule: 'matches', message: 'form.phone must be an 11-digit mobile number' },
        { field: 'kind', rule: 'isIn', message: 'kind must be one of the following values: a, b' },
      ],
    });
  });
});
