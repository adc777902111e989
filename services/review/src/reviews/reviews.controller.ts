import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonalData, Roles } from '@qmcb/auth';
import type { Disclosure, PersonalDataPolicy, Principal } from '@qmcb/auth';
import { ApproveDto, ListReviewsQuery, ReturnDto } from './reviews.dto';
import { ReviewsService } from './reviews.service';
import type { DecisionResult, ReviewItemView } from './reviews.service';
import type { ItemStage, ItemStatus } from '../items/review-item.decider';

/** Reviewers see the collected forms whole; operations sees them masked. */
const REVIEWERS: Disclosure = { roles: ['grassroots-reviewer', 'county-approver'], purposes: ['review'] };
/** A decision on an item: four eyes (nobody decides on what they submitted, or gives both reviews). */
const DECISION: PersonalDataPolicy = { access: 'write', purposes: ['review'], fourEyes: true };

@ApiTags('reviews')
@ApiBearerAuth()
@Controller('reviews')
export class ReviewsController {
  constructor(private readonly reviews: ReviewsService) {}

  @Get()
  @Roles('grassroots-reviewer', 'county-approver', 'operations', 'admin')
  @PersonalData({ access: 'list', purposes: ['review', 'operations-support'], unmasked: [REVIEWERS] })
  @ApiOperation({ summary: "Review queue in the caller's division, paginated; audited" })
  list(@CurrentPrincipal() principal: Principal, @Query() q: ListReviewsQuery): Promise<{ total: number; items: ReviewItemView[] }> {
    return this.reviews.list(principal, { ...q, stage: q.stage as ItemStage | undefined, status: q.status as ItemStatus | undefined });
  }

  @Get(':reviewId')
  @Roles('grassroots-reviewer', 'county-approver', 'operations', 'admin')
  @PersonalData({ access: 'read', purposes: ['review', 'operations-support'], unmasked: [REVIEWERS] })
  @ApiOperation({ summary: 'One review item; audited' })
  get(@CurrentPrincipal() principal: Principal, @Param('reviewId', ParseUUIDPipe) reviewId: string): Promise<ReviewItemView> {
    return this.reviews.get(principal, reviewId);
  }

  @Post(':reviewId/initial-approval')
  @Roles('grassroots-reviewer')
  @PersonalData(DECISION)
  @ApiOperation({ summary: 'Grassroots platform initial review passes the submission on to the county (初审)' })
  approveInitial(@CurrentPrincipal() principal: Principal, @Param('reviewId', ParseUUIDPipe) reviewId: string, @Body() body: ApproveDto): Promise<DecisionResult> {
    return this.reviews.decide(principal, reviewId, { kind: 'initial-approval', expectedVersion: body.expectedVersion, comment: body.comment ?? '' });
  }

  @Post(':reviewId/final-approval')
  @Roles('county-approver')
  @PersonalData(DECISION)
  @ApiOperation({ summary: 'County final approval: the collected information enters the registry (审定)' })
  approveFinal(@CurrentPrincipal() principal: Principal, @Param('reviewId', ParseUUIDPipe) reviewId: string, @Body() body: ApproveDto): Promise<DecisionResult> {
    return this.reviews.decide(principal, reviewId, { kind: 'final-approval', expectedVersion: body.expectedVersion });
  }

  @Post(':reviewId/return')
  @Roles('grassroots-reviewer', 'county-approver')
  @PersonalData(DECISION)
  @ApiOperation({ summary: 'Return the submission to the surveyor with a reason' })
  returnToSurveyor(@CurrentPrincipal() principal: Principal, @Param('reviewId', ParseUUIDPipe) reviewId: string, @Body() body: ReturnDto): Promise<DecisionResult> {
    return this.reviews.decide(principal, reviewId, { kind: 'return', expectedVersion: body.expectedVersion, reason: body.reason });
  }
}
