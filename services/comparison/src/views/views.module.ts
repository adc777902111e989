import { Module } from '@nestjs/common';
import { PersonLinkRepository } from '../linking/person-link.repository';
import { OutcomeRepository } from '../outcomes/outcome.repository';
import { FlagsController } from './flags/flags.controller';
import { FlagsService } from './flags/flags.service';
import { PeopleGauges } from './flags/people-gauges';
import { PersonsController } from './persons/persons.controller';
import { PersonsService } from './persons/persons.service';

/** What comparison shows: one person explained, flag lists and counts, business gauges. */
@Module({
  controllers: [PersonsController, FlagsController],
  providers: [OutcomeRepository, PersonLinkRepository, PersonsService, FlagsService, PeopleGauges],
})
export class ViewsModule {}
