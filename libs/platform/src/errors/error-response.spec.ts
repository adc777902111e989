import { BadRequestException, ConflictException, HttpException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { ContractViolationError } from '@qmcb/contracts';
import { notFound as notFound404, unauthenticated } from '@qmcb/auth';
import { JsonTooDeepError } from '../http/body';
import { IsIn, IsInt, Matches, Max, Min, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { DomainError } from './domain.error';
import { ERROR_CODES, httpStatusOf } from './error-code';
import { toErrorResponse } from './error-response';
import { createValidationPipe } from './validation.pipe';
import { CITIZEN_ID_IN_URL_MESSAGE, IntPipe, PersonIdPipe, UuidPipe } from '../http/path-params';

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
    expect(toErrorResponse(tooLarge).body).toEqual({
      statusCode: 413,
      code: 'VALIDATION_FAILED',
      message: 'body must not be larger than the 102400 bytes this route accepts',
      violations: [{ field: 'body', rule: 'maxBytes', message: 'body must not be larger than the 102400 bytes this route accepts' }],
    });
    expect(toErrorResponse(new JsonTooDeepError(32, 33)).body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'body must not nest JSON deeper than 32 levels (deeper at character 33)',
      violations: [{ field: 'body', rule: 'maxDepth', message: 'body must not nest JSON deeper than 32 levels (deeper at character 33)' }],
    });
  });

  it('hides unknown errors behind 500 INTERNAL', () => {
    expect(toErrorResponse(new Error('duplicate key 44098119850315123X'))).toEqual({
      status: 500,
      body: { statusCode: 500, code: 'INTERNAL', message: 'internal error' },
      unexpected: true,
    });
    expect(toErrorResponse('thrown string').status).toBe(500);
  });

  it('answers a body that is not JSON with the field and the rule, never quoting the body', () => {
    const parse = Object.assign(new SyntaxError('Unexpected token } in JSON at position 9'), { status: 400, expose: true, type: 'entity.parse.failed' });
    const violation = { field: 'body', rule: 'isJson', message: 'body must be valid JSON (parse error at character 9)' };
    expect(toErrorResponse(parse).body).toEqual({ statusCode: 400, code: 'VALIDATION_FAILED', message: violation.message, violations: [violation] });
    // Node 20 quotes the text it could not parse, which may hold a citizen ID: none of it is passed on.
    const quoting = Object.assign(new SyntaxError('Unexpected token \'a\', "a44098119850315123X" is not valid JSON'), { status: 400, expose: true, type: 'entity.parse.failed' });
    expect(toErrorResponse(quoting).body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'body must be valid JSON',
      violations: [{ field: 'body', rule: 'isJson', message: 'body must be valid JSON' }],
    });
    // A path parameter express cannot percent-decode: Nest makes a BadRequestException of its URIError, quoting it.
    expect(toErrorResponse(new BadRequestException("Failed to decode param '44098119850315123X%E0%A4%A'")).body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'path must be valid percent-encoded UTF-8',
      violations: [{ field: 'path', rule: 'isUriEncoded', message: 'path must be valid percent-encoded UTF-8' }],
    });
    const charset = Object.assign(new Error('unsupported charset "LATIN1"'), { status: 415, expose: true, type: 'charset.unsupported' });
    expect(toErrorResponse(charset).body).toEqual({
      statusCode: 415,
      code: 'VALIDATION_FAILED',
      message: 'Content-Type charset must be utf-8',
      violations: [{ field: 'Content-Type', rule: 'isIn', message: 'Content-Type charset must be utf-8' }],
    });
  });
});

describe('path parameter pipes', () => {
  const param = (data: string) => ({ type: 'param' as const, data });
  const refusal = (run: () => unknown): unknown => {
    try {
      run();
    } catch (e) {
      return toErrorResponse(e).body;
    }
    return 'accepted';
  };

  it('refuses a path parameter that is not a UUID naming the parameter and the rule, never echoing it', () => {
    const pipe = new UuidPipe();
    expect(pipe.transform('0f0c2b1e-3a4d-4e5f-8a9b-0c1d2e3f4a5b', param('taskId'))).toBe('0f0c2b1e-3a4d-4e5f-8a9b-0c1d2e3f4a5b');
    const message = 'taskId must be a UUID (8-4-4-4-12 hexadecimal digits)';
    expect(refusal(() => pipe.transform('44098119850315123X', param('taskId')))).toEqual({ statusCode: 400, code: 'VALIDATION_FAILED', message, violations: [{ field: 'taskId', rule: 'isUuid', message }] });
    expect(refusal(() => new IntPipe().transform('1e3', param('deadLetterId')))).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'deadLetterId must be a non-negative integer',
      violations: [{ field: 'deadLetterId', rule: 'isInt', message: 'deadLetterId must be a non-negative integer' }],
    });
    expect(new IntPipe().transform('42', param('deadLetterId'))).toBe(42);
    // After the global ValidationPipe, which turns the text of a `number` parameter into a number (NaN for "1e3x").
    expect(new IntPipe().transform(42, param('deadLetterId'))).toBe(42);
    expect(refusal(() => new IntPipe().transform(Number.NaN, param('deadLetterId')))).toMatchObject({ violations: [{ field: 'deadLetterId', rule: 'isInt' }] });
  });

  it('refuses a malformed person ID (isPersonId) and a citizen ID in its place (notCitizenId); a well-formed ID passes to the reader', () => {
    const pipe = new PersonIdPipe();
    const id = 'a'.repeat(53);
    expect(pipe.transform(id, param('personId'))).toBe(id);
    const malformed = 'personId must be the personId of a list or view (53 characters a-z and 2-7)';
    expect(refusal(() => pipe.transform('not-a-person', param('personId')))).toEqual({ statusCode: 400, code: 'VALIDATION_FAILED', message: malformed, violations: [{ field: 'personId', rule: 'isPersonId', message: malformed }] });
    expect(refusal(() => pipe.transform('44098119850315123X', param('personId')))).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: CITIZEN_ID_IN_URL_MESSAGE,
      violations: [{ field: 'personId', rule: 'notCitizenId', message: CITIZEN_ID_IN_URL_MESSAGE }],
    });
  });
});

describe('createValidationPipe', () => {
  class Decision {
    @IsInt() @Min(1) @Max(1_000_000)
    expectedVersion: number;

    @ValidateNested() @Type(() => Form)
    form: Form;
  }

  it('names an absent field once, as required (rule isDefined), not by the rules its value would break', async () => {
    const pipe = createValidationPipe();
    let thrown: unknown;
    try {
      await pipe.transform({ form: { phone: null } }, { type: 'body', metatype: Decision });
    } catch (e) {
      thrown = e;
    }
    expect(toErrorResponse(thrown).body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'validation failed: expectedVersion, form.phone',
      violations: [
        { field: 'expectedVersion', rule: 'isDefined', message: 'expectedVersion is required' },
        { field: 'form.phone', rule: 'isDefined', message: 'form.phone is required (got null)' },
      ],
    });
    try {
      await pipe.transform({ expectedVersion: 0, form: { phone: '13800138000' } }, { type: 'body', metatype: Decision });
    } catch (e) {
      thrown = e;
    }
    expect(toErrorResponse(thrown).body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'validation failed: expectedVersion',
      violations: [{ field: 'expectedVersion', rule: 'min', message: 'expectedVersion must not be less than 1' }],
    });
  });

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

  const refused = async (value: unknown, metatype: new () => unknown): Promise<unknown> => {
    try {
      await createValidationPipe().transform(value, { type: 'body', metatype });
    } catch (e) {
      return toErrorResponse(e).body;
    }
    throw new Error('accepted');
  };

  it('names a value of the wrong type once, by its type rule, not by the rules a value of the right type would break', async () => {
    expect(await refused({ expectedVersion: '3', form: { phone: '13800138000' } }, Decision)).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'validation failed: expectedVersion',
      violations: [{ field: 'expectedVersion', rule: 'isInt', message: 'expectedVersion must be an integer number' }],
    });
    // Of the right type, every rule it breaks.
    expect(await refused({ expectedVersion: 2.5, form: { phone: '13800138000' } }, Decision)).toMatchObject({ violations: [{ field: 'expectedVersion', rule: 'isInt' }] });
  });

  it('refuses a body that is not a JSON object (an array, null, a number) with one violation for the body (rule isObject)', async () => {
    const notObject = (got: string): unknown => {
      const message = `body must be a JSON object (got ${got})`;
      return { statusCode: 400, code: 'VALIDATION_FAILED', message, violations: [{ field: 'body', rule: 'isObject', message }] };
    };
    expect(await refused([{ expectedVersion: 1, form: { phone: '13800138000' } }], Decision)).toEqual(notObject('an array'));
    expect(await refused(null, Decision)).toEqual(notObject('null'));
    expect(await refused(3, Decision)).toEqual(notObject('a number'));
    // A body the route declares without a DTO is the route's.
    expect(await createValidationPipe().transform([1], { type: 'body', metatype: Object })).toEqual([1]);
  });
});
