import { HttpException } from '@nestjs/common';
import { ContractViolationError } from '@qmcb/contracts';
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
  return { status, body: body(status, code, message, violations), unexpected: status >= 500 && status !== 503 };
}

/** Express body-parser errors (bad JSON, too large, too deep) carry a status and `expose`. */
function fromExposedHttpError(e: unknown): ErrorResponse | undefined {
  if (!(e instanceof Error)) return undefined;
  const r = e as Error & { status?: unknown; statusCode?: unknown; expose?: unknown; type?: unknown; limit?: unknown };
  const status = typeof r.status === 'number' ? r.status : r.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500 || r.expose !== true) return undefined;
  const message = r.type === 'entity.too.large' && typeof r.limit === 'number' ? `request body larger than the ${r.limit} bytes this route accepts` : e.message;
  return { status, body: body(status, errorCodeOfStatus(status), message), unexpected: false };
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
