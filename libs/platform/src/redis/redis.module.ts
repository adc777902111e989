import { Global, Inject, Injectable, Logger, Module } from '@nestjs/common';
import type { DynamicModule, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';

export const REDIS = Symbol('REDIS');

export interface RedisModuleOptions {
  /** REDIS_URL. */
  url: string;
  /** Shown in CLIENT LIST. */
  connectionName?: string;
}

export function createRedisClient(options: RedisModuleOptions, logger = new Logger('Redis')): Redis {
  const client = new Redis(options.url, {
    lazyConnect: false,
    connectionName: options.connectionName,
    // Fail a command after a couple of reconnect attempts rather than queueing it for long.
    maxRetriesPerRequest: 2,
    // ioredis waits this long before destroying a socket it could not end cleanly (default 2 s).
    disconnectTimeout: 500,
  });
  let lastError: string | undefined;
  client.on('error', (e: Error) => {
    // ioredis repeats the same error on every reconnect attempt: log each new one once.
    if (e.message === lastError) return;
    lastError = e.message;
    logger.warn({ msg: 'redis error', err: e.message });
  });
  client.on('ready', () => {
    if (lastError !== undefined) logger.log({ msg: 'redis ready again' });
    lastError = undefined;
  });
  return client;
}

@Injectable()
class RedisShutdown implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.redis.status === 'end') return;
    if (this.redis.status !== 'ready') {
      this.redis.disconnect();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.redis.quit(), new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]);
    } catch {
      // quit fails when the connection is already gone; disconnect below either way.
    } finally {
      clearTimeout(timer);
      this.redis.disconnect();
    }
  }
}

/** One ioredis client for the application, under the token REDIS; closed on shutdown. */
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
