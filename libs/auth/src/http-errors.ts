import { ForbiddenException, NotFoundException, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';

/*
 * The auth library sits below @qmcb/platform, so it speaks HTTP through Nest's exceptions, with
 * the body already in the stable shape of docs/api/errors.md. The platform filter keeps the code.
 */

export function unauthenticated(message: string): UnauthorizedException {
  return new UnauthorizedException({ statusCode: 401, code: 'UNAUTHENTICATED', message });
}

export function forbidden(message: string): ForbiddenException {
  return new ForbiddenException({ statusCode: 403, code: 'FORBIDDEN', message });
}

/**
 * Always the same body: a 404 must not say why (docs/security.md, "Division scope"). `reason` is for
 * the audit entry only; the platform's error filter never sends it.
 */
export function notFound(reason?: string): NotFoundException {
  return new NotFoundException({ statusCode: 404, code: 'NOT_FOUND', message: 'not found', ...(reason ? { reason } : {}) });
}

export function unavailable(message: string): ServiceUnavailableException {
  return new ServiceUnavailableException({ statusCode: 503, code: 'UNAVAILABLE', message });
}
