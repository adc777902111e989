import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { PersonIdPipe } from '@qmcb/platform';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonalData, Roles } from '@qmcb/auth';
import type { PersonalDataPolicy, Principal } from '@qmcb/auth';
import { PersonLookupDto } from '@qmcb/service-kit';
import { ReviewsService } from '../reviews/reviews.service';
import type { ReviewPerson } from '../reviews/reviews.service';

const READERS = ['grassroots-reviewer', 'county-approver', 'window-clerk', 'analyst', 'admin'] as const;
const VIEW: PersonalDataPolicy = { access: 'read', purposes: ['review', 'window-service', 'registry-maintenance', 'comparison-check'] };

@ApiTags('persons')
@ApiBearerAuth()
@Controller('persons')
export class PersonsController {
  constructor(private readonly reviews: ReviewsService) {}

  @Get(':personId')
  @Roles(...READERS)
  @PersonalData(VIEW)
  @ApiOperation({ summary: "Review's view of one person: the record and every review of their submissions, by person ID" })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such person, or outside the caller's division (the same answer)" })
  get(@CurrentPrincipal() principal: Principal, @Param('personId', PersonIdPipe) personId: string): Promise<ReviewPerson> {
    return this.reviews.person(principal, { personId });
  }

  @Post('lookup')
  @HttpCode(200)
  @Roles(...READERS)
  @PersonalData(VIEW)
  @ApiOperation({ summary: "Review's view of one person, by citizen ID in the body (never in a URL)" })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such person, or outside the caller's division (the same answer)" })
  lookup(@CurrentPrincipal() principal: Principal, @Body() body: PersonLookupDto): Promise<ReviewPerson> {
    return this.reviews.person(principal, { citizenId: body.citizenId });
  }
}
