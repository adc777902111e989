import { Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PeriodicTask, intervalFromEnv, registeredMetric } from '@qmcb/platform';
import { RegionPolicyProvider } from '@qmcb/service-kit';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { ReviewItemRepository } from '../items/review-item.repository';

export const QUEUE_PENDING_GAUGE = 'qmcb_review_queue_pending';
export const QUEUE_OVERDUE_GAUGE = 'qmcb_review_queue_overdue';
export const QUEUE_OLDEST_GAUGE = 'qmcb_review_queue_oldest_wait_seconds';
/** How often the gauges are recounted; `0` turns the refresh off. */
export const QUEUE_GAUGE_INTERVAL_ENV = 'REVIEW_GAUGES_INTERVAL_MS';

const DAY_MS = 86_400_000;

/**
 * Review queues for dashboards: pending and overdue items and the oldest wait, per county and stage
 * (overdue by each county's region policy `reviewDueDays`). Recounted on a timer, never per scrape.
 * Every replica exports the same values: aggregate with `max`.
 */
@Injectable()
export class QueueGauges implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('QueueGauges');
  private readonly pending = registeredMetric(QUEUE_PENDING_GAUGE, () => new Gauge({ name: QUEUE_PENDING_GAUGE, help: 'Review items waiting, per county and stage', labelNames: ['county', 'stage'] as const }));
  private readonly overdue = registeredMetric(
    QUEUE_OVERDUE_GAUGE,
    () => new Gauge({ name: QUEUE_OVERDUE_GAUGE, help: 'Review items waiting longer than the region policy allows, per county and stage', labelNames: ['county', 'stage'] as const }),
  );
  private readonly oldest = registeredMetric(
    QUEUE_OLDEST_GAUGE,
    () => new Gauge({ name: QUEUE_OLDEST_GAUGE, help: 'Wait of the oldest review item, per county and stage, in seconds', labelNames: ['county', 'stage'] as const }),
  );
  private readonly timer = new PeriodicTask(() => this.refresh());

  constructor(
    private readonly dataSource: DataSource,
    private readonly items: ReviewItemRepository,
    private readonly policies: RegionPolicyProvider,
  ) {}

  onApplicationBootstrap(): void {
    this.timer.start(intervalFromEnv(QUEUE_GAUGE_INTERVAL_ENV, 60_000));
  }

  onApplicationShutdown(): Promise<void> {
    return this.timer.stop();
  }

  /** Recounts the gauges; a failure is logged and the previous values stay. */
  async refresh(now = new Date()): Promise<void> {
    try {
      const first = await this.items.countyFigures(this.dataSource.manager, new Date(now.getTime() - this.policies.forDivision(null).reviewDueDays * DAY_MS).toISOString());
      // Counties whose policy sets another due time are counted again with theirs.
      const dueOf = (county: string): number => this.policies.forDivision(county).reviewDueDays;
      const defaultDue = this.policies.forDivision(null).reviewDueDays;
      const others = [...new Set(first.map((r) => dueOf(r.county)).filter((d) => d !== defaultDue))];
      const rows = [...first.filter((r) => dueOf(r.county) === defaultDue)];
      for (const due of others) {
        const again = await this.items.countyFigures(this.dataSource.manager, new Date(now.getTime() - due * DAY_MS).toISOString());
        rows.push(...again.filter((r) => dueOf(r.county) === due));
      }
      this.pending.reset();
      this.overdue.reset();
      this.oldest.reset();
      for (const r of rows) {
        const labels = { county: r.county, stage: r.stage };
        this.pending.set(labels, r.pending);
        this.overdue.set(labels, r.overdue);
        this.oldest.set(labels, r.oldest ? Math.max(0, Math.round((now.getTime() - Date.parse(r.oldest)) / 1000)) : 0);
      }
    } catch (e) {
      this.logger.warn({ msg: 'review queue gauges not refreshed', err: e instanceof Error ? e.message : String(e) });
    }
  }
}
