import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Department } from '@qmcb/contracts';
import { EventLogProducer } from '@qmcb/event-log';
import { DomainError, REDIS } from '@qmcb/platform';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { BulkLoader } from './bulk-loader';
import type { BulkLoadOptions, StartedLoad } from './bulk-loader';
import { RedisLoadProgress } from './load-progress';
import { LoadStore } from './load-store';
import type { LoadReport, QuarantineItem } from './load-store';

const STALE_PROGRESS_MS = 15_000;

/** Bulk loads inside the service: the loader wired to its database, the log and Redis. */
@Injectable()
export class LoadsService {
  private readonly logger = new Logger('BulkLoad');
  private readonly loader: BulkLoader;
  private readonly store: LoadStore;
  private readonly progress: RedisLoadProgress;
  private redisWarned = false;

  constructor(dataSource: DataSource, producer: EventLogProducer, @Inject(REDIS) redis: Redis) {
    this.store = new LoadStore(dataSource);
    this.progress = new RedisLoadProgress(redis, (e) => {
      if (this.redisWarned) return;
      this.redisWarned = true;
      this.logger.warn({ msg: 'load progress not kept in Redis; reports are read from PostgreSQL', err: e.message });
    });
    this.loader = new BulkLoader({ dataSource, appender: producer, progress: this.progress, logger: this.logger });
  }

  start(options: BulkLoadOptions, source: AsyncIterable<Buffer | string>): Promise<StartedLoad> {
    return this.loader.start(options, source);
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
