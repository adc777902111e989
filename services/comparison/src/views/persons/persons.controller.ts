import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { IsCalendarDateTime } from '@qmcb/contracts';
import { PersonIdPipe } from '@qmcb/platform';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonalData, Roles } from '@qmcb/auth';
import type { PersonalDataPolicy, Principal } from '@qmcb/auth';
import { PersonLookupDto } from '@qmcb/service-kit';
import { IsISO8601, IsOptional } from 'class-validator';
import type { PersonViewAnswer } from './person-view';
import { PersonsService } from './persons.service';

export class PersonViewQuery {
  @ApiPropertyOptional({ description: 'Re-evaluate the rules as of this time (ISO 8601; ages are computed then). Default: now.' })
  @IsOptional() @IsISO8601() @IsCalendarDateTime()
  asOf?: string;
}

export class PersonLookupWithAsOfDto extends PersonLookupDto {
  @ApiPropertyOptional({ description: 'Re-evaluate the rules as of this time (ISO 8601). Default: now.' })
  @IsOptional() @IsISO8601() @IsCalendarDateTime()
  asOf?: string;
}

const VIEW: PersonalDataPolicy = { access: 'read', purposes: ['comparison-check', 'window-service', 'review', 'registry-maintenance'] };
const READERS = ['window-clerk', 'grassroots-reviewer', 'county-approver', 'analyst', 'admin'] as const;
const DESCRIPTION =
  'What each source says (`sources`), which source wins each field and why (`fields`, docs/api/comparison.md), the decision recorded on the log ' +
  '(`comparison`) beside the rules re-run now on the stored record with the facts each fired on (`comparison.explanation`, `stale` when they differ), ' +
  "and the history of outcomes. Audited with the stated purpose (X-Purpose); 404 outside the caller's division.";

@ApiTags('persons')
@Controller('persons')
export class PersonsController {
  constructor(private readonly persons: PersonsService) {}

  @Get(':personId')
  @Roles(...READERS)
  @PersonalData(VIEW)
  @ApiOperation({ summary: "Comparison's explainable view of one person, by person ID", description: DESCRIPTION })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such person, or outside the caller's division (the same answer)" })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: a citizen ID in the URL (use POST /persons/lookup), or no X-Purpose' })
  get(@CurrentPrincipal() principal: Principal, @Param('personId', PersonIdPipe) personId: string, @Query() query: PersonViewQuery): Promise<PersonViewAnswer> {
    return this.persons.view(principal, { personId }, query.asOf);
  }

  @Post('lookup')
  @HttpCode(200)
  @Roles(...READERS)
  @PersonalData(VIEW)
  @ApiOperation({ summary: "Comparison's explainable view of one person, by citizen ID in the body (never in a URL)", description: DESCRIPTION })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such person, or outside the caller's division (the same answer)" })
  lookup(@CurrentPrincipal() principal: Principal, @Body() body: PersonLookupWithAsOfDto): Promise<PersonViewAnswer> {
    return this.persons.view(principal, { citizenId: body.citizenId }, body.asOf);
  }
}
