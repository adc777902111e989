import { Inject, Injectable, Logger } from '@nestjs/common';
import { DomainError, REDIS } from '@qmcb/platform';
import type { RedisClient } from '@qmcb/platform';
import { createHash } from 'crypto';

/** How long a first answer is replayed for a repeated Idempotency-Key. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/** How long a key stays claimed by a request still running (a crashed one frees it after this). */
export const IDEMPOTENCY_PENDING_SECONDS = 300;

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

type Entry = { state: 'pending'; fingerprint: string } | { state: 'done'; fingerprint: string; body: unknown };

export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/**
 * `Idempotency-Key` for requests that append: the first successful answer is kept in Redis (per
 * scope, e.g. the department, and key) and replayed for a repeat of the same request. A repeat
 * with a different body, or while the first is still running, is a 409. A failed request frees the
 * key so the retry really runs. Without Redis the request runs anyway: its deterministic event IDs
 * already make a retry append nothing new for consumers.
 */
@Injectable()
export class IdempotencyStore {
  private readonly logger = new Logger('Idempotency');

  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  async run<T>(scope: string, key: string, fingerprint: string, fn: () => Promise<T>): Promise<T> {
    if (!KEY_PATTERN.test(key)) {
      throw new DomainError('VALIDATION_FAILED', 'Idempotency-Key must be 1 to 255 visible ASCII characters', {
        violations: [{ field: 'Idempotency-Key', rule: 'matches', message: 'Idempotency-Key must be 1 to 255 visible ASCII characters' }],
      });
    }
    const redisKey = `qmcb:comparison:idempotency:${scope}:${createHash('sha256').update(key).digest('hex')}`;
    let claimed: boolean;
    try {
      const pending: Entry = { state: 'pending', fingerprint };
      claimed = (await this.redis.set(redisKey, JSON.stringify(pending), { expiration: { type: 'EX', value: IDEMPOTENCY_PENDING_SECONDS }, condition: 'NX' })) === 'OK';
      if (!claimed) return this.replay<T>(redisKey, fingerprint);
    } catch (e) {
      if (e instanceof DomainError) throw e;
      this.logger.warn({ msg: 'idempotency store unavailable; running the request without it', err: (e as Error).message });
      return fn();
    }
    let result: T;
    try {
      result = await fn();
    } catch (e) {
      await this.redis.del(redisKey).catch(() => undefined);
      throw e;
    }
    const done: Entry = { state: 'done', fingerprint, body: result };
    await this.redis.set(redisKey, JSON.stringify(done), { expiration: { type: 'EX', value: IDEMPOTENCY_TTL_SECONDS } }).catch((e: Error) => {
      this.logger.warn({ msg: 'could not keep the answer for its Idempotency-Key', err: e.message });
    });
    return result;
  }

  private async replay<T>(redisKey: string, fingerprint: string): Promise<T> {
    const text = await this.redis.get(redisKey);
    // Expired between SET NX and GET: rare; the caller retries.
    if (!text) throw new DomainError('CONFLICT', 'a request with this Idempotency-Key just ended; retry');
    const entry = JSON.parse(text) as Entry;
    if (entry.fingerprint !== fingerprint) {
      throw new DomainError('CONFLICT', 'this Idempotency-Key was used for a different request');
    }
    if (entry.state === 'pending') throw new DomainError('CONFLICT', 'a request with this Idempotency-Key is still running; retry later');
    return entry.body as T;
  }
}
