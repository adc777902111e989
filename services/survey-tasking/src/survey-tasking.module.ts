import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { KafkaSettings } from '@qmcb/event-log';
import { ServiceKitModule } from '@qmcb/service-kit';
import type { ServiceConfig } from '@qmcb/service-kit';
import { SurveyTables1700000002000 } from './migrations/1700000002000-survey-tables';
import { PersonsController } from './persons/persons.controller';
import { SurveyHandler } from './projection/survey.handler';
import { TasksController } from './tasks/tasks.controller';
import { TasksService } from './tasks/tasks.service';

/** 入户调查: survey targets per village, teams and forms. */
@Module({})
export class SurveyTaskingModule {
  static register(config: ServiceConfig, kafka: KafkaSettings): DynamicModule {
    return {
      module: SurveyTaskingModule,
      imports: [
        ServiceKitModule.forService({ name: 'survey-tasking', config, kafka, migrations: [SurveyTables1700000002000], handler: SurveyHandler }),
      ],
      controllers: [TasksController, PersonsController],
      providers: [TasksService],
    };
  }
}
