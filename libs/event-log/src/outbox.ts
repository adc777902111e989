import { parseEvent } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import type { DataSource, EntityManager } from 'typeorm';
import { assertSchemaName, dataSourceUrl } from './database';
import { errorInfo, jsonLogger } from './logger';
import type { Logger } from './logger';
import { metrics } from './metrics';
import { OutboxListener } from './outbox-listener';
import { markPublishedAndScrub } from './outbox-scrub';
import type { OutboxItem, OutboxPublisher } from './producer';
import type { LogSealer } from './seal';
import { durableCommitIfAsync, holdSwapLockShared, int, sql, text } from './sql';

const enqueueLogger = jsonLogger('event-log.outbox');

/**
 * Inserts events already validated (parseEvent) in one statement, in order, in the caller's
 * transaction, which must hold the schema's swap lock. Each row is sealed here as the log holds it
 * (ADR 0009, amended): `event` is the sealed envelope (readable fields, person ref, `sealed`), and
 * `person_key` the person ref, so no row ever holds a citizen ID, name or any payload in plaintext.
 * One keyring call for all the events (cached; a new person's key is made here: if the caller's
 * transaction then rolls back, that key stays unused, which is harmless). An event of a person whose
 * key is shredded (erased) is not enqueued: counted and logged by person ref.
 */
export async function insertParsedOutbox(manager: EntityManager, sealer: LogSealer, events: readonly RegistrationEvent[]): Promise<void> {
  if (events.length === 0) return;
  const { sealed, erased } = await sealer.seal(events);
  for (const { event, personRef } of erased) {
    metrics.erasedDropped.inc();
    enqueueLogger.warn('event of an erased person not enqueued', { personRef, eventId: event.eventId, type: event.type });
  }
  if (sealed.length === 0) return;
  // The relay publishes committed rows: their commit must be on disk first (sql.ts, commitAsynchronously).
  await durableCommitIfAsync(manager);
  await sql(
    manager,
    // One JSON array of the sealed values as they are (each already JSON: joined, not encoded again), in order.
    `insert into outbox (event_id, person_key, event)
     select e.event ->> 'eventId', e.event ->> 'personRef', e.event
       from jsonb_array_elements($1::jsonb) with ordinality as e(event, ord)
      order by e.ord
     on conflict (event_id) do nothing`,
    [`[${sealed.map((s) => s.value.toString('utf8')).join(',')}]`],
  );
}

/**
 * Puts events in the outbox of the current schema, sealed, in the caller's transaction, so they are
 * published if and only if the caller's own changes commit. Validates every event first.
 */
export async function enqueueOutbox(manager: EntityManager, sealer: LogSealer, events: readonly RegistrationEvent[]): Promise<void> {
  const parsed = events.map((e) => parseEvent(e));
  if (parsed.length === 0) return;
  await holdSwapLockShared(manager);
  await insertParsedOutbox(manager, sealer, parsed);
}

export interface OutboxRelayOptions {
  dataSource: DataSource;
  producer: OutboxPublisher;
  /** The schema the DataSource's search_path points at (lock key and metrics label). */
  schema: string;
  batchSize?: number;
  /** How often the relay looks for rows without being woken; default 500 ms (OUTBOX_POLL_INTERVAL_MS). */
  pollIntervalMs?: number;
  /**
   * Wake on the outbox's NOTIFY (a dedicated LISTEN connection, see outbox-listener.ts) instead of
   * waiting for the next poll; default true (OUTBOX_LISTEN). The poll stays as the fallback.
   */
  listen?: boolean;
  logger?: Logger;
}

/**
 * Publishes unpublished outbox rows in id order and marks them published. One relay at a time per
 * schema (transaction-scoped advisory lock), so order holds even with replicas. A crash between
 * the acknowledged send and the mark re-sends the rows: at-least-once, deduplicated by event ID.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly logger: Logger;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private gaugeAt = 0;
  /** Set by a notification; a round that starts clears it, so one arriving during a round runs another. */
  private notified = false;
  private listener: OutboxListener | null = null;

  constructor(private readonly opts: OutboxRelayOptions) {
    assertSchemaName(opts.schema);
    // 500 rows of ~1 KB stay well under the broker's 1 MB record-batch limit even on one partition.
    this.batchSize = opts.batchSize ?? 500;
    this.pollIntervalMs = opts.pollIntervalMs ?? 500;
    this.logger = opts.logger ?? jsonLogger('event-log.outbox');
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.opts.listen !== false) {
      this.listener = new OutboxListener({ url: dataSourceUrl(this.opts.dataSource), schema: this.opts.schema, onNotify: () => this.poke(), logger: this.logger });
      this.listener.start();
    }
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.listener?.stop();
    this.listener = null;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  /** Successful LISTENs of the relay's listener (0 without one): the first connect and every reconnect. */
  get listenerConnects(): number {
    return this.listener?.connects ?? 0;
  }

  private poke(): void {
    this.notified = true;
    this.wake?.();
  }

  /** Publishes one batch; returns how many rows were published (0 when another relay holds the lock). */
  async runOnce(): Promise<number> {
    const { dataSource, producer, schema } = this.opts;
    const qr = dataSource.createQueryRunner();
    await qr.connect();
    let published = 0;
    try {
      await qr.startTransaction();
      await holdSwapLockShared(qr, schema);
      const lock = await sql(qr, 'select pg_try_advisory_xact_lock(hashtext($1)) as ok', [`qmcb.outbox.${schema}`]);
      if (lock.rows[0]?.['ok'] !== true) {
        await qr.rollbackTransaction();
        return 0;
      }
      const { rows } = await sql(
        qr,
        `select id, event_id, event from outbox where published_at is null order by id limit $1 for update`,
        [this.batchSize],
      );
      if (rows.length > 0) {
        // Sealed when enqueued: sent as they are. A plain row (enqueued by a version before sealing at
        // enqueue) is validated and sealed by the producer now. One send, in id order either way.
        const items = rows.map((r): OutboxItem => {
          const event = r['event'] as Record<string, unknown>;
          return 'sealed' in event ? { kind: 'sealed', envelope: event } : { kind: 'plain', event: event as unknown as RegistrationEvent };
        });
        await producer.appendOutbox(items);
        await markPublishedAndScrub(qr, rows.map((r) => text(r, 'id')));
      }
      await qr.commitTransaction();
      published = rows.length;
    } catch (e) {
      if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
      throw e;
    } finally {
      await qr.release();
    }
    if (published > 0) {
      metrics.outboxPublished.inc({ schema }, published);
      this.logger.log('outbox published', { schema, count: published });
    }
    // Counting a long backlog costs more than publishing a batch of it: once a second while draining.
    if (published < this.batchSize || Date.now() - this.gaugeAt >= 1_000) {
      this.gaugeAt = Date.now();
      await this.updatePending();
    }
    return published;
  }

  private async updatePending(): Promise<void> {
    try {
      const { rows } = await sql(this.opts.dataSource.manager, `select count(*)::int as n from outbox where published_at is null`);
      metrics.outboxPending.set({ schema: this.opts.schema }, rows[0] ? int(rows[0], 'n') : 0);
    } catch (e) {
      this.logger.warn('outbox gauge not updated', { schema: this.opts.schema, ...errorInfo(e) });
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let published = 0;
      this.notified = false;
      try {
        published = await this.runOnce();
        failures = 0;
      } catch (e) {
        failures += 1;
        this.logger.error('outbox relay failed; will retry', { schema: this.opts.schema, failures, ...errorInfo(e) });
      }
      if (!this.running) break;
      // A notification during the round (or a full batch) means more rows: go again at once. After a
      // failure the backoff holds even when notified; only stop() cuts it short.
      if (published < this.batchSize && (failures > 0 || !this.notified)) {
        const delay = failures > 0 ? Math.min(this.pollIntervalMs * 2 ** failures, 30_000) : this.pollIntervalMs;
        const wakeOnNotify = failures === 0;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            if (this.running && !wakeOnNotify) return;
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
      }
    }
  }
}
