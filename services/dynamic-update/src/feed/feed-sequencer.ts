import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
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
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly ops: OpsDatabase,
    private readonly feed: FeedEntryRepository,
    @Inject(DYNAMIC_UPDATE_SETTINGS) private readonly settings: DynamicUpdateSettings,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.settings.FEED_SEQUENCE_INTERVAL_MS;
    if (every <= 0) return;
    this.timer = setInterval(() => {
      this.runOnce().catch((e: unknown) => this.logger.warn({ msg: 'feed sequencing failed; retried at the next interval', err: e instanceof Error ? e.message : String(e) }));
    }, every);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** Numbers everything committed so far (in rounds of 5,000); returns how many. */
  runOnce(): Promise<number> {
    if (!this.running) {
      this.running = (async () => {
        let total = 0;
        for (;;) {
          const n = await this.ops.dataSource.transaction((m) => this.feed.sequence(m, 5000));
          total += n;
          if (n < 5000) return total;
        }
      })().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }
}
