import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { PeriodicTask } from '@qmcb/platform';
import { DYNAMIC_UPDATE_SETTINGS } from '../dynamic-update.config';
import type { DynamicUpdateSettings } from '../dynamic-update.config';
import { OpsDatabase } from '../ops/ops-data-source';
import { FeedEntryRepository } from './feed-entry.repository';

/**
 * Numbers the feed's committed entries (feed-entry.repository.ts, `sequence`), every
 * FEED_SEQUENCE_INTERVAL_MS: the number is the subscribers' cursor, and numbering only what is
 * committed, one numbering at a time, is what makes it gap-free (docs/adr/0005).
 */
@Injectable()
export class FeedSequencer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('FeedSequencer');
  private readonly task = new PeriodicTask(
    () => this.sequenceAll(),
    (e) => this.logger.warn({ msg: 'feed sequencing failed; retried at the next interval', err: e instanceof Error ? e.message : String(e) }),
  );

  constructor(
    private readonly ops: OpsDatabase,
    private readonly feed: FeedEntryRepository,
    @Inject(DYNAMIC_UPDATE_SETTINGS) private readonly settings: DynamicUpdateSettings,
  ) {}

  onApplicationBootstrap(): void {
    this.task.start(this.settings.FEED_SEQUENCE_INTERVAL_MS, { immediately: false });
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  /** Numbers everything committed so far (in rounds of 5,000); returns how many. A numbering in flight is joined. */
  runOnce(): Promise<number> {
    return this.task.run();
  }

  private async sequenceAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.ops.dataSource.transaction((m) => this.feed.sequence(m, 5000));
      total += n;
      if (n < 5000) return total;
    }
  }
}
