import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { UuidPipe } from '@qmcb/platform';
import { ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Departments, PersonalData, Roles } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { CitizenIdDto, PersonChangeDto } from './changes.dto';
import { ChangesService } from './changes.service';
import type { Gaps, Submitted } from './changes.service';

/**
 * The front-office window (经办窗口, procedure §13): while serving a person, the clerk (or the
 * social-insurance business system at the counter) sees what is missing or inaccurate in their
 * record and why, collects it, and submits it for review.
 */
@ApiTags('window')
@Controller('window')
export class WindowController {
  constructor(private readonly changes: ChangesService) {}

  @Post('gaps')
  @HttpCode(200)
  @Roles('window-clerk')
  @Departments('social-insurance')
  @PersonalData({ access: 'read', purposes: ['window-service'] })
  @ApiOperation({ summary: "A person's gaps by citizen ID (in the body): what is missing or inaccurate, in words to read to them, what to collect, and their changes in review" })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such person, or outside the clerk's division (the same answer)" })
  async gaps(@CurrentPrincipal() principal: Principal, @Body() body: CitizenIdDto): Promise<Gaps> {
    return this.changes.gaps(await this.changes.personFor(principal, body.citizenId));
  }

  @Post('submissions')
  @HttpCode(201)
  @Roles('window-clerk')
  @Departments('social-insurance')
  @PersonalData({ access: 'write', purposes: ['window-service'] })
  @ApiOperation({ summary: 'What was collected at the counter, for review (initial review, or final approval where region policy lets the window skip it)' })
  async submit(@CurrentPrincipal() principal: Principal, @Body() body: PersonChangeDto): Promise<Submitted> {
    return this.changes.submit(principal, 'window', await this.changes.personFor(principal, body.citizenId), body);
  }

  @Get('submissions/:submissionId')
  @Roles('window-clerk')
  @Departments('social-insurance')
  @PersonalData({ access: 'read', purposes: ['window-service'] })
  @ApiOperation({ summary: 'Where a window submission stands in review (its submitter only)' })
  status(@CurrentPrincipal() principal: Principal, @Param('submissionId', UuidPipe) submissionId: string): Promise<object> {
    return this.changes.status(principal, submissionId);
  }
}
