import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { TasksService } from '../tasks/tasks.service';

@ApiTags('persons')
@ApiBearerAuth()
@Controller('persons')
export class PersonsController {
  constructor(private readonly tasks: TasksService) {}

  @Get(':personKey')
  @Roles('surveyor', 'grassroots-reviewer', 'county-approver', 'window-clerk', 'analyst', 'admin')
  @ApiOperation({ summary: "Survey tasking's view of one person: the record and their survey tasks" })
  get(@CurrentPrincipal() principal: Principal, @Param('personKey') personKey: string): Promise<object> {
    return this.tasks.person(principal, personKey);
  }
}
