import { Global, Module } from '@nestjs/common';
import type { DynamicModule, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { AUTH_OPTIONS, REQUEST_LIMITER } from './auth.options';
import type { AuthModuleOptions } from './auth.options';
import { Authenticator } from './authenticator';
import { API_KEY_REVOCATIONS, NoApiKeyRevocations, RedisApiKeyRevocations } from './revocation';
import type { RevocationSetReader } from './revocation';
import { RolesGuard } from './roles.guard';

/**
 * Authentication and access for every route of the application: AuthGuard then RolesGuard,
 * both global. Import once, in the service's root module.
 */
@Global()
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions): DynamicModule {
    if (!options.jwtSecret || !options.apiKeySecret) throw new Error('AuthModule needs jwtSecret and apiKeySecret');
    const { revocationRedis } = options;
    const revocations: Provider = revocationRedis
      ? {
          provide: API_KEY_REVOCATIONS,
          useFactory: (redis: RevocationSetReader) => new RedisApiKeyRevocations(redis, options.revocationTimeoutMs),
          inject: [revocationRedis],
        }
      : { provide: API_KEY_REVOCATIONS, useClass: NoApiKeyRevocations };
    const limiter: Provider[] = options.limiter ? [{ provide: REQUEST_LIMITER, useExisting: options.limiter }] : [];
    return {
      module: AuthModule,
      providers: [
        { provide: AUTH_OPTIONS, useValue: options },
        revocations,
        ...limiter,
        Authenticator,
        // Order matters: APP_GUARDs run in registration order.
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: RolesGuard },
      ],
      exports: [Authenticator, API_KEY_REVOCATIONS],
    };
  }
}
