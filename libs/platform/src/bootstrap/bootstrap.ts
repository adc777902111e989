import { NestFactory } from '@nestjs/core';
import type { DynamicModule, INestApplication, LoggerService, Type } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import type { Server } from 'http';
import { AuditRecorder } from '../audit/audit-recorder';
import { AuditInterceptor, auditFinishMiddleware } from '../audit/audit.interceptor';
import { HttpErrorFilter } from '../errors/exception.filter';
import { createValidationPipe } from '../errors/validation.pipe';
import { jsonBodyMiddleware } from '../http/body';
import { requestContextMiddleware } from '../http/request-context';
import { RouteTable } from '../http/route-table';
import { RouteTableHolder } from '../http/route-table-holder';
import { requestTimeoutMiddleware } from '../http/timeout';
import { JsonLogger } from '../logging/json-logger';
import { httpMetricsMiddleware } from '../metrics/http-metrics';
import { PersonIds } from '../person-ids/person-ids';
import { setupOpenApi } from '../openapi/setup-openapi';
import type { OpenApiOptions } from '../openapi/setup-openapi';
import { startManagementServer } from './management';
import type { ManagementServer } from './management';

export type RootModule = Type<unknown> | DynamicModule;

export interface ConfigureAppOptions {
  /** Serve OpenAPI on the application itself (tools and tests; services serve it on the management port). */
  openApi?: OpenApiOptions;
  /** Express `trust proxy` (TRUST_PROXY): whose X-Forwarded-For gives the client address. Default: nobody's. */
  trustProxy?: string;
  /** Refuse to start while a route lacks its declarations (default true; only ad-hoc test controllers turn it off). */
  requireDeclarations?: boolean;
}

/** Headers servers answer JSON with; the API serves no pages, so nothing may be framed, sniffed or scripted. */
const HELMET = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  crossOriginResourcePolicy: { policy: 'same-origin' },
  referrerPolicy: { policy: 'no-referrer' },
  hsts: { maxAge: 31_536_000, includeSubDomains: true },
});

function optional<T>(app: INestApplication, token: abstract new (...args: never[]) => T): T | undefined {
  try {
    return app.get(token as never, { strict: false }) as T;
  } catch {
    return undefined;
  }
}

/**
 * The globals every application runs with, in a service and in a test alike (docs/security.md):
 * a request ID and the audit context, security headers (helmet), request timing, per-route deadlines
 * and JSON body limits (size and depth), the validation pipe, the error filter, and, where the audit
 * is wired, the audit of every declared route. Call it before `init()`/`listen()`.
 */
export function configureApp(app: INestApplication, options: ConfigureAppOptions = {}): INestApplication {
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  if (options.trustProxy) express.set('trust proxy', options.trustProxy);
  const holder = optional(app, RouteTableHolder) ?? new RouteTableHolder();
  holder.table = RouteTable.of(app);
  if (options.requireDeclarations !== false) holder.table.assertDeclared();
  const recorder = optional(app, AuditRecorder);
  const ids = optional(app, PersonIds);
  app.use(requestContextMiddleware());
  app.use(HELMET);
  app.use(httpMetricsMiddleware());
  app.use(requestTimeoutMiddleware(() => holder.table));
  if (recorder) app.use(auditFinishMiddleware(recorder, holder, ids));
  app.use(jsonBodyMiddleware(() => holder.table));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new HttpErrorFilter());
  if (recorder && ids) app.useGlobalInterceptors(new AuditInterceptor(recorder, holder, ids));
  const server = app.getHttpServer() as Server | undefined;
  if (server) {
    // Node's own deadline for receiving a request is the longest any route allows; each route's is enforced per request.
    server.requestTimeout = holder.table.maxTimeoutMs + 5_000;
    server.headersTimeout = 20_000;
  }
  if (options.openApi) setupOpenApi(app, options.openApi);
  return app;
}

export interface BootstrapOptions {
  /** Service name: the `service` field of log lines and the OpenAPI title. */
  name: string;
  module: RootModule;
  port: number;
  /** Where the service listens; default 0.0.0.0. */
  host?: string;
  /** The management server (metrics, OpenAPI); false: none. */
  management: { host: string; port: number } | false;
  trustProxy?: string;
  logger?: LoggerService;
  openApi?: Partial<OpenApiOptions>;
  /** Runs after the app is configured, before it listens (a service connects its log here). */
  beforeListen?: (app: INestApplication) => Promise<void>;
}

/** Creates, configures and starts a service and its management server, stopping both cleanly on SIGTERM/SIGINT. */
export async function bootstrapService(options: BootstrapOptions): Promise<INestApplication> {
  const logger = options.logger ?? new JsonLogger({ service: options.name });
  const app = await NestFactory.create<NestExpressApplication>(options.module, { logger, abortOnError: false, bodyParser: false });
  configureApp(app, { trustProxy: options.trustProxy });
  app.enableShutdownHooks();
  await options.beforeListen?.(app);
  await app.listen(options.port, options.host ?? '0.0.0.0');
  let management: ManagementServer | undefined;
  if (options.management) {
    management = await startManagementServer(app, { ...options.management, openApi: { title: options.name, ...options.openApi } });
    const closeApp = app.close.bind(app);
    app.close = async () => {
      await management?.close();
      await closeApp();
    };
  }
  logger.log({ msg: 'listening', port: options.port, management: options.management ? options.management.port : null }, 'Bootstrap');
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
  const app = await NestFactory.create<NestExpressApplication>(module, { logger, abortOnError: false, bodyParser: false });
  configureApp(app, options);
  await options.beforeInit?.(app);
  await app.init();
  return app;
}
