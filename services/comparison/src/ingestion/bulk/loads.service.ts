import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown } from '@nestjs/common';
import type { Department } from '@qmcb/contracts';
import { EventLogProducer } from '@qmcb/event-log';
import { DomainError, REDIS } from '@qmcb/platform';
import type { RedisClient } from '@qmcb/platform';
import { PersonalDataSealer } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import { BulkLoader } from './bulk-loader';
import type { BulkLoadOptions, StartedLoad } from './bulk-loader';
import { RedisLoadProgress } from './load-progress';
import { LoadStore } from './load-store';
import type { LoadReport, QuarantineItem } from './load-store';

const STALE_PROGRESS_MS = 15_000;

/** Bulk loads inside the service: the loader wired to its database, the log and Redis. */
@Injectable()
export class LoadsService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('BulkLoad');
  private readonly loader: BulkLoader;
  private readonly store: LoadStore;
  private readonly progress: RedisLoadProgress;
  private redisWarned = false;
  /** Loads running in this process, stopped (and recorded as failed) when it shuts down. */
  private readonly running = new Map<string, { abort: AbortController; done: Promise<unknown> }>();

  constructor(dataSource: DataSource, producer: EventLogProducer, @Inject(REDIS) redis: RedisClient, sealer: PersonalDataSealer) {
    this.store = new LoadStore(dataSource, sealer);
    this.progress = new RedisLoadProgress(redis, (e) => {
      if (this.redisWarned) return;
      this.redisWarned = true;
      this.logger.warn({ msg: 'load progress not kept in Redis; reports are read from PostgreSQL', err: e.message });
    });
    this.loader = new BulkLoader({ dataSource, sealer, appender: producer, progress: this.progress, logger: this.logger });
  }

  async start(options: Omit<BulkLoadOptions, 'signal'>, source: AsyncIterable<Buffer | string>): Promise<StartedLoad> {
    const abort = new AbortController();
    const started = await this.loader.start({ ...options, signal: abort.signal }, source);
    const done = started.done.finally(() => this.running.delete(started.loadId));
    this.running.set(started.loadId, { abort, done });
    return { ...started, done };
  }

  /** Before the log and the database close: stop running loads after their current chunk. */
  async beforeApplicationShutdown(): Promise<void> {
    const loads = [...this.running.values()];
    for (const load of loads) load.abort.abort();
    await Promise.all(loads.map((l) => l.done));
  }

  /**
   * The report of a load of this department; 404 otherwise. From Redis while it is fresh (a running
   * load refreshes it every chunk), else from PostgreSQL: a final report Redis missed is not hidden.
   */
  async report(loadId: string, department: Department): Promise<LoadReport> {
    const cached = await this.progress.read(loadId);
    const fresh = cached && (cached.report.status !== 'running' || Date.now() - cached.at < STALE_PROGRESS_MS) ? cached.report : null;
    const report = fresh ?? (await this.store.report(loadId));
    if (!report || report.department !== department) throw new DomainError('NOT_FOUND', 'no such load');
    if (report.status === 'running') report.durationMs = Date.now() - new Date(report.startedAt).getTime();
    return report;
  }

  async quarantine(loadId: string, department: Department, limit: number, offset: number): Promise<{ total: number; items: QuarantineItem[] }> {
    const report = await this.store.report(loadId);
    if (!report || report.department !== department) throw new DomainError('NOT_FOUND', 'no such load');
    return this.store.quarantine(loadId, limit, offset);
  }
}
