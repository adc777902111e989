import { SetMetadata } from '@nestjs/common';

export const ROUTE_LIMITS_KEY = 'qmcb:route:limits';

/**
 * Rate classes: each caller has a budget per class and window (RATE_LIMITS). By default a route's
 * class follows its personal-data access (read, list, export, write); a route without personal data
 * is `read` for GET and `write` otherwise; `bulk` is declared by routes that take many records at once.
 */
export const RATE_CLASSES = ['read', 'list', 'export', 'write', 'bulk'] as const;
export type RateClass = (typeof RATE_CLASSES)[number];

export interface RouteLimitsOptions {
  /** How long the whole request may take, body included; default DEFAULT_REQUEST_TIMEOUT_MS. */
  timeoutMs?: number;
  /** The largest JSON body accepted (bytes); default DEFAULT_BODY_LIMIT_BYTES. */
  bodyLimitBytes?: number;
  /** The rate class; default from the route's personal-data access. */
  rate?: RateClass;
}

/** A request not completed in this time is answered 503 and its connection closed. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** JSON bodies larger than this are refused (413) unless the route says otherwise. */
export const DEFAULT_BODY_LIMIT_BYTES = 100 * 1024;
/** JSON nested deeper than this is refused (400) before anything reads it. */
export const MAX_JSON_DEPTH = 32;

/** Per-route limits: `@RouteLimits({ timeoutMs: 3_600_000, rate: 'bulk' })`. */
export const RouteLimits = (options: RouteLimitsOptions): ReturnType<typeof SetMetadata> => SetMetadata(ROUTE_LIMITS_KEY, options);
