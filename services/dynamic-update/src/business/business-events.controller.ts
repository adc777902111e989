import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonalData, SystemCallers, actorOf, departmentOf } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { BusinessEventBatchDto, BusinessEventsAcceptedDto } from './business-events.dto';
import { BusinessEventsService } from './business-events.service';

@ApiTags('business events')
@Controller('business-events')
export class BusinessEventsController {
  constructor(private readonly business: BusinessEventsService) {}

  @Post()
  @HttpCode(202)
  @SystemCallers()
  @PersonalData({ access: 'write', purposes: ['data-submission'] })
  @ApiOperation({
    summary: 'A business system (social insurance, the card system) or a department posts business events as they happen (procedure §20-§24)',
    description:
      'All-or-nothing: a batch with any invalid event is refused with 400 naming every offending field; a type the department may not send is a 403. ' +
      'A 202 means every event is durable on the log. Re-sending an event yields the same event ID and changes nothing. ' +
      "Types the person's region policy routes to review wait for the county (status pending-review).",
  })
  @ApiAcceptedResponse({ type: BusinessEventsAcceptedDto })
  post(@CurrentPrincipal() principal: Principal, @Body() body: BusinessEventBatchDto): Promise<BusinessEventsAcceptedDto> {
    return this.business.post(departmentOf(principal), actorOf(principal), body.events);
  }
}
