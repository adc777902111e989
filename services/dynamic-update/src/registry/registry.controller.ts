import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { PersonReader } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';

@ApiTags('registry')
@ApiBearerAuth()
@Controller('persons')
export class RegistryController {
  constructor(private readonly reader: PersonReader, private readonly dataSource: DataSource) {}

  @Get(':personKey')
  @Roles('window-clerk', 'grassroots-reviewer', 'county-approver', 'analyst', 'admin')
  @ApiOperation({ summary: "The registry's record of one person (登记库), with its change history" })
  async get(@CurrentPrincipal() principal: Principal, @Param('personKey') personKey: string): Promise<object> {
    const record = await this.reader.read(principal, personKey, 'registry:view');
    const history: object[] = await this.dataSource.query(
      `SELECT version, event_id AS "eventId", type, source, actor, occurred_at AS "occurredAt"
         FROM record_history WHERE person_key = $1 ORDER BY version`,
      [record.personKey],
    );
    return { record, history };
  }
}
