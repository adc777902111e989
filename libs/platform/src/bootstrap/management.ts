import { Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { AddressInfo } from 'net';
import { RouteTable } from '../http/route-table';
import { RouteTableHolder } from '../http/route-table-holder';
import type { RouteInfo } from '../http/route-table';
import { MetricsController } from '../metrics/metrics.controller';
import { ensureDefaultMetrics } from '../metrics/http-metrics';
import { OPENAPI_JSON_PATH, OPENAPI_UI_PATH, openApiDocument } from '../openapi/setup-openapi';
import type { OpenApiOptions } from '../openapi/setup-openapi';

@Module({ controllers: [MetricsController] })
class ManagementModule {}

export interface ManagementOptions {
  /** Where it listens: loopback by default; the deployment's internal network where Prometheus scrapes it. */
  host: string;
  /** 0: any free port (tests). */
  port: number;
  openApi: OpenApiOptions;
}

export interface ManagementServer {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

/** A route as `GET /routes` lists it: what it declares, nothing of its code. */
export function describeRoute(r: RouteInfo): Record<string, unknown> {
  return {
    method: r.method,
    path: r.path,
    public: r.public,
    roles: r.access.roles ?? [],
    departments: r.access.departments ?? [],
    personalData: r.personalData ?? null,
    timeoutMs: r.timeoutMs,
    bodyLimitBytes: r.bodyLimitBytes,
    rate: r.rate,
  };
}

/** The routes Express actually serves (method and path), to check that every one of them is in the route table. */
export function expressRoutes(app: INestApplication): { method: string; path: string }[] {
  const router = (app.getHttpAdapter().getInstance() as { _router?: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } })._router;
  return (router?.stack ?? []).flatMap((layer) =>
    layer.route ? Object.keys(layer.route.methods).filter((m) => layer.route?.methods[m]).map((m) => ({ method: m.toUpperCase(), path: layer.route?.path ?? '' })) : [],
  );
}

/**
 * The management server of a service, on its own port (MANAGEMENT_HOST:MANAGEMENT_PORT), never the
 * service's: `GET /metrics` (Prometheus), the OpenAPI document and UI (`/api/docs`,
 * `/api/docs-json`) of `app`, and `GET /routes`: every route with what it declares (who may call,
 * what it does with personal data, its limits) beside the routes Express serves — what the
 * authorization matrix test walks, and what an auditor reads to see which routes touch whom. Nothing on it reads personal data; it is not published beyond the
 * deployment's internal network.
 */
export async function startManagementServer(app: INestApplication, options: ManagementOptions): Promise<ManagementServer> {
  ensureDefaultMetrics();
  const document = openApiDocument(app, options.openApi);
  // No logger option: NestFactory would make it every Nest Logger's of the process; this one logs through the service's.
  const management = await NestFactory.create<NestExpressApplication>(ManagementModule, { abortOnError: false, bodyParser: false });
  management.disable('x-powered-by');
  SwaggerModule.setup(OPENAPI_UI_PATH, management, document, { jsonDocumentUrl: OPENAPI_JSON_PATH });
  const table = (() => {
    try {
      return app.get(RouteTableHolder, { strict: false }).table;
    } catch {
      return undefined;
    }
  })() ?? RouteTable.of(app);
  const express = management.getHttpAdapter().getInstance() as { get(path: string, handler: (req: unknown, res: { json(body: unknown): void }) => void): void };
  express.get('/routes', (_req, res) => res.json({ routes: table.routes.map(describeRoute), express: expressRoutes(app) }));
  await management.listen(options.port, options.host);
  const address = management.getHttpServer().address() as AddressInfo;
  return { app: management, url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${address.port}`, close: () => management.close() };
}
