import { DIVISION_PATTERNS } from '@qmcb/contracts';
import { notFound } from './http-errors';
import type { Principal } from './principal';

/**
 * The one message of every 404: for something outside the caller's division and for something that
 * does not exist alike, so the answer never tells them apart (the platform's error filter makes every
 * 404 body this one).
 */
export const NOT_FOUND_MESSAGE = 'not found';

/**
 * Whether `code` lies within the division `principalDivision` (GB/T 2260 codes nest by prefix:
 * 44 ⊃ 4409 ⊃ 440981 ⊃ 440981100 ⊃ 440981100201). An invalid division on either side is outside.
 */
export function inDivision(principalDivision: string, code: string): boolean {
  if (typeof principalDivision !== 'string' || !DIVISION_PATTERNS.any.test(principalDivision)) return false;
  if (typeof code !== 'string' || !/^\d{2,12}$/.test(code)) return false;
  return code.startsWith(principalDivision);
}

/**
 * Throws 404 NOT_FOUND (never 403, never the data) when a person asks about something outside
 * their division. Department systems are bound to a department, not a division, and pass:
 * what a system may call is decided by @Departments on the endpoint. (A third argument, once the
 * message, is ignored: every 404 says `not found`.)
 */
export function assertInDivision(principal: Principal, divisionCode: string, _ignored?: string): void {
  if (principal.kind === 'system') return;
  if (!inDivision(principal.division, divisionCode)) throw notFound(`outside the caller's division ${principal.division}`);
}
