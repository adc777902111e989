import type { Response } from 'express';

/**
 * Streams to a client (exports, server-sent events) never wait on a reader that stopped reading: a
 * write that the socket cannot take waits for `drain` at most this long (EXPORT_STALL_TIMEOUT_MS,
 * 100-600000 ms, default 30 s), then the connection is cut. Otherwise a client that keeps the
 * connection open and reads nothing would hold the server's memory, a database transaction and a
 * stream slot for as long as it likes (docs/security.md, "Resource limits").
 */
export const EXPORT_STALL_ENV = 'EXPORT_STALL_TIMEOUT_MS';
const DEFAULT_STALL_MS = 30_000;

export function exportStallMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[EXPORT_STALL_ENV];
  if (raw === undefined || raw === '') return DEFAULT_STALL_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 100 || ms > 600_000) throw new Error(`${EXPORT_STALL_ENV} must be 100-600000 milliseconds, got ${JSON.stringify(raw)}`);
  return ms;
}

/** Where a stream's chunks go: `write` resolves when the sink can take more; `closed` when the reader went away (or stalled). */
export interface LineSink {
  write(chunk: string): Promise<void>;
  closed(): boolean;
}

/**
 * A response as a sink with back-pressure: waits for `drain` when the socket buffer is full, but not
 * longer than `stallMs`: a reader that keeps the connection open and reads nothing is cut off.
 */
export function responseSink(res: Response, stallMs: number): LineSink {
  let closed = false;
  res.once('close', () => (closed = true));
  return {
    closed: () => closed || res.destroyed,
    write: (chunk) =>
      new Promise<void>((resolve) => {
        if (closed || res.destroyed) return resolve();
        if (res.write(chunk)) return resolve();
        const done = (): void => {
          clearTimeout(timer);
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        const timer = setTimeout(() => {
          closed = true;
          res.destroy(new Error(`the reader took nothing for ${stallMs} ms`));
          done();
        }, stallMs);
        res.on('drain', done);
        res.on('close', done);
      }),
  };
}
