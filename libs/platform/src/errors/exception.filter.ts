import { Catch, Logger } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { requestContextOf } from '../http/request-context';
import { maskPersonalData } from '../logging/mask';
import { toErrorResponse } from './error-response';

function describe(exception: unknown): Record<string, unknown> {
  if (exception instanceof Error) {
    // Message and stack only, masked: never the request body, a pg `detail`, or query parameters.
    return { name: exception.name, message: maskPersonalData(exception.message), stack: maskPersonalData(exception.stack ?? '') };
  }
  return { name: typeof exception };
}

/** Global: every error leaves as `{ statusCode, code, message, violations? }`. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const { status, body, unexpected, reason } = toErrorResponse(exception);
    const audit = requestContextOf(request);
    // The audit entry of a refusal says why (masked, shortened there).
    if (audit) audit.error = { code: body.code, message: reason ?? body.message };
    if (unexpected) {
      const route = (request.route as { path?: string } | undefined)?.path ?? '(unmatched)';
      this.logger.error({ msg: 'request failed', method: request.method, route, status, err: describe(exception) });
    }
    if (response.headersSent) return;
    response.status(status).json(body);
  }
}
