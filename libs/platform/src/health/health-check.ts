import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { REDIS } from '../redis/redis.module';
import type { RedisClient } from '../redis/redis.module';

/** One dependency /health reports on: `check` resolves when it is up and rejects with why not. */
export interface HealthCheck {
  readonly name: string;
  check(): Promise<void>;
}

/** The application's health checks: a provider whose value is `HealthCheck[]`. */
export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');

/** PostgreSQL: `select 1` through the service's DataSource. */
@Injectable()
export class PostgresHealthCheck implements HealthCheck {
  readonly name = 'postgres';

  constructor(private readonly dataSource: DataSource) {}

  async check(): Promise<void> {
    await this.dataSource.query('select 1');
  }
}

/** Redis: `PING`. */
@Injectable()
export class RedisHealthCheck implements HealthCheck {
  readonly name = 'redis';

  constructor(@Inject(REDIS) private readonly redis: Pick<RedisClient, 'ping'>) {}

  async check(): Promise<void> {
    const reply = await this.redis.ping();
    if (reply !== 'PONG') throw new Error(`unexpected PING reply ${reply}`);
  }
}

/** A check from a function, e.g. `healthCheck('kafka', () => pingKafka(settings))`. */
export function healthCheck(name: string, check: () => Promise<unknown>): HealthCheck {
  return {
    name,
    check: async () => {
      await check();
    },
  };
}
