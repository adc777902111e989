import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { PersonIdPipe } from '@qmcb/platform';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonalData, Roles } from '@qmcb/auth';
import type { PersonalDataPolicy, Principal } from '@qmcb/auth';
import { PersonLookupDto } from '@qmcb/service-kit';
import { TasksService } from '../tasks/tasks.service';
import type { SurveyPerson } from '../tasks/tasks.service';

const READERS = ['surveyor', 'grassroots-reviewer', 'county-approver', 'window-clerk', 'analyst', 'admin'] as const;
const VIEW: PersonalDataPolicy = { access: 'read', purposes: ['survey', 'review', 'window-service', 'registry-maintenance', 'comparison-check'] };

@ApiTags('persons')
@ApiBearerAuth()
@Controller('persons')
export class PersonsController {
  constructor(private readonly tasks: TasksService) {}

  @Get(':personId')
  @Roles(...READERS)
  @PersonalData(VIEW)
  @ApiOperation({ summary: "Survey tasking's view of one person: the record and their survey tasks, by person ID" })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such person, or outside the caller's division (the same answer)" })
  get(@CurrentPrincipal() principal: Principal, @Param('personId', PersonIdPipe) personId: string): Promise<SurveyPerson> {
    return this.tasks.person(principal, { personId });
  }

  @Post('lookup')
  @HttpCode(200)
  @Roles(...READERS)
  @PersonalData(VIEW)
  @ApiOperation({ summary: "Survey tasking's view of one person, by citizen ID in the body (never in a URL)" })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such person, or outside the caller's division (the same answer)" })
  lookup(@CurrentPrincipal() principal: Principal, @Body() body: PersonLookupDto): Promise<SurveyPerson> {
    return this.tasks.person(principal, { citizenId: body.citizenId });
  }
}
