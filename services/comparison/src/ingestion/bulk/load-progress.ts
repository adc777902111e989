import type { RedisClient } from '@qmcb/platform';
import type { LoadReport } from './load-store';

/** Where a load's report is kept while it runs, for cheap polling from any replica. */
export interface LoadProgress {
  publish(report: LoadReport): Promise<void>;
  /** The last report published and when (epoch ms). */
  read(loadId: string): Promise<{ report: LoadReport; at: number } | null>;
}

export const LOAD_PROGRESS_TTL_SECONDS = 7 * 24 * 3600;

function key(loadId: string): string {
  return `qmcb:comparison:load:${loadId}`;
}

/**
 * The report as JSON under `qmcb:comparison:load:<id>` (with the time it was written), refreshed
 * after every chunk, kept for a week. Best effort: Redis being down never fails a load (PostgreSQL's `loads` row is the record;
 * readers fall back to it).
 */
export class RedisLoadProgress implements LoadProgress {
  constructor(
    private readonly redis: RedisClient,
    private readonly onError: (e: Error) => void = () => undefined,
    private readonly ttlSeconds = LOAD_PROGRESS_TTL_SECONDS,
  ) {}

  async publish(report: LoadReport): Promise<void> {
    try {
      await this.redis.set(key(report.loadId), JSON.stringify({ at: Date.now(), report }), { expiration: { type: 'EX', value: this.ttlSeconds } });
    } catch (e) {
      this.onError(e as Error);
    }
  }

  async read(loadId: string): Promise<{ report: LoadReport; at: number } | null> {
    try {
      const text = await this.redis.get(key(loadId));
      return text ? (JSON.parse(text) as { report: LoadReport; at: number }) : null;
    } catch (e) {
      this.onError(e as Error);
      return null;
    }
  }
}

/** For the command line without Redis, and for tests. */
export const NO_PROGRESS: LoadProgress = {
  publish: async () => undefined,
  read: async () => null,
};
