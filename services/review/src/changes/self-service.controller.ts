import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { UuidPipe } from '@qmcb/platform';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonalData, Roles } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import type { ReviewItem } from '../items/review-item.decider';

/** The citizen's own data, shown to them whole. */
const OWN = { roles: ['citizen'], purposes: ['self-service'] } as const;
import { ReviewsService } from '../reviews/reviews.service';
import type { DecisionResult } from '../reviews/reviews.service';
import { ChangeBodyDto, WithdrawDto } from './changes.dto';
import { ChangesService } from './changes.service';
import type { Gaps, Submitted } from './changes.service';

/**
 * Self-service (procedure §14, §23): a citizen signed in as themselves (role `citizen`, their citizen
 * ID in the token) sees their own record and its gaps and submits corrections with evidence. There is
 * no parameter naming a person: every route serves the token's own record only.
 */
@ApiTags('self-service')
@Controller('me')
export class SelfServiceController {
  constructor(
    private readonly changes: ChangesService,
    private readonly reviews: ReviewsService,
  ) {}

  @Get()
  @Roles('citizen')
  @PersonalData({ access: 'read', purposes: ['self-service'] })
  @ApiOperation({ summary: 'My registration record (§7 items) and what is missing or inaccurate in it' })
  async me(@CurrentPrincipal() principal: Principal): Promise<{ record: object } & Gaps> {
    const record = await this.changes.ownRecord(principal);
    const gaps = await this.changes.gaps(record);
    return { record: this.changes.ownView(record), ...gaps };
  }

  @Post('corrections')
  @HttpCode(201)
  @Roles('citizen')
  @PersonalData({ access: 'write', purposes: ['self-service'] })
  @ApiOperation({ summary: 'Correct my record, with evidence; it enters the registry after review' })
  async correct(@CurrentPrincipal() principal: Principal, @Body() body: ChangeBodyDto): Promise<Submitted> {
    return this.changes.submit(principal, 'self-service', await this.changes.ownRecord(principal), body);
  }

  @Get('requests')
  @Roles('citizen')
  @PersonalData({ access: 'list', purposes: ['self-service'], unmasked: [OWN] })
  @ApiOperation({ summary: 'My corrections and where they stand' })
  requests(@CurrentPrincipal() principal: Principal): Promise<(Omit<ReviewItem, 'personKey'> & { personId: string })[]> {
    return this.changes.ownRequests(principal);
  }

  @Post('requests/:reviewId/withdraw')
  @HttpCode(200)
  @Roles('citizen')
  @PersonalData({ access: 'write', purposes: ['self-service'] })
  @ApiOperation({ summary: 'Withdraw a correction of mine still in review' })
  withdraw(@CurrentPrincipal() principal: Principal, @Param('reviewId', UuidPipe) reviewId: string, @Body() body: WithdrawDto): Promise<DecisionResult> {
    return this.reviews.decide(principal, reviewId, { kind: 'close', expectedVersion: body.expectedVersion, closeReason: 'withdrawn', reason: 'withdrawn by the citizen' });
  }
}
