import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { COMPARISON_RECOMPARE_DUE, deterministicId, newEvent } from '@qmcb/contracts';
import type { EventOf } from '@qmcb/contracts';
import { EventLogProducer } from '@qmcb/event-log';
import { PeriodicTask } from '@qmcb/platform';
import { Clock } from '@qmcb/service-kit';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { DataSource } from 'typeorm';
import { COMPARISON_SERVICE } from '../projection/outcome';
import { chinaDate } from '../rules';
import { startOfChinaDay } from './next-due';
import { RecompareDueRepository } from './recompare-due.repository';
import type { DueRow } from './recompare-due.repository';

export type RecompareDueEvent = EventOf<typeof COMPARISON_RECOMPARE_DUE>;

const toInt = ({ value }: { value: unknown }): unknown => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

/** Comparison's scheduler settings (environment). */
export class ScheduleConfig {
  /** How often due rows are looked for; 0 turns the scheduler off in this process. */
  @Transform(toInt) @IsInt() @Min(0) @Max(86_400_000)
  RECOMPARE_SWEEP_INTERVAL_MS: number;
}

export const SCHEDULE_CONFIG = Symbol('SCHEDULE_CONFIG');

/** Rows per round of a sweep (one append, one update). */
const SWEEP_BATCH = 500;

/**
 * The event of a due row. Its ID is made of the person, the day and the event whose comparison
 * computed the day: two schedulers, a restart or a re-run append the same event, which every
 * projection applies once; a day computed again after a newer fact is a new event.
 */
export function recompareDueEvent(row: DueRow, recordedAt: string): RecompareDueEvent {
  const eventId = deterministicId('comparison', 'recompare-due', row.personKey, row.dueDate, row.basisEventId);
  return newEvent(COMPARISON_RECOMPARE_DUE, eventId, row.personKey, { dueDate: row.dueDate, because: [...row.because] }, {
    source: COMPARISON_SERVICE,
    actor: COMPARISON_SERVICE,
    occurredAt: startOfChinaDay(row.dueDate),
    recordedAt,
    correlationId: eventId,
    causationId: row.basisEventId,
  });
}

/**
 * Time without anyone touching the record (issue 9, docs/adr/0005): every interval, the rows of
 * `recompare_due` whose day has come (in China) are appended to the log as
 * `comparison.recompare-due`; the projection compares those people again as of that day and
 * computes their next day. One process sweeps at a time (an advisory lock); the log's deterministic
 * IDs make a second sweep harmless anyway.
 */
@Injectable()
export class RecompareScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RecompareScheduler');
  private readonly task = new PeriodicTask(
    () => this.sweepAll(),
    (e) => this.logger.warn({ msg: 'recompare sweep failed; retried at the next interval', err: e instanceof Error ? e.message : String(e) }),
  );

  constructor(
    private readonly dataSource: DataSource,
    private readonly producer: EventLogProducer,
    private readonly dues: RecompareDueRepository,
    private readonly clock: Clock,
    @Inject(SCHEDULE_CONFIG) private readonly config: ScheduleConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.task.start(this.config.RECOMPARE_SWEEP_INTERVAL_MS, { immediately: false });
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  /** Appends the events of every row due today (by the clock) or earlier; returns how many. A sweep already running is awaited, not doubled. */
  sweep(): Promise<number> {
    return this.task.run();
  }

  private async sweepAll(): Promise<number> {
    const today = chinaDate(this.clock.now().toISOString());
    let total = 0;
    for (;;) {
      const fired = await this.dataSource.transaction(async (manager) => {
        const [{ locked }] = (await manager.query(`SELECT pg_try_advisory_xact_lock(hashtext('qmcb.comparison.recompare-sweep')) AS locked`)) as { locked: boolean }[];
        if (!locked) return 0;
        const rows = await this.dues.due(manager, today, SWEEP_BATCH);
        if (rows.length === 0) return 0;
        const recordedAt = this.clock.now().toISOString();
        await this.producer.append(rows.map((r) => recompareDueEvent(r, recordedAt)));
        await this.dues.markFired(manager, rows);
        return rows.length;
      });
      total += fired;
      if (fired < SWEEP_BATCH) break;
    }
    if (total > 0) this.logger.log({ msg: 'recompare days appended', today, events: total });
    return total;
  }
}
