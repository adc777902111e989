import { NestFactory } from '@nestjs/core';
import type { DynamicModule, INestApplication, LoggerService, Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { HttpErrorFilter } from '../errors/exception.filter';
import { createValidationPipe } from '../errors/validation.pipe';
import { JsonLogger } from '../logging/json-logger';
import { httpMetricsMiddleware } from '../metrics/http-metrics';
import { setupOpenApi } from '../openapi/setup-openapi';
import type { OpenApiOptions } from '../openapi/setup-openapi';

export type RootModule = Type<unknown> | DynamicModule;

export interface ConfigureAppOptions {
  /** Serve OpenAPI at /api/docs when given. */
  openApi?: OpenApiOptions;
}

/**
 * The globals every application runs with, in a service and in a test alike: request timing for
 * `qmcb_http_request_duration_seconds`, the validation pipe, the error filter, OpenAPI. Call it
 * before `init()`/`listen()`: routes added after init would sit behind Nest's 404 handler.
 */
export function configureApp(app: INestApplication, options: ConfigureAppOptions = {}): INestApplication {
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  app.use(httpMetricsMiddleware());
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpErrorFilter());
  if (options.openApi) setupOpenApi(app, options.openApi);
  return app;
}

export interface BootstrapOptions {
  /** Service name: the `service` field of log lines and the OpenAPI title. */
  name: string;
  module: RootModule;
  port: number;
  logger?: LoggerService;
  openApi?: Partial<OpenApiOptions>;
  /** Runs after the app is configured, before it listens (a service connects its log here). */
  beforeListen?: (app: INestApplication) => Promise<void>;
}

/** Creates, configures and starts a service on `0.0.0.0:<port>`, stopping cleanly on SIGTERM/SIGINT. */
export async function bootstrapService(options: BootstrapOptions): Promise<INestApplication> {
  const logger = options.logger ?? new JsonLogger({ service: options.name });
  const app = await NestFactory.create<NestExpressApplication>(options.module, { logger, abortOnError: false });
  configureApp(app, { openApi: { title: options.name, ...options.openApi } });
  app.enableShutdownHooks();
  await options.beforeListen?.(app);
  await app.listen(options.port, '0.0.0.0');
  logger.log({ msg: 'listening', port: options.port }, 'Bootstrap');
  return app;
}

export interface TestingAppOptions extends ConfigureAppOptions {
  /** Default: a JsonLogger writing warnings and errors only. */
  logger?: LoggerService | false;
  /** Runs after the app is configured, before init (a service connects its log here). */
  beforeInit?: (app: INestApplication) => Promise<void>;
}

/** A configured and initialised application that does not listen: hand `app.getHttpServer()` to supertest. */
export async function createTestingApp(module: RootModule, options: TestingAppOptions = {}): Promise<INestApplication> {
  const logger = options.logger ?? new JsonLogger({ level: 'warn' });
  const app = await NestFactory.create<NestExpressApplication>(module, { logger, abortOnError: false });
  configureApp(app, options);
  await options.beforeInit?.(app);
  await app.init();
  return app;
}
