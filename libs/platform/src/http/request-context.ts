import { AsyncLocalStorage } from 'async_hooks';
import { randomUUID } from 'crypto';
import type { Principal, Purpose } from '@qmcb/auth';
import type { NextFunction, Request, Response } from 'express';
import type { RouteInfo } from './route-table';

/** What the platform knows about a request while it is served: for the audit, masking and limits. */
export interface RequestContext {
  requestId: string;
  /** The client's address (X-Forwarded-For only from proxies in TRUST_PROXY). */
  source: string;
  method: string;
  route?: RouteInfo;
  principal?: Principal;
  purpose?: Purpose;
  purposeRef?: string;
  /** Whether lists and exports of this request may carry full values. */
  unmasked: boolean;
  /** Person keys this request concerns: read, listed, exported, changed or asked about. */
  people: Set<string>;
  /** Set once the request's final audit entry is written. */
  audited: boolean;
  /** People a stream has disclosed so far (each batch audited before it was sent). */
  disclosed?: number;
  /** The refusal or error answered, for the audit entry. */
  error?: { code: string; message: string };
}

export const REQUEST_ID_HEADER = 'x-request-id';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const CONTEXT = Symbol('qmcb:request-context');

const storage = new AsyncLocalStorage<RequestContext>();

/** The context of the request being served, in the handler and everything it awaits. */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

export function runInRequest<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function requestContextOf(req: Request): RequestContext | undefined {
  return (req as Request & { [CONTEXT]?: RequestContext })[CONTEXT];
}

/**
 * First middleware of every application: a request ID (the client's X-Request-Id when well formed,
 * else a new UUID), echoed on the response, and the context the audit and the limits fill in.
 */
export function requestContextMiddleware(): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const given = req.headers[REQUEST_ID_HEADER];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    const context: RequestContext = {
      requestId,
      source: req.ip ?? req.socket.remoteAddress ?? 'unknown',
      method: req.method,
      unmasked: false,
      people: new Set(),
      audited: false,
    };
    (req as Request & { [CONTEXT]?: RequestContext })[CONTEXT] = context;
    res.setHeader('X-Request-Id', requestId);
    storage.run(context, next);
  };
}
