import { Module } from '@nestjs/common';
import { LoadsController } from './bulk/loads.controller';
import { LoadsService } from './bulk/loads.service';
import { IdempotencyStore } from './idempotency';
import { IngestionService } from './ingestion.service';
import { RecordsController } from './records.controller';

/** Department records into the log: JSON batches (`POST /records`) and streamed files (`POST /loads`), one admission check. */
@Module({
  controllers: [RecordsController, LoadsController],
  providers: [IngestionService, IdempotencyStore, LoadsService],
})
export class IngestionModule {}
