import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { ApproveDto, ListReviewsQuery, ReturnDto } from './reviews.dto';
import { ReviewsService } from './reviews.service';
import type { DecisionResult } from './reviews.service';
import type { ItemStage, ItemStatus, ReviewItem } from '../items/review-item.decider';

@ApiTags('reviews')
@ApiBearerAuth()
@Controller('reviews')
export class ReviewsController {
  constructor(private readonly reviews: ReviewsService) {}

  @Get()
  @Roles('grassroots-reviewer', 'county-approver', 'operations', 'admin')
  @ApiOperation({ summary: "Review queue in the caller's division, paginated" })
  list(@CurrentPrincipal() principal: Principal, @Query() q: ListReviewsQuery): Promise<{ total: number; items: ReviewItem[] }> {
    return this.reviews.list(principal, { ...q, stage: q.stage as ItemStage | undefined, status: q.status as ItemStatus | undefined });
  }

  @Get(':reviewId')
  @Roles('grassroots-reviewer', 'county-approver', 'operations', 'admin')
  get(@CurrentPrincipal() principal: Principal, @Param('reviewId', ParseUUIDPipe) reviewId: string): Promise<ReviewItem> {
    return this.reviews.get(principal, reviewId);
  }

  @Post(':reviewId/initial-approval')
  @Roles('grassroots-reviewer')
  @ApiOperation({ summary: 'Grassroots platform initial review passes the submission on to the county (初审)' })
  approveInitial(@CurrentPrincipal() principal: Principal, @Param('reviewId', ParseUUIDPipe) reviewId: string, @Body() body: ApproveDto): Promise<DecisionResult> {
    return this.reviews.decide(principal, reviewId, { kind: 'initial-approval', expectedVersion: body.expectedVersion, comment: body.comment ?? '' });
  }

  @Post(':reviewId/final-approval')
  @Roles('county-approver')
  @ApiOperation({ summary: 'County final approval: the collected information enters the registry (审定)' })
  approveFinal(@CurrentPrincipal() principal: Principal, @Param('reviewId', ParseUUIDPipe) reviewId: string, @Body() body: ApproveDto): Promise<DecisionResult> {
    return this.reviews.decide(principal, reviewId, { kind: 'final-approval', expectedVersion: body.expectedVersion });
  }

  @Post(':reviewId/return')
  @Roles('grassroots-reviewer', 'county-approver')
  @ApiOperation({ summary: 'Return the submission to the surveyor with a reason' })
  returnToSurveyor(@CurrentPrincipal() principal: Principal, @Param('reviewId', ParseUUIDPipe) reviewId: string, @Body() body: ReturnDto): Promise<DecisionResult> {
    return this.reviews.decide(principal, reviewId, { kind: 'return', expectedVersion: body.expectedVersion, reason: body.reason });
  }
}
