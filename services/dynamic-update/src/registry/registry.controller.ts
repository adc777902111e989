import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { RegistryService } from './registry.service';

@ApiTags('registry')
@ApiBearerAuth()
@Controller('persons')
export class RegistryController {
  constructor(private readonly registry: RegistryService) {}

  @Get(':personKey')
  @Roles('window-clerk', 'grassroots-reviewer', 'county-approver', 'analyst', 'admin')
  @ApiOperation({ summary: "The registry's record of one person (登记库), with its change history" })
  get(@CurrentPrincipal() principal: Principal, @Param('personKey') personKey: string): Promise<object> {
    return this.registry.person(principal, personKey);
  }
}
