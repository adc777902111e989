import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { KafkaSettings } from '@qmcb/event-log';
import { loadConfig } from '@qmcb/platform';
import { Clock, KEY_COLUMNS as KEY_COLUMNS_TOKEN, SERVICE_OPTIONS, ServiceKitModule } from '@qmcb/service-kit';
import type { KeyColumn } from '@qmcb/service-kit';
import type { ServiceConfig, ServiceOptions } from '@qmcb/service-kit';
import { AppliedEventsRepository } from './business/applied-events.repository';
import { BusinessEventsController } from './business/business-events.controller';
import { BusinessEventsService } from './business/business-events.service';
import { ChangeProposalRepository } from './changes/change-proposal.repository';
import { ChangesController } from './changes/changes.controller';
import { ChangesService } from './changes/changes.service';
import { DYNAMIC_UPDATE_DEFAULTS, DYNAMIC_UPDATE_SETTINGS, DynamicUpdateConfig } from './dynamic-update.config';
import type { DynamicUpdateSettings } from './dynamic-update.config';
import { HandoverRepository } from './exchange/handover.repository';
import { HandoversController } from './exchange/handovers.controller';
import { HandoversService } from './exchange/handovers.service';
import { FeedEntryRepository } from './feed/feed-entry.repository';
import { FeedSequencer } from './feed/feed-sequencer';
import { FeedController } from './feed/feed.controller';
import { SubscriptionsController } from './feed/subscriptions.controller';
import { SubscriptionsService } from './feed/subscriptions.service';
import { WebhookDeliverer } from './feed/webhook-deliverer';
import { RegistryTables1700000004000 } from './migrations/1700000004000-registry-tables';
import { RegistryHistoryV21700000009200 } from './migrations/1700000009200-registry-history-v2';
import { RecordSnapshotSealed1764892800000 } from './migrations/1764892800000-record-snapshot-sealed';
import { RecordHistorySealed1764892800200 } from './migrations/1764892800200-record-history-sealed';
import { OpsDatabase } from './ops/ops-data-source';
import { KEY_COLUMNS, OPS_KEY_COLUMNS, RegistryProjection } from './projection/registry.projection';
import { RecordHistoryRepository } from './registry/record-history.repository';
import { RecordSnapshotRepository } from './registry/record-snapshot.repository';
import { RegistryController } from './registry/registry.controller';
import { RegistryService } from './registry/registry.service';
import { DepartmentHoldingRepository } from './snapshots/department-holding.repository';
import { SnapshotRunner } from './snapshots/snapshot-runner';
import { SnapshotsController } from './snapshots/snapshots.controller';

/** The columns holding a person key (stored as the person ID, ADR 0011 stage 5): projection schema, and operational schema (unqualified). */
export { KEY_COLUMNS, OPS_KEY_COLUMNS };

export const DYNAMIC_UPDATE_MIGRATIONS = [RegistryTables1700000004000, RegistryHistoryV21700000009200, RecordSnapshotSealed1764892800000, RecordHistorySealed1764892800200];

/** What a test may replace: the clock, and the environment dynamic update's own settings come from. */
export interface DynamicUpdateOptions {
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
}

/**
 * The settings; the feed's numbering and webhook delivery run in processes that consume the log
 * (not in an HTTP-only replica, nor in an operator command, which run with CONSUME=false).
 */
export function dynamicUpdateSettings(config: ServiceConfig, env: NodeJS.ProcessEnv = process.env): DynamicUpdateSettings {
  const own = loadConfig(DynamicUpdateConfig, DYNAMIC_UPDATE_DEFAULTS, env);
  const background = config.CONSUME ? {} : { FEED_SEQUENCE_INTERVAL_MS: 0, WEBHOOK_POLL_INTERVAL_MS: 0 };
  return { ...own, ...background, opsSchema: own.OPS_SCHEMA ?? `${config.DB_SCHEMA}_ops` };
}

/**
 * 动态更新 (procedure §20-§24): business events in, routed by region policy to the registry or the
 * county's queue; department rosters diffed; the authoritative registry with provenance, history and
 * as-of reads; the change feed (pull, server-sent events, signed webhooks); handovers of people who
 * moved out.
 */
@Module({})
export class DynamicUpdateModule {
  static register(config: ServiceConfig, kafka: KafkaSettings, options: DynamicUpdateOptions = {}): DynamicModule {
    const settings = dynamicUpdateSettings(config, options.env);
    return {
      module: DynamicUpdateModule,
      imports: [ServiceKitModule.forService({ name: 'dynamic-update', config, kafka, migrations: DYNAMIC_UPDATE_MIGRATIONS })],
      controllers: [RegistryProjection, RegistryController, BusinessEventsController, ChangesController, SnapshotsController, SubscriptionsController, FeedController, HandoversController],
      providers: [
        { provide: DYNAMIC_UPDATE_SETTINGS, useValue: settings },
        // What `seal-records` re-keys besides person_record (ADR 0011, stage 5): the ops tables too, which no rebuild rewrites.
        {
          provide: KEY_COLUMNS_TOKEN,
          useValue: [
            ...KEY_COLUMNS.filter((c) => c.table !== 'person_record'),
            ...OPS_KEY_COLUMNS.map((c) => ({ table: `${settings.opsSchema}.${c.table}`, column: c.column })),
          ] satisfies KeyColumn[],
        },
        { provide: Clock, useValue: options.clock ?? new Clock() },
        {
          provide: OpsDatabase,
          inject: [SERVICE_OPTIONS, DYNAMIC_UPDATE_SETTINGS],
          useFactory: async (service: ServiceOptions, s: DynamicUpdateSettings) => {
            const ops = new OpsDatabase(service, s);
            await ops.open();
            return ops;
          },
        },
        RecordHistoryRepository,
        RecordSnapshotRepository,
        DepartmentHoldingRepository,
        ChangeProposalRepository,
        FeedEntryRepository,
        HandoverRepository,
        AppliedEventsRepository,
        RegistryService,
        HandoversService,
        BusinessEventsService,
        ChangesService,
        SnapshotRunner,
        SubscriptionsService,
        FeedSequencer,
        WebhookDeliverer,
      ],
    };
  }
}
