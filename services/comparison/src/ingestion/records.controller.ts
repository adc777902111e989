import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, SystemCallers } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { DomainError } from '@qmcb/platform';
import { BatchAcceptedDto, RecordBatchDto } from './record-batch.dto';
import { DepartmentMismatchError, IngestionService } from './ingestion.service';

@ApiTags('ingestion')
@ApiSecurity('api-key')
@Controller('records')
export class RecordsController {
  constructor(private readonly ingestion: IngestionService) {}

  @Post()
  @HttpCode(202)
  @SystemCallers()
  @ApiOperation({
    summary: 'A department posts a batch of its person records (snapshot or change)',
    description:
      'All-or-nothing: a batch with any invalid record is refused with 400 naming every offending field, and nothing of it is appended. ' +
      'A 202 means every record is durable on the log. Re-sending the same records yields the same event IDs and changes nothing.',
  })
  @ApiAcceptedResponse({ type: BatchAcceptedDto })
  async post(@CurrentPrincipal() principal: Principal, @Body() body: RecordBatchDto): Promise<BatchAcceptedDto> {
    if (principal.kind !== 'system') throw new DomainError('FORBIDDEN', 'only department systems post records');
    try {
      return await this.ingestion.ingest(principal.department, `key:${principal.keyId}`, body.records);
    } catch (e) {
      if (e instanceof DepartmentMismatchError) {
        throw new DomainError('FORBIDDEN', e.message);
      }
      throw e;
    }
  }
}
