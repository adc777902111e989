import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { UuidPipe } from '@qmcb/platform';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, NoPersonalData, PersonalData, Roles } from '@qmcb/auth';
import type { Disclosure, PersonalDataPolicy, Principal } from '@qmcb/auth';
import type { QueueFigures } from '../items/review-item.repository';
import { ApproveDto, BulkApproveDto, CloseDto, FinalApproveDto, ListReviewsQuery, QueueFiguresQuery, RebaseDto, RejectDto, ReturnDto } from './reviews.dto';
import { ReviewsService } from './reviews.service';
import type { BulkResult, DecisionResult, ItemView, ReviewItemView } from './reviews.service';

const REVIEWERS = ['grassroots-reviewer', 'county-approver'] as const;
/** Reviewers stating they review see the changes whole; an admin sees them masked. */
const REVIEWING: Disclosure = { roles: REVIEWERS, purposes: ['review'] };
/** A decision on one item: four eyes (nobody decides on what they submitted, or gives both reviews). */
const DECISION: PersonalDataPolicy = { access: 'write', purposes: ['review'], fourEyes: true };

@ApiTags('reviews')
@Controller('reviews')
export class ReviewsController {
  constructor(private readonly reviews: ReviewsService) {}

  @Get()
  @Roles(...REVIEWERS, 'admin')
  @PersonalData({ access: 'list', purposes: ['review', 'operations-support'], unmasked: [REVIEWING] })
  @ApiOperation({
    summary: "The review queue in the caller's division: filtered by stage, status, channel, reason and waiting time, sorted, paginated",
    description: 'Oldest first unless sort=-submittedAt. Every listed person is an audited read.',
  })
  list(@CurrentPrincipal() principal: Principal, @Query() q: ListReviewsQuery): Promise<{ total: number; items: ReviewItemView[] }> {
    return this.reviews.list(principal, q);
  }

  @Get('queues')
  @Roles(...REVIEWERS, 'operations', 'admin')
  @NoPersonalData()
  @ApiOperation({ summary: 'Waiting figures per stage in a division: pending, overdue (region policy reviewDueDays), oldest, average wait' })
  queues(@CurrentPrincipal() principal: Principal, @Query() q: QueueFiguresQuery): Promise<{ division: string; dueDays: number; stages: QueueFigures[] }> {
    return this.reviews.figures(principal, q.division);
  }

  @Get(':reviewId')
  @Roles(...REVIEWERS, 'admin')
  @PersonalData({ access: 'read', purposes: ['review', 'operations-support'], unmasked: [REVIEWING] })
  @ApiOperation({ summary: 'One item: the change beside the current record, field by field, with evidence, submitter, staleness and conflicting items' })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such item, or outside the caller's division (the same answer)" })
  get(@CurrentPrincipal() principal: Principal, @Param('reviewId', UuidPipe) reviewId: string): Promise<ItemView> {
    return this.reviews.view(principal, reviewId);
  }

  @Post('bulk-approval')
  @HttpCode(200)
  @Roles(...REVIEWERS)
  // Four eyes item by item: an item of one's own is refused in its result, the others approved.
  @PersonalData({ access: 'write', purposes: ['review'] })
  @ApiOperation({ summary: 'Approve up to 500 items of one stage at once; each is decided on its own, with a result per item' })
  bulk(@CurrentPrincipal() principal: Principal, @Body() body: BulkApproveDto): Promise<BulkResult> {
    return this.reviews.bulkApprove(principal, body.stage, body.items, body.comment ?? '');
  }

  @Post(':reviewId/initial-approval')
  @Roles('grassroots-reviewer')
  @PersonalData(DECISION)
  @ApiOperation({ summary: 'Initial review (初审) passes the change on to the county' })
  @ApiConflictResponse({ description: 'CONFLICT: another version, another stage, not pending, or stale' })
  approveInitial(@CurrentPrincipal() principal: Principal, @Param('reviewId', UuidPipe) reviewId: string, @Body() body: ApproveDto): Promise<DecisionResult> {
    return this.reviews.decide(principal, reviewId, { kind: 'initial-approval', expectedVersion: body.expectedVersion, comment: body.comment ?? '' });
  }

  @Post(':reviewId/final-approval')
  @Roles('county-approver')
  @PersonalData(DECISION)
  @ApiOperation({ summary: 'Final approval (审定): the change enters the registry' })
  @ApiConflictResponse({ description: 'CONFLICT: another version, another stage, not pending, or stale' })
  approveFinal(@CurrentPrincipal() principal: Principal, @Param('reviewId', UuidPipe) reviewId: string, @Body() body: FinalApproveDto): Promise<DecisionResult> {
    return this.reviews.decide(principal, reviewId, { kind: 'final-approval', expectedVersion: body.expectedVersion });
  }

  @Post(':reviewId/return')
  @Roles(...REVIEWERS)
  @PersonalData(DECISION)
  @ApiOperation({ summary: 'Return the change to its submitter for correction, naming the fields to fix' })
  giveBack(@CurrentPrincipal() principal: Principal, @Param('reviewId', UuidPipe) reviewId: string, @Body() body: ReturnDto): Promise<DecisionResult> {
    return this.reviews.decide(principal, reviewId, { kind: 'return', expectedVersion: body.expectedVersion, reason: body.reason, fieldsToFix: body.fieldsToFix ?? [] });
  }

  @Post(':reviewId/reject')
  @Roles(...REVIEWERS)
  @PersonalData(DECISION)
  @ApiOperation({ summary: 'Reject the change with a coded reason and a text: it does not enter the registry' })
  reject(@CurrentPrincipal() principal: Principal, @Param('reviewId', UuidPipe) reviewId: string, @Body() body: RejectDto): Promise<DecisionResult> {
    return this.reviews.decide(principal, reviewId, { kind: 'reject', expectedVersion: body.expectedVersion, reasonCode: body.reasonCode, reason: body.reason });
  }

  @Post(':reviewId/close')
  @Roles(...REVIEWERS)
  @PersonalData(DECISION)
  @ApiOperation({ summary: 'Close the item without a decision: a duplicate of another, or withdrawn' })
  close(@CurrentPrincipal() principal: Principal, @Param('reviewId', UuidPipe) reviewId: string, @Body() body: CloseDto): Promise<DecisionResult> {
    return this.reviews.decide(principal, reviewId, { kind: 'close', expectedVersion: body.expectedVersion, closeReason: body.closeReason, reason: body.reason });
  }

  @Post(':reviewId/rebase')
  @Roles(...REVIEWERS)
  @PersonalData(DECISION)
  @ApiOperation({ summary: 'A stale item checked against the record as it is now: it is based on it from now on and can be approved' })
  rebase(@CurrentPrincipal() principal: Principal, @Param('reviewId', UuidPipe) reviewId: string, @Body() body: RebaseDto): Promise<DecisionResult> {
    return this.reviews.decide(principal, reviewId, { kind: 'rebase', expectedVersion: body.expectedVersion });
  }
}
