import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonalData, Roles } from '@qmcb/auth';
import type { Disclosure, Principal } from '@qmcb/auth';
import { CollectedForm } from '@qmcb/contracts';
import { ListTasksQuery } from './tasks.dto';
import { TasksService } from './tasks.service';
import type { SubmissionResult, TaskView } from './tasks.service';
import type { TargetStatus } from '../targets/survey-target.decider';

/** Who works the targets sees them whole; operations sees them masked. */
const WORKERS: Disclosure = { roles: ['surveyor', 'grassroots-reviewer', 'county-approver'], purposes: ['survey', 'review'] };

@ApiTags('survey tasks')
@ApiBearerAuth()
@Controller('tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Get()
  @Roles('surveyor', 'grassroots-reviewer', 'county-approver', 'operations', 'admin')
  @PersonalData({ access: 'list', purposes: ['survey', 'review', 'operations-support'], unmasked: [WORKERS] })
  @ApiOperation({ summary: "Survey targets in the caller's division (or a sub-division of it), paginated; audited" })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListTasksQuery): Promise<{ total: number; items: TaskView[] }> {
    return this.tasks.list(principal, { division: query.division, status: query.status as TargetStatus | undefined, limit: query.limit, offset: query.offset });
  }

  @Get(':taskId')
  @Roles('surveyor', 'grassroots-reviewer', 'county-approver', 'operations', 'admin')
  @PersonalData({ access: 'read', purposes: ['survey', 'review', 'operations-support'], unmasked: [WORKERS] })
  @ApiOperation({ summary: 'One survey target; audited' })
  get(@CurrentPrincipal() principal: Principal, @Param('taskId', ParseUUIDPipe) taskId: string): Promise<TaskView> {
    return this.tasks.get(principal, taskId);
  }

  @Post(':taskId/submissions')
  @HttpCode(201)
  @Roles('surveyor')
  @PersonalData({ access: 'write', purposes: ['survey'] })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'A retry with the same key returns the first submission instead of a second one' })
  @ApiOperation({ summary: 'Submit the registration form (全民参保登记表) collected at the household' })
  submit(
    @CurrentPrincipal() principal: Principal,
    @Param('taskId', ParseUUIDPipe) taskId: string,
    @Body() form: CollectedForm,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<SubmissionResult> {
    return this.tasks.submit(principal, taskId, form, idempotencyKey);
  }
}
