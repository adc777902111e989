/** Redis set of revoked API key IDs (`SADD qmcb:api-keys:revoked <keyId>`). */
export const REVOKED_API_KEYS_SET = 'qmcb:api-keys:revoked';
/** `qmcb:people:revoked-before:<sub>` = epoch seconds: every token of that person issued before is refused. */
export const REVOKED_PERSON_PREFIX = 'qmcb:people:revoked-before:';
/** `qmcb:tokens:revoked:<jti>`: that one token is refused. */
export const REVOKED_TOKEN_PREFIX = 'qmcb:tokens:revoked:';
export const API_KEY_REVOCATIONS = Symbol('API_KEY_REVOCATIONS');

/** What a person revocation is checked against: the token's subject, iat and jti. */
export interface RevocableToken {
  sub: string;
  issuedAt?: number;
  tokenId?: string;
}

export interface ApiKeyRevocations {
  /** Resolves whether the key ID is revoked; rejects when that cannot be known. */
  isRevoked(keyId: string): Promise<boolean>;
  /** Resolves whether a person's token is revoked (the person since its iat, or the token itself); rejects when that cannot be known. */
  isPersonRevoked(token: RevocableToken): Promise<boolean>;
}

/** No revocation list: every key with a valid HMAC and every valid token is accepted (tests and tools only). */
export class NoApiKeyRevocations implements ApiKeyRevocations {
  async isRevoked(): Promise<boolean> {
    return false;
  }

  async isPersonRevoked(): Promise<boolean> {
    return false;
  }
}

/**
 * What the revocation lists need of a Redis client: SISMEMBER answering 1 or 0, and MGET (the
 * node-redis client under `REDIS` of @qmcb/platform has both).
 */
export interface RevocationSetReader {
  sIsMember(key: string, member: string): Promise<number>;
  mGet(keys: string[]): Promise<(string | null)[]>;
}

export class RevocationUnknownError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RevocationUnknownError';
  }
}

/**
 * The revocation lists in Redis. An answer slower than `timeoutMs` (or a Redis error) is a
 * rejection: the caller fails closed (docs/security.md).
 */
export class RedisApiKeyRevocations implements ApiKeyRevocations {
  constructor(
    private readonly redis: RevocationSetReader,
    private readonly timeoutMs = 500,
  ) {}

  async isRevoked(keyId: string): Promise<boolean> {
    return (await this.ask(() => this.redis.sIsMember(REVOKED_API_KEYS_SET, keyId))) === 1;
  }

  async isPersonRevoked(token: RevocableToken): Promise<boolean> {
    const keys = [`${REVOKED_PERSON_PREFIX}${token.sub}`, ...(token.tokenId ? [`${REVOKED_TOKEN_PREFIX}${token.tokenId}`] : [])];
    const [before, revokedToken] = await this.ask(() => this.redis.mGet(keys));
    if (revokedToken) return true;
    if (!before) return false;
    // A token without iat cannot be placed before or after the revocation: refused.
    return token.issuedAt === undefined || token.issuedAt <= Number(before);
  }

  /**
   * The answer, or a rejection once `timeoutMs` has passed without one. When the timer fires, the
   * rejection waits for the rest of that turn of the event loop (setImmediate: after the poll phase),
   * so an answer that arrived in time but sat unread while the process was busy (a long synchronous
   * stretch, e.g. a projection batch) still counts: only Redis being slow fails closed, not this
   * process being busy.
   */
  private async ask<T>(question: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let late: NodeJS.Immediate | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = setImmediate(() => reject(new RevocationUnknownError(`revocation list did not answer within ${this.timeoutMs} ms`)));
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([question(), timeout]);
    } catch (e) {
      if (e instanceof RevocationUnknownError) throw e;
      throw new RevocationUnknownError(`revocation list unavailable: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      clearTimeout(timer);
      if (late) clearImmediate(late);
    }
  }
}

/** What revoking needs of a Redis client. */
export interface RevocationWriter {
  sAdd(key: string, member: string): Promise<number>;
  set(key: string, value: string, options: { EX: number }): Promise<unknown>;
}

/**
 * Revokes every token of a person issued up to now. The entry outlives every token it can refuse
 * (the longest lifetime plus the clock skew), then expires by itself.
 */
export async function revokePerson(redis: RevocationWriter, sub: string, maxTtlSeconds: number, now = new Date()): Promise<void> {
  await redis.set(`${REVOKED_PERSON_PREFIX}${sub}`, String(Math.floor(now.getTime() / 1000)), { EX: maxTtlSeconds + 120 });
}

/** Revokes one token by its jti. */
export async function revokeToken(redis: RevocationWriter, jti: string, maxTtlSeconds: number): Promise<void> {
  await redis.set(`${REVOKED_TOKEN_PREFIX}${jti}`, '1', { EX: maxTtlSeconds + 120 });
}

/** Revokes a department API key by its key ID (until removed from the set). */
export async function revokeApiKey(redis: RevocationWriter, keyId: string): Promise<void> {
  await redis.sAdd(REVOKED_API_KEYS_SET, keyId);
}
