import { Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PeriodicTask, intervalFromEnv, registeredMetric } from '@qmcb/platform';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { CampaignRepository } from '../campaigns/campaign.repository';
import { chinaToday } from '../campaigns/campaigns.service';
import { SurveyTaskRepository } from '../targets/survey-task.repository';

export const SURVEY_TARGETS_GAUGE = 'qmcb_survey_targets';
export const SURVEY_VISITED_GAUGE = 'qmcb_survey_targets_visited';
export const SURVEY_OUTCOME_GAUGE = 'qmcb_survey_targets_by_outcome';
export const SURVEY_OVERDUE_GAUGE = 'qmcb_survey_targets_overdue';
export const SURVEY_UNASSIGNED_GAUGE = 'qmcb_survey_targets_unassigned';
/** How often the gauges are recounted; `0` turns the refresh off. */
export const SURVEY_GAUGE_INTERVAL_ENV = 'SURVEY_GAUGES_INTERVAL_MS';

const LABELS = ['campaign', 'county', 'township'] as const;

/**
 * Survey progress for dashboards, per open campaign and township: targets by status, visited, by the
 * last visit's outcome, overdue and without a surveyor. Recounted on a timer (the same figures as
 * GET /campaigns/:id/progress), never per scrape. Every replica exports the same values: aggregate
 * with `max`.
 */
@Injectable()
export class ProgressGauges implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ProgressGauges');
  private readonly targets = registeredMetric(SURVEY_TARGETS_GAUGE, () => new Gauge({ name: SURVEY_TARGETS_GAUGE, help: 'Survey targets of open campaigns, per township and status', labelNames: [...LABELS, 'status'] as const }));
  private readonly visited = registeredMetric(SURVEY_VISITED_GAUGE, () => new Gauge({ name: SURVEY_VISITED_GAUGE, help: 'Survey targets visited at least once, per township', labelNames: LABELS }));
  private readonly outcomes = registeredMetric(SURVEY_OUTCOME_GAUGE, () => new Gauge({ name: SURVEY_OUTCOME_GAUGE, help: "Survey targets by their last visit's outcome, per township", labelNames: [...LABELS, 'outcome'] as const }));
  private readonly overdue = registeredMetric(SURVEY_OVERDUE_GAUGE, () => new Gauge({ name: SURVEY_OVERDUE_GAUGE, help: 'Survey targets still to do after the deadline or a planned revisit, per township', labelNames: LABELS }));
  private readonly unassigned = registeredMetric(SURVEY_UNASSIGNED_GAUGE, () => new Gauge({ name: SURVEY_UNASSIGNED_GAUGE, help: 'Unfinished survey targets without a responsible surveyor, per township', labelNames: LABELS }));
  private readonly timer = new PeriodicTask(() => this.refresh());

  constructor(
    private readonly dataSource: DataSource,
    private readonly campaigns: CampaignRepository,
    private readonly tasks: SurveyTaskRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.timer.start(intervalFromEnv(SURVEY_GAUGE_INTERVAL_ENV, 60_000));
  }

  onApplicationShutdown(): Promise<void> {
    return this.timer.stop();
  }

  /** Recounts the gauges; a failure is logged and the previous values stay. */
  async refresh(now = new Date()): Promise<void> {
    try {
      const manager = this.dataSource.manager;
      const open = (await this.campaigns.list(manager, '')).filter((c) => c.status === 'open');
      const today = chinaToday(now);
      const figures = [];
      for (const c of open) {
        const rows = await this.tasks.progress(manager, { campaignId: c.campaignId, countyCode: c.countyCode, open: true }, c.countyCode, 'township', today, c.deadline);
        figures.push(...rows.map((r) => ({ labels: { campaign: c.campaignId, county: c.countyCode, township: r.key }, r })));
      }
      for (const g of [this.targets, this.visited, this.outcomes, this.overdue, this.unassigned]) g.reset();
      for (const { labels, r } of figures) {
        for (const [status, n] of Object.entries(r.byStatus)) this.targets.set({ ...labels, status }, n);
        for (const [outcome, n] of Object.entries(r.byOutcome)) this.outcomes.set({ ...labels, outcome }, n);
        this.visited.set(labels, r.visited);
        this.overdue.set(labels, r.overdue);
        this.unassigned.set(labels, r.unassigned);
      }
    } catch (e) {
      this.logger.warn({ msg: 'survey progress gauges not refreshed', err: e instanceof Error ? e.message : String(e) });
    }
  }
}
