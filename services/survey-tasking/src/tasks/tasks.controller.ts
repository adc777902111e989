import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import type { AssignmentRow } from '../assignments/assignment.repository';
import { FeedQuery, FoundPersonDto, ListTasksQuery, SubmissionDto, VisitDto } from './tasks.dto';
import { TasksService } from './tasks.service';
import type { FeedPage, FoundResult, SubmissionResult, TaskDetail, VisitResult } from './tasks.service';
import type { TaskView } from './task-view';

const SUPERVISORS = ['grassroots-reviewer', 'county-approver', 'operations', 'admin'] as const;
const NOT_YOURS = 'NOT_FOUND: no such target, outside your division, or (for a surveyor) not assigned to you: the same answer';

@ApiTags('survey tasks')
@Controller('tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Get()
  @Roles('surveyor', ...SUPERVISORS)
  @ApiOperation({ summary: "Survey targets in the caller's division (a surveyor: only their own), paginated; every listed person is an audited read" })
  list(@CurrentPrincipal() principal: Principal, @Query() q: ListTasksQuery): Promise<{ total: number; items: TaskView[] }> {
    return this.tasks.list(principal, q);
  }

  @Get(':taskId')
  @Roles('surveyor', ...SUPERVISORS)
  @ApiOperation({ summary: 'One target: the person as the surveyor needs them at the door, why in plain words, the household and its members, the follow-up, who was responsible when' })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  get(@CurrentPrincipal() principal: Principal, @Param('taskId', ParseUUIDPipe) taskId: string): Promise<TaskDetail> {
    return this.tasks.get(principal, taskId);
  }

  @Get(':taskId/assignments')
  @Roles('surveyor', ...SUPERVISORS)
  @ApiOperation({ summary: 'Who was responsible for the target, from when to when (reassignment keeps the history)' })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  assignments(@CurrentPrincipal() principal: Principal, @Param('taskId', ParseUUIDPipe) taskId: string): Promise<AssignmentRow[]> {
    return this.tasks.assignmentHistory(principal, taskId);
  }

  @Post(':taskId/visits')
  @HttpCode(201)
  @Roles('surveyor')
  @ApiOperation({ summary: 'Record a visit without a form: refused, nobody-home, away, moved-out, deceased (a death claim for review), not-found. Retry-safe by visitId' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: what the outcome needs is missing (violations name each field)' })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  @ApiConflictResponse({ description: 'CONFLICT: the target is in review or closed out, or visitId was used for another upload' })
  visit(@CurrentPrincipal() principal: Principal, @Param('taskId', ParseUUIDPipe) taskId: string, @Body() body: VisitDto): Promise<VisitResult> {
    return this.tasks.recordVisit(principal, taskId, body);
  }

  @Post(':taskId/submissions')
  @HttpCode(201)
  @Roles('surveyor')
  @ApiOperation({ summary: 'Submit the registration form (全民参保登记表) of a visit, with the household as found. Retry-safe by submissionId' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: the form is incomplete (三不漏); violations list every missing or wrong item and every member not accounted for' })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  @ApiConflictResponse({ description: 'CONFLICT: the target is in review or closed out, or submissionId was used for another upload' })
  submit(@CurrentPrincipal() principal: Principal, @Param('taskId', ParseUUIDPipe) taskId: string, @Body() body: SubmissionDto): Promise<SubmissionResult> {
    return this.tasks.submit(principal, taskId, body);
  }

  @Post(':taskId/found-persons')
  @HttpCode(201)
  @Roles('surveyor')
  @ApiOperation({ summary: 'Add someone met at this target’s household who was not on the list (§18), with their registration form: a target of their own, yours' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: their form is incomplete' })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  @ApiConflictResponse({ description: 'CONFLICT: they are already a member of the household or already a target' })
  found(@CurrentPrincipal() principal: Principal, @Param('taskId', ParseUUIDPipe) taskId: string, @Body() body: FoundPersonDto): Promise<FoundResult> {
    return this.tasks.found(principal, taskId, body);
  }
}

@ApiTags('survey tasks')
@Controller('my')
export class MyTargetsController {
  constructor(private readonly tasks: TasksService) {}

  @Get('targets')
  @Roles('surveyor')
  @ApiOperation({
    summary: "The surveyor's download for offline work: their targets (with households) written since the cursor, and those taken from them, a page at a time",
    description: 'Start without `since`; while `more` is true call again at once with `next`; keep the last `next` for the next download.',
  })
  feed(@CurrentPrincipal() principal: Principal, @Query() q: FeedQuery): Promise<FeedPage> {
    return this.tasks.feed(principal, q);
  }
}
