import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonalData, Roles } from '@qmcb/auth';
import type { PersonalDataPolicy, Principal } from '@qmcb/auth';
import { PersonLookupDto } from '@qmcb/service-kit';
import { RegistryService } from './registry.service';
import type { RegistryPerson } from './registry.service';

const READERS = ['window-clerk', 'grassroots-reviewer', 'county-approver', 'analyst', 'admin'] as const;
const VIEW: PersonalDataPolicy = { access: 'read', purposes: ['window-service', 'registry-maintenance', 'review', 'comparison-check'] };

@ApiTags('registry')
@ApiBearerAuth()
@Controller('persons')
export class RegistryController {
  constructor(private readonly registry: RegistryService) {}

  @Get(':personId')
  @Roles(...READERS)
  @PersonalData(VIEW)
  @ApiOperation({ summary: "The registry's record of one person (登记库), with its change history, by person ID" })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such person, or outside the caller's division (the same answer)" })
  get(@CurrentPrincipal() principal: Principal, @Param('personId') personId: string): Promise<RegistryPerson> {
    return this.registry.person(principal, { personId });
  }

  @Post('lookup')
  @HttpCode(200)
  @Roles(...READERS)
  @PersonalData(VIEW)
  @ApiOperation({ summary: "The registry's record of one person, by citizen ID in the body (never in a URL)" })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such person, or outside the caller's division (the same answer)" })
  lookup(@CurrentPrincipal() principal: Principal, @Body() body: PersonLookupDto): Promise<RegistryPerson> {
    return this.registry.person(principal, { citizenId: body.citizenId });
  }
}
