import { Global, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { RATE_LIMIT_OPTIONS, RedisRateLimiter } from './http/rate-limit';
import type { RateLimitOptions } from './http/rate-limit';
import { RouteTableHolder } from './http/route-table-holder';

/**
 * The application's route table (filled by configureApp) and its rate limiter (Redis, REDIS), to be
 * handed to `AuthModule.forRoot({ limiter: RedisRateLimiter })`.
 */
@Global()
@Module({})
export class SecurityModule {
  static forRoot(options: RateLimitOptions): DynamicModule {
    return {
      module: SecurityModule,
      providers: [RouteTableHolder, { provide: RATE_LIMIT_OPTIONS, useValue: options }, RedisRateLimiter],
      exports: [RouteTableHolder, RedisRateLimiter],
    };
  }
}
