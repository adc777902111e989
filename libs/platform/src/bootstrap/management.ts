import { Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { AddressInfo } from 'net';
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

/**
 * The management server of a service, on its own port (MANAGEMENT_HOST:MANAGEMENT_PORT), never the
 * service's: `GET /metrics` (Prometheus) and the OpenAPI document and UI (`/api/docs`,
 * `/api/docs-json`) of `app`. Nothing on it reads personal data; it is not published beyond the
 * deployment's internal network.
 */
export async function startManagementServer(app: INestApplication, options: ManagementOptions): Promise<ManagementServer> {
  ensureDefaultMetrics();
  const document = openApiDocument(app, options.openApi);
  // No logger option: NestFactory would make it every Nest Logger's of the process; this one logs through the service's.
  const management = await NestFactory.create<NestExpressApplication>(ManagementModule, { abortOnError: false, bodyParser: false });
  management.disable('x-powered-by');
  SwaggerModule.setup(OPENAPI_UI_PATH, management, document, { jsonDocumentUrl: OPENAPI_JSON_PATH });
  await management.listen(options.port, options.host);
  const address = management.getHttpServer().address() as AddressInfo;
  return { app: management, url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${address.port}`, close: () => management.close() };
}
