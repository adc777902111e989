import { Controller, Get, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, NoPersonalData, PersonalData, Roles } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { FlagListDto, FlagSummaryDto, FlagSummaryQuery, ListFlagsQuery } from './flags.dto';
import { FlagsService } from './flags.service';

@ApiTags('flags')
@Controller('flags')
export class FlagsController {
  constructor(private readonly flags: FlagsService) {}

  @Get()
  @Roles('grassroots-reviewer', 'county-approver', 'analyst', 'operations', 'admin')
  @PersonalData({
    access: 'list',
    purposes: ['comparison-check', 'survey', 'statistics', 'operations-support'],
    unmasked: [{ roles: ['grassroots-reviewer', 'county-approver'], purposes: ['comparison-check', 'survey'] }],
  })
  @ApiOperation({
    summary: "People by current outcome and reason code in the caller's division (or a division within it), paginated",
    description:
      "Ordered by division, then person key. Audited (everyone listed, with the stated purpose). Names are masked unless a grassroots reviewer or county approver states comparison-check or survey. A division outside the caller's: 404.",
  })
  @ApiOkResponse({ type: FlagListDto })
  @ApiNotFoundResponse({ description: "NOT_FOUND: the division is outside the caller's" })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListFlagsQuery): Promise<FlagListDto> {
    return this.flags.list(principal, query);
  }

  @Get('summary')
  @Roles('grassroots-reviewer', 'county-approver', 'analyst', 'operations', 'admin')
  @NoPersonalData()
  @ApiOperation({ summary: 'Counts of people by current outcome and by reason code in a division (dashboards)' })
  @ApiOkResponse({ type: FlagSummaryDto })
  @ApiNotFoundResponse({ description: "NOT_FOUND: the division is outside the caller's" })
  summary(@CurrentPrincipal() principal: Principal, @Query() query: FlagSummaryQuery): Promise<FlagSummaryDto> {
    return this.flags.summary(principal, query.division);
  }
}
