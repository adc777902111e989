import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConflictResponse, ApiHeader, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonalData, SystemCallers, actorOf, departmentOf } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { RouteLimits } from '@qmcb/platform';
import { BatchAcceptedDto, MAX_BATCH_BYTES, RecordBatchDto } from './record-batch.dto';
import { IdempotencyStore, fingerprintOf } from './idempotency';
import { IngestionService } from './ingestion.service';

@ApiTags('ingestion')
@ApiSecurity('api-key')
@Controller('records')
export class RecordsController {
  constructor(
    private readonly ingestion: IngestionService,
    private readonly idempotency: IdempotencyStore,
  ) {}

  @Post()
  @HttpCode(202)
  @SystemCallers()
  @PersonalData({ access: 'write', purposes: ['data-submission'] })
  @RouteLimits({ bodyLimitBytes: MAX_BATCH_BYTES, rate: 'bulk', timeoutMs: 120_000 })
  @ApiOperation({
    summary: 'A department posts a batch of its person records (snapshot or change)',
    description:
      'All-or-nothing: a batch with any invalid record is refused with 400 naming every offending field, and nothing of it is appended. ' +
      'At most 5,000 records and 16 MiB of JSON (413 beyond). ' +
      'A 202 means every record is durable on the log. Re-sending the same records yields the same event IDs and changes nothing. ' +
      'With an Idempotency-Key, a repeat of the request (same department, key and body) within 24 hours gets the first answer back.',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Any 1-255 visible ASCII characters, unique per logical request of the department' })
  @ApiAcceptedResponse({ type: BatchAcceptedDto })
  @ApiConflictResponse({ description: 'CONFLICT: the Idempotency-Key was used with another body, or its first request is still running' })
  async post(
    @CurrentPrincipal() principal: Principal,
    @Body() body: RecordBatchDto,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<BatchAcceptedDto> {
    const department = departmentOf(principal);
    const ingest = (): Promise<BatchAcceptedDto> => this.ingestion.ingest(department, actorOf(principal), body.records);
    if (idempotencyKey === undefined) return ingest();
    return this.idempotency.run(`records:${department}`, idempotencyKey, fingerprintOf(body.records), ingest);
  }
}
