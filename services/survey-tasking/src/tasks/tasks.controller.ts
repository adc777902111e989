import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonalData, Roles } from '@qmcb/auth';
import type { Disclosure, PersonalDataPolicy, Principal } from '@qmcb/auth';
import type { AssignmentRow } from '../assignments/assignment.repository';
import { FeedQuery, FoundPersonDto, ListTasksQuery, SubmissionDto, VisitDto } from './tasks.dto';
import { PersonIds, UuidPipe } from '@qmcb/platform';
import { TasksService } from './tasks.service';
import type { FeedPage, FoundResult, SubmissionResult, TaskDetail, VisitResult } from './tasks.service';
import { withPersonIds } from './task-view';
import type { Public, TaskView } from './task-view';

const SUPERVISORS = ['grassroots-reviewer', 'county-approver', 'operations', 'admin'] as const;
/** Who works the targets sees them whole (the surveyor at the door, the reviewers); operations and analysts see them masked. */
const WORKERS: Disclosure = { roles: ['surveyor', 'grassroots-reviewer', 'county-approver'], purposes: ['survey', 'review'] };
const READ_TARGETS: PersonalDataPolicy = { access: 'read', purposes: ['survey', 'review', 'operations-support'], unmasked: [WORKERS] };
const LIST_TARGETS: PersonalDataPolicy = { ...READ_TARGETS, access: 'list' };
const RECORD_VISIT: PersonalDataPolicy = { access: 'write', purposes: ['survey'] };
const NOT_YOURS = 'NOT_FOUND: no such target, outside your division, or (for a surveyor) not assigned to you: the same answer';

@ApiTags('survey tasks')
@Controller('tasks')
export class TasksController {
  constructor(
    private readonly tasks: TasksService,
    private readonly ids: PersonIds,
  ) {}

  @Get()
  @Roles('surveyor', ...SUPERVISORS)
  @PersonalData(LIST_TARGETS)
  @ApiOperation({ summary: "Survey targets in the caller's division (a surveyor: only their own), paginated; every listed person is an audited read" })
  async list(@CurrentPrincipal() principal: Principal, @Query() q: ListTasksQuery): Promise<Public<{ total: number; items: TaskView[] }>> {
    return withPersonIds(await this.tasks.list(principal, q), this.ids);
  }

  @Get(':taskId')
  @Roles('surveyor', ...SUPERVISORS)
  @PersonalData(READ_TARGETS)
  @ApiOperation({ summary: 'One target: the person as the surveyor needs them at the door, why in plain words, the household and its members, the follow-up, who was responsible when' })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  async get(@CurrentPrincipal() principal: Principal, @Param('taskId', UuidPipe) taskId: string): Promise<Public<TaskDetail>> {
    return withPersonIds(await this.tasks.get(principal, taskId), this.ids);
  }

  @Get(':taskId/assignments')
  @Roles('surveyor', ...SUPERVISORS)
  @PersonalData(READ_TARGETS)
  @ApiOperation({ summary: 'Who was responsible for the target, from when to when (reassignment keeps the history)' })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  async assignments(@CurrentPrincipal() principal: Principal, @Param('taskId', UuidPipe) taskId: string): Promise<Public<AssignmentRow[]>> {
    return withPersonIds(await this.tasks.assignmentHistory(principal, taskId), this.ids);
  }

  @Post(':taskId/visits')
  @HttpCode(201)
  @Roles('surveyor')
  @PersonalData(RECORD_VISIT)
  @ApiOperation({ summary: 'Record a visit without a form: refused, nobody-home, away, moved-out, deceased (a death claim for review), not-found. Retry-safe by visitId' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: what the outcome needs is missing (violations name each field)' })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  @ApiConflictResponse({ description: 'CONFLICT: the target is in review or closed out, or visitId was used for another upload' })
  async visit(@CurrentPrincipal() principal: Principal, @Param('taskId', UuidPipe) taskId: string, @Body() body: VisitDto): Promise<Public<VisitResult>> {
    return withPersonIds(await this.tasks.recordVisit(principal, taskId, body), this.ids);
  }

  @Post(':taskId/submissions')
  @HttpCode(201)
  @Roles('surveyor')
  @PersonalData(RECORD_VISIT)
  @ApiOperation({ summary: 'Submit the registration form (全民参保登记表) of a visit, with the household as found. Retry-safe by submissionId' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: the form is incomplete (三不漏); violations list every missing or wrong item and every member not accounted for' })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  @ApiConflictResponse({ description: 'CONFLICT: the target is in review or closed out, or submissionId was used for another upload' })
  async submit(@CurrentPrincipal() principal: Principal, @Param('taskId', UuidPipe) taskId: string, @Body() body: SubmissionDto): Promise<Public<SubmissionResult>> {
    return withPersonIds(await this.tasks.submit(principal, taskId, body), this.ids);
  }

  @Post(':taskId/found-persons')
  @HttpCode(201)
  @Roles('surveyor')
  @PersonalData(RECORD_VISIT)
  @ApiOperation({ summary: 'Add someone met at this target’s household who was not on the list (§18), with their registration form: a target of their own, yours' })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: their form is incomplete' })
  @ApiNotFoundResponse({ description: NOT_YOURS })
  @ApiConflictResponse({ description: 'CONFLICT: they are already a member of the household or already a target' })
  async found(@CurrentPrincipal() principal: Principal, @Param('taskId', UuidPipe) taskId: string, @Body() body: FoundPersonDto): Promise<Public<FoundResult>> {
    return withPersonIds(await this.tasks.found(principal, taskId, body), this.ids);
  }
}

@ApiTags('survey tasks')
@Controller('my')
export class MyTargetsController {
  constructor(
    private readonly tasks: TasksService,
    private readonly ids: PersonIds,
  ) {}

  @Get('targets')
  @Roles('surveyor')
  @PersonalData({ access: 'list', purposes: ['survey'], unmasked: [{ roles: ['surveyor'], purposes: ['survey'] }] })
  @ApiOperation({
    summary: "The surveyor's download for offline work: their targets (with households) written since the cursor, and those taken from them, a page at a time",
    description: 'Start without `since`; while `more` is true call again at once with `next`; keep the last `next` for the next download.',
  })
  async feed(@CurrentPrincipal() principal: Principal, @Query() q: FeedQuery): Promise<Public<FeedPage>> {
    return withPersonIds(await this.tasks.feed(principal, q), this.ids);
  }
}
