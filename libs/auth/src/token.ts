import { randomUUID } from 'crypto';
import { DIVISION_PATTERNS } from '@qmcb/contracts';
import { JsonWebTokenError, NotBeforeError, TokenExpiredError, sign, verify } from 'jsonwebtoken';
import { CredentialsError } from './credentials.error';
import type { PersonPrincipal } from './principal';
import { isRole } from './role';
import type { Role } from './role';

export const TOKEN_ISSUER = 'qmcb';
export const TOKEN_AUDIENCE = 'qmcb-api';
const ALGORITHM = 'HS256';
/** The longest a person's token may live (exp - iat) unless configured otherwise: one working day and some. */
export const DEFAULT_MAX_TOKEN_TTL_SECONDS = 12 * 3600;
/** How far a token's iat may lie in the future: the issuer's clock may run a little ahead. */
export const TOKEN_CLOCK_SKEW_SECONDS = 60;

export interface MintTokenInput {
  sub: string;
  name: string;
  /** Checked when minting: a string that is not a Role is refused. */
  role: Role | (string & Record<never, never>);
  /** GB/T 2260 division code: 2, 4, 6, 9 or 12 digits. */
  division: string;
  /** Role `citizen` only: the citizen's own ID (claim `cid`). */
  citizenId?: string;
  ttlSeconds: number;
  /** The token's ID (jti), by which it can be revoked; a random UUID by default. */
  jti?: string;
}

export interface TokenClaims {
  sub: string;
  name: string;
  role: Role;
  division: string;
  /** Role `citizen` only: the citizen's own ID. */
  cid?: string;
  iss: typeof TOKEN_ISSUER;
  aud: typeof TOKEN_AUDIENCE;
  iat: number;
  exp: number;
  jti: string;
}

export interface ClockOptions {
  /** The clock, for tests; defaults to now. */
  now?: Date;
}

export interface VerifyOptions extends ClockOptions {
  /** The longest lifetime (exp - iat) accepted; default DEFAULT_MAX_TOKEN_TTL_SECONDS. */
  maxTtlSeconds?: number;
}

function epochSeconds(now: Date | undefined): number {
  return Math.floor((now ?? new Date()).getTime() / 1000);
}

function requireSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.length === 0) throw new Error('a non-empty secret is required');
}

const CITIZEN_ID = /^\d{17}[\dX]$/;

function claimProblems(c: { sub?: unknown; name?: unknown; role?: unknown; division?: unknown; cid?: unknown }): string[] {
  const problems: string[] = [];
  if (c.role === 'citizen' && (typeof c.cid !== 'string' || !CITIZEN_ID.test(c.cid))) problems.push('cid must be the citizen\'s own 18-character citizen ID for role citizen');
  if (c.role !== 'citizen' && c.cid !== undefined) problems.push('cid is only for role citizen');
  if (typeof c.sub !== 'string' || c.sub.length < 1 || c.sub.length > 128) problems.push('sub must be a string of 1-128 characters');
  if (typeof c.name !== 'string' || c.name.length < 1 || c.name.length > 64) problems.push('name must be a string of 1-64 characters');
  if (!isRole(c.role)) problems.push('role must be one of the roles in docs/conventions.md');
  if (typeof c.division !== 'string' || !DIVISION_PATTERNS.any.test(c.division)) problems.push('division must be a 2, 4, 6, 9 or 12-digit division code');
  return problems;
}

/** Signs a person's token (HS256) for development, tests and the mint command. */
export function mintToken(input: MintTokenInput, secret: string, options: ClockOptions = {}): string {
  requireSecret(secret);
  const problems = claimProblems({ ...input, cid: input.citizenId });
  if (!Number.isInteger(input.ttlSeconds) || input.ttlSeconds <= 0) problems.push('ttlSeconds must be a positive integer');
  if (problems.length) throw new Error(`cannot mint token: ${problems.join('; ')}`);
  const iat = epochSeconds(options.now);
  const claims: TokenClaims = {
    sub: input.sub,
    name: input.name,
    role: input.role as Role,
    division: input.division,
    ...(input.citizenId !== undefined ? { cid: input.citizenId } : {}),
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
    iat,
    exp: iat + input.ttlSeconds,
    jti: input.jti ?? randomUUID(),
  };
  // jsonwebtoken keeps the payload's iat (noTimestamp would delete it).
  return sign(claims, secret, { algorithm: ALGORITHM });
}

/**
 * Verifies signature (HS256 only), issuer, audience and expiry, the lifetime (iat required, exp - iat
 * at most `maxTtlSeconds`, iat not in the future), then the claims themselves. Returns the person;
 * throws CredentialsError (`expired` or `invalid`).
 */
export function verifyToken(token: string, secret: string, options: VerifyOptions = {}): PersonPrincipal {
  requireSecret(secret);
  let decoded: unknown;
  try {
    decoded = verify(token, secret, {
      algorithms: [ALGORITHM],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      clockTimestamp: epochSeconds(options.now),
    });
  } catch (e) {
    if (e instanceof TokenExpiredError) throw new CredentialsError('expired', 'token expired');
    if (e instanceof NotBeforeError) throw new CredentialsError('invalid', 'token not yet valid');
    if (e instanceof JsonWebTokenError) throw new CredentialsError('invalid', `invalid token: ${e.message}`);
    throw e;
  }
  if (typeof decoded !== 'object' || decoded === null) throw new CredentialsError('invalid', 'invalid token: claims are not an object');
  const claims = decoded as Partial<Record<keyof TokenClaims, unknown>>;
  // jsonwebtoken accepts a token without exp; a token that never expires is refused here.
  if (typeof claims.exp !== 'number') throw new CredentialsError('invalid', 'invalid token: exp is required');
  // A token that lives for years is as good as a password that never changes: refused whatever its signature.
  if (typeof claims.iat !== 'number') throw new CredentialsError('invalid', 'invalid token: iat is required');
  const maxTtl = options.maxTtlSeconds ?? DEFAULT_MAX_TOKEN_TTL_SECONDS;
  if (claims.exp - claims.iat > maxTtl) {
    throw new CredentialsError('invalid', `invalid token: lifetime ${claims.exp - claims.iat} s exceeds the maximum of ${maxTtl} s`);
  }
  if (claims.iat > epochSeconds(options.now) + TOKEN_CLOCK_SKEW_SECONDS) throw new CredentialsError('invalid', 'invalid token: issued in the future');
  if (claims.jti !== undefined && (typeof claims.jti !== 'string' || claims.jti.length < 1 || claims.jti.length > 128)) {
    throw new CredentialsError('invalid', 'invalid token: jti must be a string of 1-128 characters');
  }
  const problems = claimProblems(claims);
  if (problems.length) throw new CredentialsError('invalid', `invalid token: ${problems.join('; ')}`);
  return {
    kind: 'person',
    sub: claims.sub as string,
    name: claims.name as string,
    role: claims.role as Role,
    division: claims.division as string,
    issuedAt: claims.iat,
    ...(typeof claims.jti === 'string' ? { tokenId: claims.jti } : {}),
    ...(typeof claims.cid === 'string' ? { citizenId: claims.cid } : {}),
  };
}
