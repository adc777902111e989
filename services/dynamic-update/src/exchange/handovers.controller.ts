import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Departments, PersonalData, Roles } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { PERSON_ID_PATTERN, PageLimit } from '@qmcb/platform';
import { IsOptional, Matches } from 'class-validator';
import { HandoversService } from './handovers.service';
import type { Handover } from './handovers.service';

export class HandoverQueryDto {
  @ApiProperty({ description: 'The division people moved out of (within yours)', example: '440981' })
  @Matches(/^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/, { message: 'division must be a division code of 2, 4, 6, 9 or 12 digits' })
  division: string;

  @ApiPropertyOptional({ description: "The previous page's `next` (the person ID of its last item): never a citizen ID in a URL" })
  @IsOptional() @Matches(PERSON_ID_PATTERN, { message: "after must be the previous page's next (a person ID)" })
  after?: string;

  @PageLimit(100)
  limit?: number;
}

@ApiTags('exchange')
@Controller('exchange')
export class HandoversController {
  constructor(private readonly handovers: HandoversService) {}

  @Get('handovers')
  @Roles('county-approver', 'window-clerk', 'analyst', 'admin')
  @PersonalData({
    access: 'list',
    purposes: ['cross-region-exchange', 'registry-maintenance', 'window-service', 'statistics', 'operations-support'],
    unmasked: [{ roles: ['county-approver', 'window-clerk'], departments: ['higher-registry'], purposes: ['cross-region-exchange', 'registry-maintenance', 'window-service'] }],
  })
  @Departments('higher-registry')
  // As the non-local export (comparison): full values for the county and the higher registry exchanging them.
  @PersonalData({
    access: 'list',
    purposes: ['cross-region-exchange'],
    unmasked: [{ roles: ['county-approver'], departments: ['higher-registry'], purposes: ['cross-region-exchange'] }],
  })
  @ApiOperation({ summary: 'People whose household registration moved out of a division, with where to and the insurance they hold (audited)' })
  list(@CurrentPrincipal() principal: Principal, @Query() query: HandoverQueryDto): Promise<{ division: string; next: string | null; items: Handover[] }> {
    return this.handovers.movedOut(principal, query.division, query.after ?? null, query.limit ?? 100);
  }
}
