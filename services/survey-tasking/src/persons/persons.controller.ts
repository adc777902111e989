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
  @Roles('surveyor', 'grassroots-reviewer', 'county-approver', 'window-clerk', 'analyst', 'admin')
  @ApiOperation({ summary: "Survey tasking's view of one person: the record and their survey tasks" })
  async get(@CurrentPrincipal() principal: Principal, @Param('personKey') personKey: string): Promise<object> {
    const record = await this.reader.read(principal, personKey, 'survey:view');
    const tasks: object[] = await this.dataSource.query(
      `SELECT task_id AS "taskId", village_code AS "villageCode", status, reasons, submission_id AS "submissionId",
              return_reason AS "returnReason", created_at AS "createdAt", updated_at AS "updatedAt", version
         FROM survey_task WHERE person_key = $1 ORDER BY created_at, task_id`,
      [record.personKey],
    );
    return { record, tasks };
  }
}
