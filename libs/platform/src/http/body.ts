import { json } from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { DEFAULT_BODY_LIMIT_BYTES, MAX_JSON_DEPTH } from './route-limits';
import type { RouteTable } from './route-table';

/** A 400 for JSON nested too deeply, in body-parser's shape (status + expose), so the error filter words it. */
export class JsonTooDeepError extends Error {
  readonly status = 400;
  readonly expose = true;

  constructor(
    readonly maxDepth: number,
    readonly at: number,
  ) {
    super(`JSON nested deeper than ${maxDepth} levels (at character ${at})`);
    this.name = 'JsonTooDeepError';
  }
}

/**
 * The depth of the deepest array or object in a JSON text, stopping at `max + 1`: a linear scan
 * that skips strings, so a body nested 10,000 levels deep is refused before JSON.parse and the
 * validators, whose recursion it would exhaust, ever see it.
 */
export function jsonDepthExceeds(text: string, max = MAX_JSON_DEPTH): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i += 1; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      depth += 1;
      if (depth > max) return i;
    } else if (c === 125 || c === 93) depth -= 1;
  }
  return undefined;
}

/**
 * Nest turns any SyntaxError reaching it into `BadRequestException(err.message)`, which loses the
 * parser's `type` (and passes on Node's message, which quotes the body). The parse error goes on as a
 * plain Error with body-parser's status, `expose` and `type`, so the error filter names the field
 * and the rule (`body`, `isJson`; docs/api/errors.md).
 */
function unsyntactic(err: unknown): unknown {
  if (!(err instanceof SyntaxError)) return err;
  const r = err as SyntaxError & { status?: number; statusCode?: number; expose?: boolean; type?: string; body?: unknown };
  const status = r.status ?? r.statusCode ?? 400;
  // The parser takes only objects and arrays ("strict"): `null`, `3` or `"x"` is valid JSON it refuses as
  // if it were not. Said as what it is: a body that is not an object (the value itself is not echoed).
  const kind = typeof r.body === 'string' ? jsonKind(r.body) : undefined;
  if (kind !== undefined) return new BodyNotObjectError(kind);
  return Object.assign(new Error(err.message), { name: 'BodyParseError', status, expose: r.expose ?? true, type: r.type ?? 'entity.parse.failed' });
}

/** What a JSON text holds, when it parses: `null`, `an array`, `a string`, …; undefined when it does not parse. */
export function jsonKind(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A 400 for a JSON body that is valid but not an object (`null`, a number, a string, an array), in body-parser's shape. */
export class BodyNotObjectError extends Error {
  readonly status = 400;
  readonly expose = true;
  readonly type = 'entity.not.object';

  constructor(readonly got: string) {
    super(`body must be a JSON object (got ${got})`);
    this.name = 'BodyNotObjectError';
  }
}

/** A 415 for a body sent to a route that takes JSON with another media type (it would otherwise be ignored). */
export class BodyNotJsonError extends Error {
  readonly status = 415;
  readonly expose = true;
  readonly type = 'entity.not.json';

  constructor(readonly got: string) {
    super(`Content-Type must be application/json: this route takes a JSON body (got ${got})`);
    this.name = 'BodyNotJsonError';
  }
}

/** Whether a request sends a body of any length (chunked, or a Content-Length above 0): an empty one is read as `{}`. */
function sendsBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || Number(length ?? 0) > 0;
}

/** A media type as the client sent it, when it looks like one (else not echoed): `text/plain`. */
function mediaTypeOf(header: string | undefined): string {
  const type = (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === '') return 'none';
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/.test(type) ? type : 'another type';
}

/**
 * JSON bodies with each route's own limit (`@RouteLimits({ bodyLimitBytes })`, default 100 KiB) and
 * a depth limit. A route that takes a JSON body (`@Body()`) refuses a body of another media type
 * (415, rather than reading it as `{}`); other routes' bodies are left to them (a bulk load streams
 * its body itself).
 */
export function jsonBodyMiddleware(routes: () => RouteTable | undefined): RequestHandler {
  const parsers = new Map<number, RequestHandler>();
  const parserFor = (limit: number): RequestHandler => {
    let parser = parsers.get(limit);
    if (!parser) {
      parser = json({
        limit,
        verify: (_req, _res, buf) => {
          const at = jsonDepthExceeds(buf.toString('utf8'));
          if (at !== undefined) throw new JsonTooDeepError(MAX_JSON_DEPTH, at);
        },
      });
      parsers.set(limit, parser);
    }
    return parser;
  };
  return (req: Request, res: Response, next: NextFunction) => {
    const route = routes()?.match(req.method, req.path);
    if (route?.takesJsonBody && sendsBody(req) && mediaTypeOf(req.headers['content-type']) !== 'application/json') {
      next(new BodyNotJsonError(mediaTypeOf(req.headers['content-type'])));
      return;
    }
    parserFor(route?.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES)(req, res, (err?: unknown) => next(err === undefined ? undefined : unsyntactic(err)));
  };
}
