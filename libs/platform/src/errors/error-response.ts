import { HttpException } from '@nestjs/common';
import { ContractViolationError } from '@qmcb/contracts';
import { BodyNotJsonError, BodyNotObjectError, JsonTooDeepError } from '../http/body';
import { DomainError } from './domain.error';
import type { Violation } from './domain.error';
import { errorCodeOfStatus, httpStatusOf, isErrorCode } from './error-code';
import type { ErrorCode } from './error-code';

/** The one error body of the HTTP API (docs/conventions.md). */
export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  violations?: Violation[];
}

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  /** A bug or an outage rather than a refusal: log it. */
  unexpected: boolean;
  /** Why, for the audit entry, where the body may not say (a 404 outside the caller's division). */
  reason?: string;
}

const INTERNAL_MESSAGE = 'internal error';
/**
 * Every 404 says the same: "outside your division", "does not exist" and "no such route" must not be
 * told apart by their bodies (docs/security.md, "Division scope").
 */
export const NOT_FOUND_BODY: ErrorBody = Object.freeze({ statusCode: 404, code: 'NOT_FOUND', message: 'not found' }) as ErrorBody;

function isViolation(v: unknown): v is Violation {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r['field'] === 'string' && typeof r['rule'] === 'string' && typeof r['message'] === 'string';
}

function body(status: number, code: ErrorCode, message: string, violations?: Violation[]): ErrorBody {
  return violations?.length ? { statusCode: status, code, message, violations } : { statusCode: status, code, message };
}

function fromHttpException(e: HttpException): ErrorResponse {
  const status = e.getStatus();
  const response = e.getResponse();
  const r: Record<string, unknown> = typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : { message: response };
  const code = isErrorCode(r['code']) ? r['code'] : errorCodeOfStatus(status);
  const raw = r['reason'] ?? r['message'];
  const message = Array.isArray(raw) ? raw.map(String).join('; ') : typeof raw === 'string' && raw ? raw : e.message;
  const violations = Array.isArray(r['violations']) ? r['violations'].filter(isViolation) : undefined;
  // Express could not percent-decode a path parameter (`/tasks/%E0%A4%A`); Nest turns its URIError into
  // `BadRequestException("Failed to decode param '…'")`, which quotes the raw URL: neither is passed on.
  if (status === 400 && !violations?.length && message.startsWith('Failed to decode param')) {
    const decode = { field: 'path', rule: 'isUriEncoded', message: 'path must be valid percent-encoded UTF-8' };
    return { status, body: body(status, code, decode.message, [decode]), unexpected: false };
  }
  return { status, body: body(status, code, message, violations), unexpected: status >= 500 && status !== 503 };
}

/**
 * What a body-parser error (bad JSON, too large, too deep, an unsupported encoding) says, as a
 * violation naming the field and the rule. The parser's own message is not passed on: Node's JSON
 * errors quote the body (`Unexpected token 'a', "440981…" is not valid JSON`), and a body may hold a
 * citizen ID; only the position is kept.
 */
function bodyParserViolation(e: Error & { type?: unknown; limit?: unknown; charset?: unknown; encoding?: unknown }, status: number): Violation | undefined {
  if (e instanceof JsonTooDeepError) return { field: 'body', rule: 'maxDepth', message: `body must not nest JSON deeper than ${e.maxDepth} levels (deeper at character ${e.at})` };
  if (e instanceof BodyNotObjectError) return { field: 'body', rule: 'isObject', message: e.message };
  if (e instanceof BodyNotJsonError) return { field: 'Content-Type', rule: 'equals', message: e.message };
  switch (e.type) {
    case 'entity.parse.failed': {
      const at = /at position (\d+)/.exec(e.message)?.[1];
      return { field: 'body', rule: 'isJson', message: `body must be valid JSON${at === undefined ? '' : ` (parse error at character ${at})`}` };
    }
    case 'entity.too.large':
      return { field: 'body', rule: 'maxBytes', message: typeof e.limit === 'number' ? `body must not be larger than the ${e.limit} bytes this route accepts` : 'body is larger than this route accepts' };
    case 'charset.unsupported':
      return { field: 'Content-Type', rule: 'isIn', message: 'Content-Type charset must be utf-8' };
    case 'encoding.unsupported':
      return { field: 'Content-Encoding', rule: 'isIn', message: 'Content-Encoding must be identity, gzip or deflate' };
    case 'request.size.invalid':
      return { field: 'Content-Length', rule: 'equals', message: 'Content-Length must equal the length of the body sent' };
    default:
      return status === 400 ? { field: 'body', rule: 'isReadable', message: 'body could not be read' } : undefined;
  }
}

/** Express body-parser errors (bad JSON, too large, too deep) carry a status and `expose`. */
function fromExposedHttpError(e: unknown): ErrorResponse | undefined {
  if (!(e instanceof Error)) return undefined;
  const r = e as Error & { status?: unknown; statusCode?: unknown; expose?: unknown; type?: unknown; limit?: unknown };
  const status = typeof r.status === 'number' ? r.status : r.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500 || r.expose !== true) return undefined;
  const violation = bodyParserViolation(r, status);
  const message = violation ? violation.message : e.message;
  return { status, body: body(status, errorCodeOfStatus(status), message, violation ? [violation] : undefined), unexpected: false };
}

/** Maps anything thrown while serving a request to a status and the stable body; every 404 has one body. */
export function toErrorResponse(exception: unknown): ErrorResponse {
  const response = mapError(exception);
  return response.status === 404 ? { ...response, body: { ...NOT_FOUND_BODY }, reason: response.body.message } : response;
}

function mapError(exception: unknown): ErrorResponse {
  if (exception instanceof DomainError) {
    const status = httpStatusOf(exception.code);
    return {
      status,
      body: body(status, exception.code, exception.message, exception.violations),
      unexpected: exception.code === 'INTERNAL',
    };
  }
  if (exception instanceof ContractViolationError) {
    return { status: 400, body: body(400, 'VALIDATION_FAILED', exception.message, exception.violations), unexpected: false };
  }
  if (exception instanceof HttpException) return fromHttpException(exception);
  return fromExposedHttpError(exception) ?? { status: 500, body: body(500, 'INTERNAL', INTERNAL_MESSAGE), unexpected: true };
}
