import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { KafkaSettings } from '@qmcb/event-log';
import { loadConfig } from '@qmcb/platform';
import { Clock, KEY_COLUMNS, PersonalDataSealer, PersonKeyColumn, PLAIN_ROW_SEALERS, ServiceKitModule } from '@qmcb/service-kit';
import type { ServiceConfig } from '@qmcb/service-kit';
import { ExchangeModule } from './exchange/exchange.module';
import { QuarantinePlainRows } from './ingestion/bulk/load-store';
import { IngestionModule } from './ingestion/ingestion.module';
import { ComparisonTables1700000001000 } from './migrations/1700000001000-comparison-tables';
import { BulkLoadTables1700000001500 } from './migrations/1700000001500-bulk-load-tables';
import { FlagListIndexes1700000004100 } from './migrations/1700000004100-flag-list-indexes';
import { CurrentOutcomeDivisionDropped1700000004200 } from './migrations/1700000004200-current-outcome-division-dropped';
import { RecompareDue1700000009100 } from './migrations/1700000009100-recompare-due';
import { IdentityLinks1700000010100 } from './migrations/1700000010100-identity-links';
import { CoverageStatistics1700000010200 } from './migrations/1700000010200-coverage-statistics';
import { LoadQuarantineSealed1764806500000 } from './migrations/1764806500000-load-quarantine-sealed';
import { PersonLinkSealed1764979200000 } from './migrations/1764979200000-person-link-sealed';
import { OutcomeReasonsSealed1764979200100 } from './migrations/1764979200100-outcome-reasons-sealed';
import { IdentityLinks } from './linking/identity-links';
import { PersonLinkRepository } from './linking/person-link.repository';
import { CoverageRecorder } from './statistics/coverage-recorder';
import { CoverageRepository } from './statistics/coverage.repository';
import { OutcomeRepository } from './outcomes/outcome.repository';
import { LinkWaitingPlainRows, OutcomeReasonsPlainRows, PersonLinkPlainRows } from './projection/comparison-plain-rows';
import { COMPARISON_KEY_COLUMNS, ComparisonProjection } from './projection/comparison.projection';
import { RecompareDueRepository } from './schedule/recompare-due.repository';
import { RecompareScheduler, SCHEDULE_CONFIG, ScheduleConfig } from './schedule/recompare-scheduler';
import { StatisticsModule } from './statistics/statistics.module';
import { ViewsModule } from './views/views.module';

export const COMPARISON_MIGRATIONS = [
  ComparisonTables1700000001000,
  BulkLoadTables1700000001500,
  FlagListIndexes1700000004100,
  CurrentOutcomeDivisionDropped1700000004200,
  RecompareDue1700000009100,
  IdentityLinks1700000010100,
  CoverageStatistics1700000010200,
  LoadQuarantineSealed1764806500000,
  PersonLinkSealed1764979200000,
  OutcomeReasonsSealed1764979200100,
];

/** What a test may replace: the clock, and the environment the scheduler's settings come from. */
export interface ComparisonOptions {
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
}

/**
 * 信息比对: department records in (ingestion), merged per person and compared by named rules
 * (projection, rules), shown and explained (views), exchanged with the higher registry (exchange).
 */
@Module({})
export class ComparisonModule {
  static register(config: ServiceConfig, kafka: KafkaSettings, options: ComparisonOptions = {}): DynamicModule {
    const schedule = loadConfig(ScheduleConfig, { RECOMPARE_SWEEP_INTERVAL_MS: '60000' }, options.env ?? process.env);
    // The scheduler runs where the log is consumed: not in an HTTP-only replica or an operator command.
    if (!config.CONSUME) schedule.RECOMPARE_SWEEP_INTERVAL_MS = 0;
    return {
      module: ComparisonModule,
      imports: [ServiceKitModule.forService({ name: 'comparison', config, kafka, migrations: COMPARISON_MIGRATIONS }), IngestionModule, ViewsModule, ExchangeModule, StatisticsModule],
      controllers: [ComparisonProjection],
      providers: [
        OutcomeRepository,
        PersonLinkRepository,
        IdentityLinks,
        CoverageRepository,
        CoverageRecorder,
        RecompareDueRepository,
        RecompareScheduler,
        { provide: Clock, useValue: options.clock ?? new Clock() },
        { provide: SCHEDULE_CONFIG, useValue: schedule },
        // What `seal-records` re-keys besides person_record (ADR 0011, stage 5), before it seals.
        { provide: KEY_COLUMNS, useValue: COMPARISON_KEY_COLUMNS.filter((c) => c.table !== 'person_record') },
        // Rows written before ADR 0011's stages 4 and 5, sealed in place by `seal-records`.
        {
          provide: PLAIN_ROW_SEALERS,
          inject: [PersonalDataSealer, PersonKeyColumn],
          useFactory: (sealer: PersonalDataSealer, keys: PersonKeyColumn) => [
            new QuarantinePlainRows(sealer),
            new OutcomeReasonsPlainRows(keys, sealer),
            new PersonLinkPlainRows(keys, sealer),
            new LinkWaitingPlainRows(sealer),
          ],
        },
      ],
    };
  }
}
