import { JsonLogger, closeRedisClient, createRedisClient } from '@qmcb/platform';
import type { RedisClient } from '@qmcb/platform';
import { createHash, randomBytes } from 'crypto';
import { IDEMPOTENCY_PENDING_SECONDS, IDEMPOTENCY_TTL_SECONDS, IdempotencyStore } from './idempotency';

/**
 * The Idempotency-Key store against the real Redis: what a repeat gets while the first request
 * runs, after it succeeded and after it failed; and a Redis that cannot be reached.
 */
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** Nothing listens there: connections are refused. */
const UNREACHABLE_REDIS_URL = 'redis://127.0.0.1:1';
const silent = new JsonLogger({ level: 'error' });

describe('IdempotencyStore (real Redis)', () => {
  let redis: RedisClient;
  let store: IdempotencyStore;
  // Redis outlives the test: a scope of its own per run.
  const scope = `records:int-${randomBytes(6).toString('hex')}`;
  const redisKey = (key: string): string => `qmcb:comparison:idempotency:${scope}:${createHash('sha256').update(key).digest('hex')}`;

  beforeAll(async () => {
    redis = await createRedisClient({ url: REDIS_URL, connectionName: 'idempotency-int-spec' }, silent);
    store = new IdempotencyStore(redis);
  });

  afterAll(async () => {
    if (!redis) return;
    for await (const keys of redis.scanIterator({ MATCH: `qmcb:comparison:idempotency:${scope}:*` })) {
      if (keys.length) await redis.del(keys);
    }
    await closeRedisClient(redis);
  });

  it('runs the first request and answers a repeat with its answer, kept for 24 hours; another body is a 409 CONFLICT', async () => {
    let runs = 0;
    const ingest = async (): Promise<{ accepted: number }> => {
      runs += 1;
      return { accepted: 2 };
    };
    expect(await store.run(scope, 'batch-1', 'body-a', ingest)).toEqual({ accepted: 2 });
    expect(await store.run(scope, 'batch-1', 'body-a', ingest)).toEqual({ accepted: 2 });
    expect(runs).toBe(1);
    const ttl = await redis.ttl(redisKey('batch-1'));
    expect(ttl).toBeGreaterThan(IDEMPOTENCY_PENDING_SECONDS);
    expect(ttl).toBeLessThanOrEqual(IDEMPOTENCY_TTL_SECONDS);

    await expect(store.run(scope, 'batch-1', 'body-b', ingest)).rejects.toMatchObject({
      name: 'DomainError',
      code: 'CONFLICT',
      message: 'this Idempotency-Key was used for a different request',
    });
    expect(runs).toBe(1);
  });

  it('answers a repeat while the first request still runs with 409 CONFLICT; the first then completes and is replayed', async () => {
    let finish!: () => void;
    const first = store.run(
      scope,
      'batch-2',
      'body-a',
      () =>
        new Promise<{ accepted: number }>((resolve) => {
          finish = () => resolve({ accepted: 1 });
        }),
    );
    // The key is claimed before the request's work starts. run() sent its SET NX before returning,
    // and one connection answers in order: this GET sees the claim.
    expect(await redis.get(redisKey('batch-2'))).toBe(JSON.stringify({ state: 'pending', fingerprint: 'body-a' }));
    const pendingTtl = await redis.ttl(redisKey('batch-2'));
    expect(pendingTtl).toBeGreaterThan(0);
    expect(pendingTtl).toBeLessThanOrEqual(IDEMPOTENCY_PENDING_SECONDS);

    await expect(store.run(scope, 'batch-2', 'body-a', async () => ({ accepted: 99 }))).rejects.toMatchObject({
      name: 'DomainError',
      code: 'CONFLICT',
      message: 'a request with this Idempotency-Key is still running; retry later',
    });
    finish();
    expect(await first).toEqual({ accepted: 1 });
    expect(await store.run(scope, 'batch-2', 'body-a', async () => ({ accepted: 99 }))).toEqual({ accepted: 1 });
  });

  it('frees the key when the request fails, so that the retry really runs', async () => {
    const failure = new Error('the log is unavailable');
    await expect(
      store.run(scope, 'batch-3', 'body-a', async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await redis.get(redisKey('batch-3'))).toBeNull();
    expect(await store.run(scope, 'batch-3', 'body-a', async () => ({ accepted: 3 }))).toEqual({ accepted: 3 });
  });

  it('refuses a malformed key with 400 VALIDATION_FAILED, running nothing', async () => {
    let runs = 0;
    const refused = store.run(scope, 'not ascii: 键', 'body-a', async () => (runs += 1));
    await expect(refused).rejects.toMatchObject({
      name: 'DomainError',
      code: 'VALIDATION_FAILED',
      message: 'Idempotency-Key must be 1 to 255 visible ASCII characters',
      violations: [{ field: 'Idempotency-Key', rule: 'matches', message: 'Idempotency-Key must be 1 to 255 visible ASCII characters' }],
    });
    expect(runs).toBe(0);
  });
});

describe('IdempotencyStore without Redis', () => {
  let redis: RedisClient;

  beforeAll(async () => {
    redis = await createRedisClient({ url: UNREACHABLE_REDIS_URL, connectionName: 'idempotency-int-spec-unreachable' }, silent);
  });

  afterAll(async () => {
    if (redis) await closeRedisClient(redis);
  });

  it('runs every request, a repeat too: the deterministic event IDs keep a retry from appending anything new', async () => {
    const store = new IdempotencyStore(redis);
    let runs = 0;
    const ingest = async (): Promise<{ accepted: number }> => {
      runs += 1;
      return { accepted: 1 };
    };
    expect(await store.run('records:tax', 'batch-1', 'body-a', ingest)).toEqual({ accepted: 1 });
    expect(await store.run('records:tax', 'batch-1', 'body-a', ingest)).toEqual({ accepted: 1 });
    expect(runs).toBe(2);
  });
});
