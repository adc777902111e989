import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { IsCalendarDateTime } from '@qmcb/contracts';
import { ApiNotFoundResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Departments, PersonalData, Roles } from '@qmcb/auth';
import type { PersonalDataPolicy, Principal } from '@qmcb/auth';
import { PageLimit, PageOffset, PersonIdPipe } from '@qmcb/platform';
import { PersonLookupDto } from '@qmcb/service-kit';
import { IsISO8601, IsOptional } from 'class-validator';
import { RegistryService } from './registry.service';
import type { RegistryPerson, RegistryView } from './registry.service';
import type { HistoryRow } from './record-history.repository';

const READERS = ['window-clerk', 'grassroots-reviewer', 'county-approver', 'analyst', 'admin'] as const;
const VIEW: PersonalDataPolicy = { access: 'read', purposes: ['window-service', 'registry-maintenance', 'review', 'comparison-check'] };
/** The registry's items: also read by the higher registry's system in an exchange (§10). */
const ITEMS: PersonalDataPolicy = { access: 'read', purposes: ['registry-maintenance', 'window-service', 'review', 'comparison-check', 'cross-region-exchange'] };

export class AsOfQueryDto {
  @ApiPropertyOptional({ description: 'The moment to read the record as the registry held it (ISO 8601); now when absent', example: '2026-06-30T16:00:00Z' })
  @IsOptional() @IsISO8601() @IsCalendarDateTime()
  asOf?: string;
}

export class HistoryQueryDto {
  @PageLimit(100, 1000)
  limit?: number;

  @PageOffset()
  offset?: number;
}

@ApiTags('registry')
@Controller()
export class RegistryController {
  constructor(private readonly registry: RegistryService) {}

  @Get('persons/:personId')
  @Roles(...READERS)
  @PersonalData(VIEW)
  @ApiOperation({ summary: "The registry's record of one person (登记库), with its change history, by person ID" })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such person, or outside the caller's division (the same answer)" })
  get(@CurrentPrincipal() principal: Principal, @Param('personId', PersonIdPipe) personId: string): Promise<RegistryPerson> {
    return this.registry.person(principal, { personId });
  }

  @Post('persons/lookup')
  @HttpCode(200)
  @Roles(...READERS)
  @PersonalData(VIEW)
  @ApiOperation({ summary: "The registry's record of one person, by citizen ID in the body (never in a URL)" })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such person, or outside the caller's division (the same answer)" })
  lookup(@CurrentPrincipal() principal: Principal, @Body() body: PersonLookupDto): Promise<RegistryPerson> {
    return this.registry.person(principal, { citizenId: body.citizenId });
  }

  @Get('registry/:personId')
  @Roles(...READERS)
  @Departments('higher-registry')
  @PersonalData(ITEMS)
  @ApiOperation({ summary: 'Every registry item of a person with the source and time of its value; with asOf, as the registry held it then' })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such person, or outside the caller's division (the same answer)" })
  view(@CurrentPrincipal() principal: Principal, @Param('personId', PersonIdPipe) personId: string, @Query() query: AsOfQueryDto): Promise<RegistryView> {
    return this.registry.view(principal, personId, query.asOf ? new Date(query.asOf).toISOString() : null);
  }

  @Get('registry/:personId/history')
  @Roles(...READERS)
  @PersonalData(VIEW)
  @ApiOperation({ summary: 'Who and what changed the record, event by event: what each changed, its source, actor and cause' })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such person, or outside the caller's division (the same answer)" })
  history(@CurrentPrincipal() principal: Principal, @Param('personId', PersonIdPipe) personId: string, @Query() query: HistoryQueryDto): Promise<{ personId: string; total: number; items: HistoryRow[] }> {
    return this.registry.historyPage(principal, personId, query.limit ?? 100, query.offset ?? 0);
  }
}
