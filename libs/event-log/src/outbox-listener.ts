import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { errorInfo } from './logger';
import type { Logger } from './logger';

/** The channel every schema's outbox notifies on; the payload is the schema's name. */
export const OUTBOX_CHANNEL = 'qmcb_outbox';

/**
 * A statement-level trigger on the outbox: every statement that inserts into it also queues a
 * `pg_notify('qmcb_outbox', <schema>)`, which PostgreSQL delivers when (and only if) the transaction
 * commits, and collapses to one per transaction. No insert path has to remember to notify; the
 * schema name is the table's at the time of the insert, so a rebuilt schema swapped in notifies
 * under the live name.
 */
export class OutboxNotify1732300000100 implements MigrationInterface {
  name = 'OutboxNotify1732300000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create function outbox_notify() returns trigger language plpgsql as $$
      begin
        perform pg_notify('${OUTBOX_CHANNEL}', tg_table_schema);
        return null;
      end $$`);
    await q.query(`create trigger outbox_notify after insert on outbox for each statement execute function outbox_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop trigger outbox_notify on outbox`);
    await q.query(`drop function outbox_notify()`);
  }
}

export interface OutboxListenerOptions {
  /** Connection string of the service's database. */
  url: string;
  schema: string;
  /** Called for every notification of this schema, and after every (re)connect (rows may have come meanwhile). */
  onNotify: () => void;
  logger: Logger;
}

/**
 * One dedicated connection that LISTENs on the outbox channel and wakes the relay. It reconnects with
 * backoff (1 s doubling to 30 s) when the connection fails; while it is down the relay's poll is the
 * fallback, and each reconnect wakes the relay once to catch up.
 */
export class OutboxListener {
  private client: Client | null = null;
  private running = false;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Successful LISTENs so far (the first connect and every reconnect). */
  connects = 0;

  constructor(private readonly o: OutboxListenerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    this.timer = null;
    if (!this.running) return;
    const client = new Client({ connectionString: this.o.url, keepAlive: true, application_name: `qmcb:${this.o.schema}:outbox-listener` });
    this.client = client;
    let lost = false;
    const onLost = (e?: unknown): void => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = null;
      client.end().catch(() => undefined);
      if (!this.running) return;
      this.failures += 1;
      const delay = Math.min(1_000 * 2 ** (this.failures - 1), 30_000);
      this.o.logger.warn('outbox listener lost its connection; the poll covers until it is back', { schema: this.o.schema, retryInMs: delay, ...(e ? errorInfo(e) : {}) });
      this.timer = setTimeout(() => void this.connect(), delay);
      this.timer.unref();
    };
    client.on('notification', (n) => {
      if (n.channel === OUTBOX_CHANNEL && n.payload === this.o.schema) this.o.onNotify();
    });
    client.on('error', (e) => onLost(e));
    client.on('end', () => onLost());
    try {
      await client.connect();
      await client.query(`listen ${OUTBOX_CHANNEL}`);
    } catch (e) {
      onLost(e);
      return;
    }
    if (lost || !this.running) return;
    this.failures = 0;
    this.connects += 1;
    this.o.onNotify();
  }
}
