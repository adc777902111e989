import { NestFactory } from '@nestjs/core';
import type { DynamicModule, INestApplication, LoggerService } from '@nestjs/common';
import { bootstrapService, createTestingApp } from '@qmcb/platform';
import type { TestingAppOptions } from '@qmcb/platform';
import type { KafkaSettings } from '@qmcb/event-log';
import { LogTransport } from './log/log-transport';
import { loadServiceConfig } from './service.config';
import type { ServiceConfig } from './service.config';

export type ServiceModuleFactory = (config: ServiceConfig, kafka: KafkaSettings) => DynamicModule;

/**
 * Connects the registration log as the application's microservice (ADR 0003): registers the
 * service's @EventPattern(REGISTRATION_LOG) handler with the LogTransport at once (so HTTP decisions
 * can apply events through it); `startAllMicroservices()` then starts consuming where CONSUME is on.
 */
export function connectLog(app: INestApplication): LogTransport {
  const log = app.get(LogTransport);
  app.connectMicroservice({ strategy: log }, { inheritAppConfig: false });
  return log;
}

/** A service's main: config from the environment, the log connected and consuming, HTTP on PORT. */
export async function runService(name: string, register: ServiceModuleFactory): Promise<INestApplication> {
  const { config, kafka } = loadServiceConfig(name);
  return bootstrapService({
    name,
    module: register(config, kafka),
    port: config.PORT,
    host: config.HOST,
    management: { host: config.MANAGEMENT_HOST, port: config.MANAGEMENT_PORT },
    trustProxy: config.TRUST_PROXY,
    beforeListen: async (app) => {
      connectLog(app);
      await app.startAllMicroservices();
    },
  });
}

/** A service application for tests: configured and initialised, the log connected and (per CONSUME) consuming, not listening. */
export async function createServiceTestingApp(module: DynamicModule, options: TestingAppOptions = {}): Promise<INestApplication> {
  return createTestingApp(module, {
    ...options,
    beforeInit: async (app) => {
      connectLog(app);
      await app.startAllMicroservices();
    },
  });
}

/** Runs a service's main and exits with a clear message when it cannot start. */
export function main(name: string, register: ServiceModuleFactory): void {
  runService(name, register).catch((e: unknown) => {
    process.stderr.write(`${name} failed to start: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  });
}

/** For operator commands: the application with the log connected (handlers registered), not consuming, not listening. */
export async function createCommandApp(module: DynamicModule, logger: LoggerService): Promise<INestApplication> {
  const app = await NestFactory.create(module, { logger, abortOnError: false });
  connectLog(app);
  await app.init();
  return app;
}
