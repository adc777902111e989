import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { KafkaSettings } from '@qmcb/event-log';
import { ServiceKitModule } from '@qmcb/service-kit';
import type { ServiceConfig } from '@qmcb/service-kit';
import { ExchangeController } from './exchange/exchange.controller';
import { ExchangeService } from './exchange/exchange.service';
import { FlagsController } from './flags/flags.controller';
import { FlagsService } from './flags/flags.service';
import { PeopleGauges } from './flags/people-gauges';
import { LoadsController } from './ingestion/bulk/loads.controller';
import { LoadsService } from './ingestion/bulk/loads.service';
import { IdempotencyStore } from './ingestion/idempotency';
import { IngestionService } from './ingestion/ingestion.service';
import { RecordsController } from './ingestion/records.controller';
import { ComparisonTables1700000001000 } from './migrations/1700000001000-comparison-tables';
import { BulkLoadTables1700000001500 } from './migrations/1700000001500-bulk-load-tables';
import { FlagListIndexes1700000004100 } from './migrations/1700000004100-flag-list-indexes';
import { PersonsController } from './persons/persons.controller';
import { ComparisonHandler } from './projection/comparison.handler';

/** 信息比对: ingest department records, merge them per person, decide and explain outcomes. */
@Module({})
export class ComparisonModule {
  static register(config: ServiceConfig, kafka: KafkaSettings): DynamicModule {
    return {
      module: ComparisonModule,
      imports: [
        ServiceKitModule.forService({ name: 'comparison', config, kafka, migrations: [ComparisonTables1700000001000, BulkLoadTables1700000001500, FlagListIndexes1700000004100], handler: ComparisonHandler }),
      ],
      controllers: [RecordsController, LoadsController, PersonsController, FlagsController, ExchangeController],
      providers: [IngestionService, IdempotencyStore, LoadsService, FlagsService, PeopleGauges, ExchangeService],
    };
  }
}
