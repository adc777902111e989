import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { ReviewsService } from '../reviews/reviews.service';

@ApiTags('persons')
@ApiBearerAuth()
@Controller('persons')
export class PersonsController {
  constructor(private readonly reviews: ReviewsService) {}

  @Get(':personKey')
  @Roles('grassroots-reviewer', 'county-approver', 'window-clerk', 'analyst', 'admin')
  @ApiOperation({ summary: "Review's view of one person: the record and every review of their submissions" })
  get(@CurrentPrincipal() principal: Principal, @Param('personKey') personKey: string): Promise<object> {
    return this.reviews.person(principal, personKey);
  }
}
