import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { KafkaSettings } from '@qmcb/event-log';
import { KEY_COLUMNS as KEY_COLUMNS_TOKEN, PLAIN_ROW_SEALERS, ServiceKitModule } from '@qmcb/service-kit';
import type { PersonColumn, ServiceConfig } from '@qmcb/service-kit';
import { AssignmentRepository } from './assignments/assignment.repository';
import { SurveyLocks } from './assignments/survey-locks';
import { CampaignRepository } from './campaigns/campaign.repository';
import { CampaignsController } from './campaigns/campaigns.controller';
import { CampaignsService } from './campaigns/campaigns.service';
import { TeamRepository } from './campaigns/team.repository';
import { VillageTeamRepository } from './campaigns/village-team.repository';
import { HouseholdMemberRepository } from './households/household-member.repository';
import { LedgersService } from './ledgers/ledgers.service';
import { SurveyTables1700000002000 } from './migrations/1700000002000-survey-tables';
import { SurveyTaskClosed1700000002100 } from './migrations/1700000002100-survey-task-closed';
import { SurveyCampaigns1700000002200 } from './migrations/1700000002200-survey-campaigns';
import { SurveyTaskErased1764800000000 } from './migrations/1764800000000-survey-task-erased';
import { SurveySealed1764892800200 } from './migrations/1764892800200-survey-sealed';
import { PersonsController } from './persons/persons.controller';
import { ProgressGauges } from './progress/progress-gauges';
import { SurveyProjection } from './projection/survey.projection';
import { SurveyTaskRepository } from './targets/survey-task.repository';
import { MyTargetsController, TasksController } from './tasks/tasks.controller';
import { TasksService } from './tasks/tasks.service';
import { SurveyVisitRepository } from './visits/survey-visit.repository';

/**
 * Every column of survey tasking's schema that holds a person key, which holds the person ID since
 * ADR 0011's stage 5 (`PersonKeyColumn`; rows written before hold the plain key until re-keyed).
 * `survey_household_member.person_key` is its table's primary key.
 */
export const KEY_COLUMNS: PersonColumn[] = [
  { table: 'person_record', column: 'person_key' },
  { table: 'survey_task', column: 'person_key' },
  { table: 'survey_visit', column: 'person_key' },
  { table: 'survey_assignment', column: 'person_key' },
  { table: 'survey_household_member', column: 'person_key' },
];

/**
 * The columns holding household keys: `<village>-<户号>` (no person key in it), or for a person without
 * a 户号 `P-` and their person key, stored as `P-` and the person ID since stage 5 (`HouseholdKeyColumn`);
 * re-keyed is only what follows the prefix.
 */
export const PREFIXED_KEY_COLUMNS: (PersonColumn & { prefix: string })[] = [
  { table: 'survey_task', column: 'household_key', prefix: 'P-' },
  { table: 'survey_household_member', column: 'household_key', prefix: 'P-' },
];

export const SURVEY_MIGRATIONS = [SurveyTables1700000002000, SurveyTaskClosed1700000002100, SurveyCampaigns1700000002200, SurveyTaskErased1764800000000, SurveySealed1764892800200];

/** 入户调查: survey targets per village, campaigns, teams and assignment, visits and forms, progress and ledgers. */
@Module({})
export class SurveyTaskingModule {
  static register(config: ServiceConfig, kafka: KafkaSettings): DynamicModule {
    return {
      module: SurveyTaskingModule,
      imports: [ServiceKitModule.forService({ name: 'survey-tasking', config, kafka, migrations: SURVEY_MIGRATIONS })],
      controllers: [SurveyProjection, TasksController, MyTargetsController, CampaignsController, PersonsController],
      providers: [
        SurveyTaskRepository,
        SurveyVisitRepository,
        HouseholdMemberRepository,
        AssignmentRepository,
        CampaignRepository,
        TeamRepository,
        VillageTeamRepository,
        SurveyLocks,
        TasksService,
        CampaignsService,
        LedgersService,
        ProgressGauges,
        // Rows written before ADR 0011's stage 4, sealed in place by `seal-records`.
        // What `seal-records` re-keys besides person_record (ADR 0011, stage 5), before it seals.
        { provide: KEY_COLUMNS_TOKEN, useValue: [...KEY_COLUMNS.filter((c) => c.table !== 'person_record'), ...PREFIXED_KEY_COLUMNS] },
        { provide: PLAIN_ROW_SEALERS, inject: [SurveyTaskRepository, SurveyVisitRepository, HouseholdMemberRepository], useFactory: (...tables: unknown[]) => tables },
      ],
    };
  }
}
