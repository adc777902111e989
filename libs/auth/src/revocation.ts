/** Redis set of revoked API key IDs (`SADD qmcb:api-keys:revoked <keyId>`). */
export const REVOKED_API_KEYS_SET = 'qmcb:api-keys:revoked';
export const API_KEY_REVOCATIONS = Symbol('API_KEY_REVOCATIONS');

export interface ApiKeyRevocations {
  /** Resolves whether the key ID is revoked; rejects when that cannot be known. */
  isRevoked(keyId: string): Promise<boolean>;
}

/** No revocation list: every key with a valid HMAC is accepted. */
export class NoApiKeyRevocations implements ApiKeyRevocations {
  async isRevoked(): Promise<boolean> {
    return false;
  }
}

/**
 * What the revocation list needs of a Redis client: SISMEMBER, answering 1 or 0 (the node-redis
 * client under `REDIS` of @qmcb/platform has it).
 */
export interface RevocationSetReader {
  sIsMember(key: string, member: string): Promise<number>;
}

export class RevocationUnknownError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RevocationUnknownError';
  }
}

/**
 * The revocation list in Redis. An answer slower than `timeoutMs` (or a Redis error) is a
 * rejection: the caller fails closed (docs/security.md).
 */
export class RedisApiKeyRevocations implements ApiKeyRevocations {
  constructor(
    private readonly redis: RevocationSetReader,
    private readonly timeoutMs = 500,
  ) {}

  async isRevoked(keyId: string): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RevocationUnknownError(`revocation list did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      const member = await Promise.race([this.redis.sIsMember(REVOKED_API_KEYS_SET, keyId), timeout]);
      return member === 1;
    } catch (e) {
      if (e instanceof RevocationUnknownError) throw e;
      throw new RevocationUnknownError(`revocation list unavailable: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
