import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { PersonReader } from '@qmcb/service-kit';
import { ReviewsService } from '../reviews/reviews.service';

@ApiTags('persons')
@ApiBearerAuth()
@Controller('persons')
export class PersonsController {
  constructor(private readonly reader: PersonReader, private readonly reviews: ReviewsService) {}

  @Get(':personKey')
  @Roles('grassroots-reviewer', 'county-approver', 'window-clerk', 'analyst', 'admin')
  @ApiOperation({ summary: "Review's view of one person: the record and every review of their submissions" })
  async get(@CurrentPrincipal() principal: Principal, @Param('personKey') personKey: string): Promise<object> {
    const record = await this.reader.read(principal, personKey, 'review:view');
    return { record, reviews: await this.reviews.forPerson(record.personKey) };
  }
}
