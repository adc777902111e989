import { Global, Inject, Injectable, Logger, Module } from '@nestjs/common';
import type { DynamicModule, LoggerService, OnApplicationShutdown } from '@nestjs/common';
import { readFileSync } from 'fs';
import { createClient } from 'redis';
import type { RedisClientType } from 'redis';

export const REDIS = Symbol('REDIS');

/**
 * The client under the token REDIS (node-redis). Import this type from @qmcb/platform rather
 * than from `redis`, so that the client library stays behind this module.
 */
export type RedisClient = RedisClientType;

export interface RedisModuleOptions {
  /** REDIS_URL. */
  url: string;
  /** Shown in CLIENT LIST. */
  connectionName?: string;
  /** PEM file of the CA that signed the server's certificate (REDIS_TLS_CA_FILE), for a rediss:// URL. */
  tlsCaFile?: string;
}

/** How long one connection attempt may take (TCP connect). */
export const REDIS_CONNECT_TIMEOUT_MS = 2_000;
/** How long shutdown waits for commands already sent before it closes the connection. */
export const REDIS_SHUTDOWN_GRACE_MS = 1_000;

/** Wait between reconnection attempts: 50 ms more each time, at most 2 s; never give up. */
export function redisReconnectDelay(retries: number): number {
  return Math.min((retries + 1) * 50, 2_000);
}

function errorText(e: Error): string {
  // Node reports a refused connection to a name with several addresses as an AggregateError with
  // an empty message.
  if (e instanceof AggregateError && !e.message) return e.errors.map((inner) => (inner instanceof Error ? inner.message : String(inner))).join('; ');
  return e.message;
}

/**
 * A client for `options.url`, connecting in the background: the promise resolves once the first
 * connection attempt has ended, ready or not (or after REDIS_CONNECT_TIMEOUT_MS), and the client
 * keeps reconnecting after that. A Redis that is down never stops the caller from starting.
 *
 * Commands sent while the client is not connected fail at once (`disableOfflineQueue`) rather than
 * wait in a queue, so callers that must not hang (the revocation check, docs/security.md) fail
 * fast. Errors are logged once per distinct message: the client repeats the same one on every
 * reconnection attempt.
 */
export async function createRedisClient(options: RedisModuleOptions, logger: Pick<LoggerService, 'log' | 'warn'> = new Logger('Redis')): Promise<RedisClient> {
  const client: RedisClient = createClient({
    url: options.url,
    name: options.connectionName,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
      reconnectStrategy: redisReconnectDelay,
      // TLS comes with the rediss:// URL; the CA, when the server's certificate is the deployment's own.
      ...(options.url.startsWith('rediss://') ? { tls: true as const, ...(options.tlsCaFile ? { ca: readFileSync(options.tlsCaFile) } : {}) } : {}),
    },
  });
  let lastError: string | undefined;
  // Mandatory: an 'error' event without a listener would crash the process.
  client.on('error', (e: Error) => {
    const err = errorText(e);
    if (err === lastError) return;
    lastError = err;
    logger.warn({ msg: 'redis error', err });
  });
  client.on('ready', () => {
    if (lastError !== undefined) logger.log({ msg: 'redis ready again' });
    lastError = undefined;
  });

  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      client.off('ready', done).off('error', done);
      resolve();
    };
    const timer = setTimeout(done, REDIS_CONNECT_TIMEOUT_MS);
    client.on('ready', done).on('error', done);
    // Resolves once connected or once the client is destroyed; rejects only if the reconnect
    // strategy gives up, which ours never does.
    client.connect().catch((e: Error) => logger.warn({ msg: 'redis connection abandoned', err: errorText(e) }));
  });
  return client;
}

/**
 * Closes the client: lets the commands already sent finish (Redis answers in order, so once a
 * PING is answered so are they) for at most REDIS_SHUTDOWN_GRACE_MS, then destroys it, which also
 * stops reconnecting. A client that is not connected is destroyed at once.
 */
export async function closeRedisClient(client: RedisClient, graceMs = REDIS_SHUTDOWN_GRACE_MS): Promise<void> {
  if (!client.isOpen) return;
  if (client.isReady) {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([client.ping().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    } finally {
      clearTimeout(timer);
    }
  }
  // close() would wait for every pending answer, however long; destroy() rejects what is left.
  if (client.isOpen) client.destroy();
}

@Injectable()
class RedisShutdown implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  async onApplicationShutdown(): Promise<void> {
    await closeRedisClient(this.redis);
  }
}

/** One Redis client for the application, under the token REDIS; closed on shutdown. */
@Global()
@Module({})
export class RedisModule {
  static forRoot(options: RedisModuleOptions): DynamicModule {
    return {
      module: RedisModule,
      providers: [{ provide: REDIS, useFactory: () => createRedisClient(options) }, RedisShutdown],
      exports: [REDIS],
    };
  }
}
