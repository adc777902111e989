import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { PersonReader } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';

@ApiTags('persons')
@ApiBearerAuth()
@Controller('persons')
export class PersonsController {
  constructor(private readonly reader: PersonReader, private readonly dataSource: DataSource) {}

  @Get(':personKey')
  @Roles('window-clerk', 'grassroots-reviewer', 'county-approver', 'analyst', 'admin')
  @ApiOperation({ summary: "Comparison's view of one person: the merged record, its current outcome and the history of outcomes" })
  async get(@CurrentPrincipal() principal: Principal, @Param('personKey') personKey: string): Promise<object> {
    const record = await this.reader.read(principal, personKey, 'comparison:view');
    const history: object[] = await this.dataSource.query(
      `SELECT event_id AS "eventId", outcome, previous_outcome AS "previousOutcome", reasons, based_on_version AS "basedOnVersion", decided_at AS "decidedAt"
         FROM outcome_history WHERE person_key = $1 ORDER BY decided_at, event_id`,
      [record.personKey],
    );
    return { record, outcomes: history };
  }
}
