import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { API_KEY_HEADER, OPENAPI_API_KEY, OPENAPI_BEARER } from '@qmcb/auth';
import { ErrorBodyDto, ViolationDto } from './error-body.dto';

export interface OpenApiOptions {
  title: string;
  description?: string;
  version?: string;
}

export const OPENAPI_UI_PATH = 'api/docs';
export const OPENAPI_JSON_PATH = 'api/docs-json';

/** The OpenAPI document of an application, with the two security schemes: `bearer` (people's JWT) and `api-key` (department systems). */
export function openApiDocument(app: INestApplication, options: OpenApiOptions): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle(options.title)
    .setDescription(options.description ?? '')
    .setVersion(options.version ?? '1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A person: claims sub, name, role, division' }, OPENAPI_BEARER)
    .addApiKey({ type: 'apiKey', in: 'header', name: API_KEY_HEADER, description: 'A department system: qmcb.<department>.<keyId>.<hmac>' }, OPENAPI_API_KEY)
    .build();
  return SwaggerModule.createDocument(app, config, { extraModels: [ErrorBodyDto, ViolationDto] });
}

/**
 * Serves the document on `app` itself at `/api/docs` and `/api/docs-json`. Services do not: their
 * documents are on the management port (startManagementServer); this is for tools and tests.
 */
export function setupOpenApi(app: INestApplication, options: OpenApiOptions): OpenAPIObject {
  const document = openApiDocument(app, options);
  SwaggerModule.setup(OPENAPI_UI_PATH, app, document, { jsonDocumentUrl: OPENAPI_JSON_PATH });
  return document;
}
