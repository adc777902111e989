import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import { openDataSource } from '@qmcb/event-log';
import { SERVICE_OPTIONS } from '@qmcb/service-kit';
import type { ServiceOptions } from '@qmcb/service-kit';
import type { DataSource } from 'typeorm';
import { DYNAMIC_UPDATE_SETTINGS } from '../dynamic-update.config';
import type { DynamicUpdateSettings } from '../dynamic-update.config';
import { FeedSubscriptionsSnapshots1700000009300 } from './migrations/1700000009300-feed-subscriptions-snapshots';
import { FeedChangesSealed1764892800100 } from './migrations/1764892800100-feed-changes-sealed';
import { SnapshotQuarantineSealed1764892800300 } from './migrations/1764892800300-snapshot-quarantine-sealed';

export const OPS_MIGRATIONS = [FeedSubscriptionsSnapshots1700000009300, FeedChangesSealed1764892800100, SnapshotQuarantineSealed1764892800300];

/**
 * The operational schema beside the projection's (docs/adr/0005): its own DataSource and migrations,
 * in the same database, so the projection's transaction can write feed entries into it and a rebuild
 * of the projection (a schema swap) leaves it alone.
 */
@Injectable()
export class OpsDatabase implements OnApplicationShutdown {
  private source: DataSource | null = null;

  constructor(
    @Inject(SERVICE_OPTIONS) private readonly options: ServiceOptions,
    @Inject(DYNAMIC_UPDATE_SETTINGS) private readonly settings: DynamicUpdateSettings,
  ) {}

  async open(): Promise<DataSource> {
    if (!this.source) {
      this.source = await openDataSource({
        url: this.options.config.DATABASE_URL,
        schema: this.settings.opsSchema,
        migrations: OPS_MIGRATIONS,
        runMigrations: this.options.config.MIGRATIONS_RUN,
        poolSize: 5,
      });
    }
    return this.source;
  }

  get dataSource(): DataSource {
    if (!this.source) throw new Error('the operational database is not open yet');
    return this.source;
  }

  async onApplicationShutdown(): Promise<void> {
    const source = this.source;
    this.source = null;
    if (source?.isInitialized) await source.destroy();
  }
}
