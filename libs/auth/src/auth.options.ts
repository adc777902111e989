import type { InjectionToken } from '@nestjs/common';

export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');

export interface AuthModuleOptions {
  /** HS256 secret of people's tokens (AUTH_JWT_SECRET). */
  jwtSecret: string;
  /** HMAC secret of department API keys (API_KEY_SECRET). */
  apiKeySecret: string;
  /**
   * Injection token of a Redis client (e.g. `REDIS` from @qmcb/platform) holding the set of
   * revoked key IDs. Omitted: no revocation list.
   */
  revocationRedis?: InjectionToken;
  /** How long to wait for the revocation list before failing closed (503). Default 500 ms. */
  revocationTimeoutMs?: number;
}
