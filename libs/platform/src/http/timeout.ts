import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './route-limits';
import type { RouteTable } from './route-table';


/**
 * Every request has a deadline, its route's (`@RouteLimits({ timeoutMs })`, default 30 s), for
 * receiving the body and answering alike. Past it: 503 UNAVAILABLE and the connection closed if no
 * answer was started; the connection cut if one was (a stream is never left hanging).
 */
export function requestTimeoutMiddleware(routes: () => RouteTable | undefined): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const ms = routes()?.match(req.method, req.path)?.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const timer = setTimeout(() => {
      if (res.writableFinished) return;
      if (res.headersSent) {
        res.destroy(new Error(`request not completed within ${ms} ms`));
        return;
      }
      res.setHeader('Connection', 'close');
      res.status(503).json({ statusCode: 503, code: 'UNAVAILABLE', message: `request not completed within ${ms} ms` });
      // Whatever the client still sends (a slow body) is not read.
      res.once('finish', () => req.socket.destroy());
    }, ms);
    timer.unref();
    const clear = (): void => clearTimeout(timer);
    res.once('finish', clear);
    res.once('close', clear);
    next();
  };
}
