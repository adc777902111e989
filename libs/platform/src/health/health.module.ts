import { Module } from '@nestjs/common';
import type { DynamicModule, Provider, Type } from '@nestjs/common';
import { HEALTH_CHECKS } from './health-check';
import type { HealthCheck } from './health-check';
import { HEALTH_OPTIONS, HealthController } from './health.controller';
import type { HealthOptions } from './health.controller';

export interface HealthModuleOptions extends HealthOptions {
  /** Check classes (resolved by Nest, e.g. PostgresHealthCheck) or ready instances (healthCheck('kafka', …)). */
  checks: (Type<HealthCheck> | HealthCheck)[];
}

/**
 * `GET /health` and `GET /health/live`, both public. Either `HealthModule.forRoot({ checks })`, or
 * import `HealthModule` and provide HEALTH_CHECKS (a `HealthCheck[]`) from a global module.
 */
@Module({ controllers: [HealthController] })
export class HealthModule {
  static forRoot(options: HealthModuleOptions): DynamicModule {
    const classes = options.checks.filter((c): c is Type<HealthCheck> => typeof c === 'function');
    const checks: Provider = {
      provide: HEALTH_CHECKS,
      useFactory: (...resolved: HealthCheck[]): HealthCheck[] => {
        let i = 0;
        return options.checks.map((c) => (typeof c === 'function' ? resolved[i++] : c));
      },
      inject: classes,
    };
    return {
      module: HealthModule,
      providers: [...classes, checks, { provide: HEALTH_OPTIONS, useValue: { timeoutMs: options.timeoutMs } }],
      exports: [HEALTH_CHECKS],
    };
  }
}
