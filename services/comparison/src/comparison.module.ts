import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { KafkaSettings } from '@qmcb/event-log';
import { ServiceKitModule } from '@qmcb/service-kit';
import type { ServiceConfig } from '@qmcb/service-kit';
import { ExchangeModule } from './exchange/exchange.module';
import { IngestionModule } from './ingestion/ingestion.module';
import { ComparisonTables1700000001000 } from './migrations/1700000001000-comparison-tables';
import { BulkLoadTables1700000001500 } from './migrations/1700000001500-bulk-load-tables';
import { FlagListIndexes1700000004100 } from './migrations/1700000004100-flag-list-indexes';
import { CurrentOutcomeDivisionDropped1700000004200 } from './migrations/1700000004200-current-outcome-division-dropped';
import { IdentityLinks1700000010100 } from './migrations/1700000010100-identity-links';
import { CoverageStatistics1700000010200 } from './migrations/1700000010200-coverage-statistics';
import { IdentityLinks } from './linking/identity-links';
import { PersonLinkRepository } from './linking/person-link.repository';
import { CoverageRecorder } from './statistics/coverage-recorder';
import { CoverageRepository } from './statistics/coverage.repository';
import { OutcomeRepository } from './outcomes/outcome.repository';
import { ComparisonProjection } from './projection/comparison.projection';
import { StatisticsModule } from './statistics/statistics.module';
import { ViewsModule } from './views/views.module';

export const COMPARISON_MIGRATIONS = [
  ComparisonTables1700000001000,
  BulkLoadTables1700000001500,
  FlagListIndexes1700000004100,
  CurrentOutcomeDivisionDropped1700000004200,
  IdentityLinks1700000010100,
  CoverageStatistics1700000010200,
];

/**
 * 信息比对: department records in (ingestion), merged per person and compared by named rules
 * (projection, rules), shown and explained (views), exchanged with the higher registry (exchange).
 */
@Module({})
export class ComparisonModule {
  static register(config: ServiceConfig, kafka: KafkaSettings): DynamicModule {
    return {
      module: ComparisonModule,
      imports: [ServiceKitModule.forService({ name: 'comparison', config, kafka, migrations: COMPARISON_MIGRATIONS }), IngestionModule, ViewsModule, ExchangeModule, StatisticsModule],
      controllers: [ComparisonProjection],
      providers: [OutcomeRepository, PersonLinkRepository, IdentityLinks, CoverageRepository, CoverageRecorder],
    };
  }
}
