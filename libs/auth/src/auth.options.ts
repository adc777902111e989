import type { InjectionToken } from '@nestjs/common';

export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');
/** The RequestLimiter the AuthGuard consults (provided under this token when limiter is set). */
export const REQUEST_LIMITER = Symbol('REQUEST_LIMITER');

export interface AuthModuleOptions {
  /** HS256 secret of people's tokens (AUTH_JWT_SECRET). */
  jwtSecret: string;
  /** HMAC secret of department API keys (API_KEY_SECRET). */
  apiKeySecret: string;
  /**
   * Injection token of a Redis client (e.g. `REDIS` from @qmcb/platform) holding the revoked key
   * IDs, people and tokens. Omitted: no revocation list (tests and tools only).
   */
  revocationRedis?: InjectionToken;
  /** How long to wait for the revocation lists before failing closed (503). Default 500 ms. */
  revocationTimeoutMs?: number;
  /** Injection token of a RequestLimiter (rate limits); omitted: no limits (tests and tools only). */
  limiter?: InjectionToken;
  /** The longest lifetime (exp - iat) of a person's token; default DEFAULT_MAX_TOKEN_TTL_SECONDS (12 h). */
  maxTokenTtlSeconds?: number;
}
