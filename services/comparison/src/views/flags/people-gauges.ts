import { Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { OUTCOMES } from '@qmcb/contracts';
import { PeriodicTask, intervalFromEnv, registeredMetric } from '@qmcb/platform';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { OutcomeRepository } from '../../outcomes/outcome.repository';

export const PEOPLE_GAUGE = 'qmcb_comparison_people';
export const REASON_GAUGE = 'qmcb_comparison_people_by_reason';
/** How often the gauges are recounted; `0` turns the refresh off. */
export const GAUGE_INTERVAL_ENV = 'COMPARISON_GAUGES_INTERVAL_MS';
const DEFAULT_INTERVAL_MS = 60_000;

export function gaugeIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  return intervalFromEnv(GAUGE_INTERVAL_ENV, DEFAULT_INTERVAL_MS, env);
}

/**
 * Business gauges for dashboards: people by current outcome and by reason code, over the whole
 * projection. Recounted on a timer (two GROUP BYs over `current_outcome`), never per scrape or request.
 * Every replica exports the same values: aggregate with `max`, not `sum`.
 */
@Injectable()
export class PeopleGauges implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('PeopleGauges');
  private readonly people = registeredMetric(
    PEOPLE_GAUGE,
    () => new Gauge({ name: PEOPLE_GAUGE, help: 'People compared, by current outcome (refreshed periodically)', labelNames: ['outcome'] as const }),
  );
  private readonly reasons = registeredMetric(
    REASON_GAUGE,
    () => new Gauge({ name: REASON_GAUGE, help: 'People whose current outcome carries a reason code, by code (refreshed periodically)', labelNames: ['reason'] as const }),
  );
  private readonly timer = new PeriodicTask(() => this.refresh());

  constructor(
    private readonly dataSource: DataSource,
    private readonly outcomes: OutcomeRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.timer.start(gaugeIntervalMs());
  }

  onApplicationShutdown(): Promise<void> {
    return this.timer.stop();
  }

  /** Recounts both gauges; a failure is logged and the previous values stay. */
  async refresh(): Promise<void> {
    try {
      const { byOutcome, byReason } = await this.outcomes.counts(this.dataSource.manager, null);
      for (const outcome of OUTCOMES) this.people.set({ outcome }, byOutcome.get(outcome) ?? 0);
      this.reasons.reset();
      for (const [code, n] of byReason) this.reasons.set({ reason: code }, n);
    } catch (e) {
      this.logger.warn({ msg: 'people gauges not refreshed', err: e instanceof Error ? e.message : String(e) });
    }
  }
}
