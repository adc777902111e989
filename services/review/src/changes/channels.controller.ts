import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonalData, Roles, SystemCallers } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { PersonChangeDto } from './changes.dto';
import { ChangesService } from './changes.service';
import type { Submitted } from './changes.service';

/** Changes started by the grassroots platform (§21) or by a department whose changes go through review. */
@ApiTags('changes')
@Controller()
export class ChannelsController {
  constructor(private readonly changes: ChangesService) {}

  @Post('grassroots/changes')
  @HttpCode(201)
  @Roles('grassroots-reviewer')
  @PersonalData({ access: 'write', purposes: ['registry-maintenance'] })
  @ApiOperation({ summary: 'A change a grassroots platform (street/township, community/village) records for a person of its division, for review' })
  async grassroots(@CurrentPrincipal() principal: Principal, @Body() body: PersonChangeDto): Promise<Submitted> {
    return this.changes.submit(principal, 'grassroots', await this.changes.personFor(principal, body.citizenId), body);
  }

  @Post('department-changes')
  @HttpCode(201)
  @SystemCallers()
  @PersonalData({ access: 'write', purposes: ['data-submission'] })
  @ApiOperation({ summary: "A department's change of a person that must pass review before it enters the registry" })
  async department(@CurrentPrincipal() principal: Principal, @Body() body: PersonChangeDto): Promise<Submitted> {
    return this.changes.submit(principal, 'department', await this.changes.personFor(principal, body.citizenId), body);
  }
}
