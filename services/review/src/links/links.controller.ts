import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonalData, Roles } from '@qmcb/auth';
import type { Disclosure, PersonalDataPolicy, Principal } from '@qmcb/auth';
import { PageLimit, PageOffset, UuidPipe } from '@qmcb/platform';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { LINK_REVIEW_STAGES, LINK_REVIEW_STATUSES } from './link-review.decider';
import type { LinkReviewStage, LinkReviewStatus } from './link-review.decider';
import { LinksService } from './links.service';
import type { LinkDecisionResult, LinkReviewView, LinkView } from './links.service';

export class ListLinksQuery {
  @ApiPropertyOptional({ enum: LINK_REVIEW_STAGES })
  @IsOptional() @IsIn(LINK_REVIEW_STAGES)
  stage?: LinkReviewStage;

  @ApiPropertyOptional({ enum: LINK_REVIEW_STATUSES })
  @IsOptional() @IsIn(LINK_REVIEW_STATUSES)
  status?: LinkReviewStatus;

  @ApiPropertyOptional({ description: 'Division code within the caller’s own' })
  @IsOptional() @Matches(/^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/, { message: 'division must be a 2, 4, 6, 9 or 12-digit division code' })
  division?: string;

  @PageLimit()
  limit = 50;

  @PageOffset()
  offset = 0;
}

class LinkVersionedDto {
  @ApiProperty({ description: 'The link version the reviewer saw; another one means someone else acted first (409)' })
  @IsInt() @Min(1) @Max(1_000_000)
  expectedVersion: number;
}

export class ApproveLinkDto extends LinkVersionedDto {
  @ApiPropertyOptional({ description: 'Reviewer comment (how the identity was checked)', maxLength: 512 })
  @IsOptional() @IsString() @Length(0, 512)
  comment?: string;
}

export class RejectLinkDto extends LinkVersionedDto {
  @ApiProperty({ description: 'Why the records are not this person’s', minLength: 1, maxLength: 512 })
  @IsString() @Length(1, 512)
  reason: string;
}

const REVIEWERS = ['grassroots-reviewer', 'county-approver'] as const;
/** Reviewers stating they review see both sides whole; an admin sees them masked. */
const REVIEWING: Disclosure = { roles: REVIEWERS, purposes: ['review'] };
/** A decision on a link: the final approval is someone else's than the initial review (four eyes). */
const DECISION: PersonalDataPolicy = { access: 'write', purposes: ['review'], fourEyes: true };

/**
 * Identity links to review (issue 10): records sent under a mistyped citizen ID that comparison
 * proposes as a person's. The township's initial review passes a link on, the county's final
 * approval confirms it (`review.link-confirmed`); either may reject it (`review.link-rejected`).
 */
@ApiTags('links')
@Controller('links')
export class LinksController {
  constructor(private readonly links: LinksService) {}

  @Get()
  @Roles(...REVIEWERS, 'admin')
  @PersonalData({ access: 'list', purposes: ['review', 'operations-support'], unmasked: [REVIEWING] })
  @ApiOperation({ summary: "Proposed identity links in the caller's division, by stage and status, oldest first (audited: both sides of every link listed)" })
  list(@CurrentPrincipal() principal: Principal, @Query() q: ListLinksQuery): Promise<{ total: number; limit: number; offset: number; items: LinkReviewView[] }> {
    return this.links.list(principal, q);
  }

  @Get(':linkId')
  @Roles(...REVIEWERS, 'admin')
  @PersonalData({ access: 'read', purposes: ['review', 'operations-support'], unmasked: [REVIEWING] })
  @ApiOperation({ summary: 'One link: the scoring, and what the person and the records under the mistyped ID each say of the identity, with the insurance the records hold' })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such link, or outside the caller's division (the same answer)" })
  get(@CurrentPrincipal() principal: Principal, @Param('linkId', UuidPipe) linkId: string): Promise<LinkView> {
    return this.links.view(principal, linkId);
  }

  @Post(':linkId/initial-approval')
  @Roles('grassroots-reviewer')
  @PersonalData(DECISION)
  @ApiOperation({ summary: 'Initial review (初审): the records are this person’s; the link goes on to the county (review.link-initial-approved)' })
  @ApiConflictResponse({ description: 'CONFLICT: another version, another stage, or not pending' })
  approveInitial(@CurrentPrincipal() principal: Principal, @Param('linkId', UuidPipe) linkId: string, @Body() body: ApproveLinkDto): Promise<LinkDecisionResult> {
    return this.links.decide(principal, linkId, { kind: 'initial-approval', expectedVersion: body.expectedVersion, comment: body.comment ?? '' });
  }

  @Post(':linkId/final-approval')
  @Roles('county-approver')
  @PersonalData(DECISION)
  @ApiOperation({ summary: 'Final approval (审定): the link is confirmed (review.link-confirmed); comparison compares both sides again' })
  @ApiConflictResponse({ description: 'CONFLICT: another version, another stage, or not pending' })
  approveFinal(@CurrentPrincipal() principal: Principal, @Param('linkId', UuidPipe) linkId: string, @Body() body: ApproveLinkDto): Promise<LinkDecisionResult> {
    return this.links.decide(principal, linkId, { kind: 'final-approval', expectedVersion: body.expectedVersion, comment: body.comment ?? '' });
  }

  @Post(':linkId/reject')
  @Roles(...REVIEWERS)
  @PersonalData(DECISION)
  @ApiOperation({ summary: 'Reject the link at the reviewer’s stage (review.link-rejected): the records are compared on their own again, and never proposed to this person again' })
  @ApiConflictResponse({ description: 'CONFLICT: another version, another stage, or not pending' })
  reject(@CurrentPrincipal() principal: Principal, @Param('linkId', UuidPipe) linkId: string, @Body() body: RejectLinkDto): Promise<LinkDecisionResult> {
    return this.links.decide(principal, linkId, { kind: 'reject', expectedVersion: body.expectedVersion, reason: body.reason });
  }
}
