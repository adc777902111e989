import type { NextFunction, Request, Response } from 'express';
import { Histogram, collectDefaultMetrics, register } from 'prom-client';
import type { Metric } from 'prom-client';

export const HTTP_REQUEST_DURATION_SECONDS = 'qmcb_http_request_duration_seconds';
/** The `route` label of a request that matched no route: bounded cardinality, not the raw URL. */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * The metric called `name` in the default registry, created once per registry. A second
 * registration of one name throws in prom-client; several apps in one test process would hit it.
 */
export function registeredMetric<T extends Metric>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}

/** Node's default metrics, once per process (per registry). */
export function ensureDefaultMetrics(): void {
  if (!register.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics();
}

export function httpRequestDuration(): Histogram<'method' | 'route' | 'status'> {
  return registeredMetric(
    HTTP_REQUEST_DURATION_SECONDS,
    () =>
      new Histogram({
        name: HTTP_REQUEST_DURATION_SECONDS,
        help: 'HTTP request latency by method, Nest route path and status',
        labelNames: ['method', 'route', 'status'] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      }),
  );
}

/**
 * Express middleware timing every request, guard refusals and errors included. The route label is
 * the matched route's path (`/persons/:personKey`), known once the response is finished.
 */
export function httpMetricsMiddleware(): (req: Request, res: Response, next: NextFunction) => void {
  const histogram = httpRequestDuration();
  return (req, res, next) => {
    const end = histogram.startTimer();
    let recorded = false;
    const record = (status: string): void => {
      if (recorded) return;
      recorded = true;
      const route = (req.route as { path?: unknown } | undefined)?.path;
      end({ method: req.method, route: typeof route === 'string' ? route : UNMATCHED_ROUTE, status });
    };
    res.once('finish', () => record(String(res.statusCode)));
    // The client went away before the answer: nginx's 499.
    res.once('close', () => record(res.writableFinished ? String(res.statusCode) : '499'));
    next();
  };
}
