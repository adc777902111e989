import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { IsISO8601, IsOptional } from 'class-validator';
import type { PersonView } from './person-view';
import { PersonsService } from './persons.service';

export class PersonViewQuery {
  @ApiPropertyOptional({ description: 'Re-evaluate the rules as of this time (ISO 8601; ages are computed then). Default: now.' })
  @IsOptional() @IsISO8601()
  asOf?: string;
}

@ApiTags('persons')
@Controller('persons')
export class PersonsController {
  constructor(private readonly persons: PersonsService) {}

  @Get(':personKey')
  @Roles('window-clerk', 'grassroots-reviewer', 'county-approver', 'analyst', 'admin')
  @ApiOperation({
    summary: "Comparison's explainable view of one person",
    description:
      'What each source says (`sources`), which source wins each field and why (`fields`, docs/api/comparison.md), the decision recorded on the log ' +
      '(`comparison`) beside the rules re-run now on the stored record with the facts each fired on (`comparison.explanation`, `stale` when they differ), ' +
      'and the history of outcomes. Accepts a citizen ID in any accepted form or a person key. Audited; 404 outside the caller\'s division.',
  })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such person, or outside the caller's division (the same answer)" })
  get(@CurrentPrincipal() principal: Principal, @Param('personKey') personKey: string, @Query() query: PersonViewQuery): Promise<PersonView> {
    return this.persons.view(principal, personKey, query.asOf);
  }
}
