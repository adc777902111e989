import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { KafkaSettings } from '@qmcb/event-log';
import { ServiceKitModule } from '@qmcb/service-kit';
import type { ServiceConfig } from '@qmcb/service-kit';
import { SurveyTables1700000002000 } from './migrations/1700000002000-survey-tables';
import { SurveyTaskClosed1700000002100 } from './migrations/1700000002100-survey-task-closed';
import { PersonsController } from './persons/persons.controller';
import { SurveyProjection } from './projection/survey.projection';
import { SurveyTaskRepository } from './targets/survey-task.repository';
import { TasksController } from './tasks/tasks.controller';
import { TasksService } from './tasks/tasks.service';

export const SURVEY_MIGRATIONS = [SurveyTables1700000002000, SurveyTaskClosed1700000002100];

/** 入户调查: survey targets per village, teams and forms. */
@Module({})
export class SurveyTaskingModule {
  static register(config: ServiceConfig, kafka: KafkaSettings): DynamicModule {
    return {
      module: SurveyTaskingModule,
      imports: [ServiceKitModule.forService({ name: 'survey-tasking', config, kafka, migrations: SURVEY_MIGRATIONS })],
      controllers: [SurveyProjection, TasksController, PersonsController],
      providers: [SurveyTaskRepository, TasksService],
    };
  }
}
