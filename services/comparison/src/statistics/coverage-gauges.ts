import { Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { COVERAGE_STATUSES, INSURANCE_TYPES } from '@qmcb/contracts';
import { PeriodicTask, intervalFromEnv, registeredMetric } from '@qmcb/platform';
import { RegionPolicyProvider } from '@qmcb/service-kit';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { chinaDate } from '../rules';
import { CoverageRepository } from './coverage.repository';
import { bornBy, reportOf } from './figures';
import type { AreaFigures } from './figures';

/** How often the coverage gauges are recounted; `0` turns the refresh off. */
export const COVERAGE_GAUGE_INTERVAL_ENV = 'COVERAGE_GAUGES_INTERVAL_MS';

export function coverageGaugeIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  return intervalFromEnv(COVERAGE_GAUGE_INTERVAL_ENV, 60_000, env);
}

/** The gauges and their labels (deploy/grafana/dashboards/qmcb-coverage.json queries nothing else). */
export const COVERAGE_METRICS: Record<string, readonly string[]> = {
  qmcb_coverage_population: ['division', 'name', 'level'],
  qmcb_coverage_registration_rate: ['division', 'name', 'level'],
  qmcb_coverage_rate: ['division', 'name', 'level', 'insurance_type'],
  qmcb_coverage_target: ['division', 'name', 'level', 'insurance_type'],
  qmcb_coverage_people: ['division', 'name', 'level', 'insurance_type', 'status'],
  qmcb_coverage_aged_without_pension: ['division', 'name', 'level'],
};

const STATUS_COUNT: Record<(typeof COVERAGE_STATUSES)[number], keyof AreaFigures['types']['pension']> = {
  'insured-here': 'insuredHere',
  'insured-elsewhere': 'insuredElsewhere',
  'not-insured': 'notInsured',
  'not-due': 'notDue',
  exempt: 'exempt',
};

/**
 * Coverage by division for dashboards (deploy/grafana/dashboards/qmcb-coverage.json): for every
 * county with people and each of its townships, the population, registration rate, coverage per
 * insurance type with its target, people per status, and 60+ without a pension. Recounted on a
 * timer (one counting pass per county), never per scrape. Every replica exports the same values:
 * aggregate with `max`.
 */
@Injectable()
export class CoverageGauges implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('CoverageGauges');
  private readonly population = registeredMetric('qmcb_coverage_population', () => new Gauge({ name: 'qmcb_coverage_population', help: 'Household-registered population (the denominator), by division', labelNames: ['division', 'name', 'level'] as const }));
  private readonly registration = registeredMetric('qmcb_coverage_registration_rate', () => new Gauge({ name: 'qmcb_coverage_registration_rate', help: 'Registration rate (registered / population), by division', labelNames: ['division', 'name', 'level'] as const }));
  private readonly rate = registeredMetric('qmcb_coverage_rate', () => new Gauge({ name: 'qmcb_coverage_rate', help: 'Coverage rate (insured / due) per insurance type, by division', labelNames: ['division', 'name', 'level', 'insurance_type'] as const }));
  private readonly target = registeredMetric('qmcb_coverage_target', () => new Gauge({ name: 'qmcb_coverage_target', help: 'Coverage target of the region policy per insurance type, by division', labelNames: ['division', 'name', 'level', 'insurance_type'] as const }));
  private readonly people = registeredMetric('qmcb_coverage_people', () => new Gauge({ name: 'qmcb_coverage_people', help: 'People of the population per insurance type and status, by division', labelNames: ['division', 'name', 'level', 'insurance_type', 'status'] as const }));
  private readonly aged = registeredMetric('qmcb_coverage_aged_without_pension', () => new Gauge({ name: 'qmcb_coverage_aged_without_pension', help: 'People aged 60 (pensionAgeCheck) and over without a pension, by division', labelNames: ['division', 'name', 'level'] as const }));
  private readonly timer = new PeriodicTask(() => this.refresh());

  constructor(
    private readonly dataSource: DataSource,
    private readonly coverage: CoverageRepository,
    private readonly policies: RegionPolicyProvider,
  ) {}

  onApplicationBootstrap(): void {
    this.timer.start(coverageGaugeIntervalMs());
  }

  onApplicationShutdown(): Promise<void> {
    return this.timer.stop();
  }

  private set(area: AreaFigures): void {
    const labels = { division: area.division, name: area.name ?? '', level: area.level };
    this.population.set(labels, area.population);
    if (area.registration.rate !== null) this.registration.set(labels, area.registration.rate);
    this.aged.set(labels, area.agedWithoutPension);
    for (const type of INSURANCE_TYPES) {
      const t = area.types[type];
      if (t.coverage.rate !== null) this.rate.set({ ...labels, insurance_type: type }, t.coverage.rate);
      if (t.target !== null) this.target.set({ ...labels, insurance_type: type }, t.target);
      for (const status of COVERAGE_STATUSES) this.people.set({ ...labels, insurance_type: type, status }, t[STATUS_COUNT[status]] as number);
    }
  }

  /** Recounts every gauge; a failure is logged and the previous values stay. */
  async refresh(): Promise<void> {
    try {
      const { manager } = this.dataSource;
      const today = chinaDate(new Date().toISOString());
      const figures: AreaFigures[] = [];
      for (const county of await this.coverage.counties(manager)) {
        const policy = this.policies.forDivision(county);
        const rows = await this.coverage.counts(manager, { division: county, asOf: null, agedBornBy: bornBy(today, policy.pensionAgeCheck) }, 9);
        const { total, areas } = reportOf(county, rows, policy);
        figures.push(total, ...areas);
      }
      for (const g of [this.population, this.registration, this.rate, this.target, this.people, this.aged]) g.reset();
      for (const area of figures) this.set(area);
    } catch (e) {
      this.logger.warn({ msg: 'coverage gauges not refreshed', err: e instanceof Error ? e.message : String(e) });
    }
  }
}
