import type { RegistrationEvent } from '@qmcb/contracts';
import type { DataSource } from 'typeorm';
import { enqueueOutbox, OutboxRelay } from './outbox';
import { OUTBOX_CHANNEL } from './outbox-listener';
import { EventLogProducer } from './producer';
import { sealerFor } from './seal';
import type { LogSealer } from './seal';
import { readEvents, readTopic } from './read-topic';
import type { KafkaSettings } from './settings';
import { sql } from './sql';
import { eventsFor, openTally, testLogger } from './test-support/tally';
import { newDatabase, newTopic, waitUntil } from './test-support/harness';
import type { TestDatabase, TestTopic } from './test-support/harness';

jest.setTimeout(120_000);

const SCHEMA = 'tally_test';
/** Far longer than any test here may take: a row published within a test was not found by the poll. */
const POLL_MS = 60_000;

async function unpublished(ds: DataSource): Promise<number> {
  const { rows } = await sql(ds.manager, `select count(*)::int as n from outbox where published_at is null`);
  return Number(rows[0]?.['n']);
}

/** The events of `expected` as the log holds them: each exactly once, and per person in enqueue order. */
async function expectPublishedOnce(settings: KafkaSettings, expected: RegistrationEvent[]): Promise<void> {
  const ids = new Set(expected.map((e) => e.eventId));
  const log = (await readEvents(settings)).filter((e) => ids.has(e.eventId));
  expect(log.map((e) => e.eventId).sort()).toEqual([...ids].sort());
  for (const key of new Set(expected.map((e) => e.personKey))) {
    expect(log.filter((e) => e.personKey === key).map((e) => e.eventId)).toEqual(expected.filter((e) => e.personKey === key).map((e) => e.eventId));
  }
}

describe('outbox relay woken by NOTIFY', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let testTopic: TestTopic;
  let settings: KafkaSettings;
  let producer: EventLogProducer;
  let sealer: LogSealer;

  beforeAll(async () => {
    testTopic = await newTopic(3);
    settings = testTopic.settings;
    db = await newDatabase();
    ds = await openTally(db.url, SCHEMA);
    producer = await EventLogProducer.connect(settings, { logger: testLogger() });
    sealer = await sealerFor(settings);
  });

  afterAll(async () => {
    await producer?.disconnect();
    await ds?.destroy();
    await db?.drop();
    await testTopic?.drop();
  });

  it('the outbox notifies its schema on the channel when, and only when, an insert commits', async () => {
    const { Client } = await import('pg');
    const listener = new Client({ connectionString: db.url });
    await listener.connect();
    const got: { channel: string; payload: string | undefined }[] = [];
    listener.on('notification', (n) => got.push({ channel: n.channel, payload: n.payload }));
    try {
      await listener.query(`listen ${OUTBOX_CHANNEL}`);
      await ds
        .transaction(async (m) => {
          await enqueueOutbox(m, sealer, eventsFor(1, 1, 'notify-rolled-back', 90));
          throw new Error('caller failed');
        })
        .catch(() => undefined);
      // Two statements in one transaction: one notification.
      await ds.transaction(async (m) => {
        await enqueueOutbox(m, sealer, eventsFor(1, 2, 'notify-a', 91));
        await enqueueOutbox(m, sealer, eventsFor(1, 2, 'notify-b', 92));
      });
      await waitUntil(() => got.length > 0, 5_000, 'notification');
      // A round trip on the listening connection: anything else queued would have arrived with it.
      await listener.query('select 1');
      expect(got).toEqual([{ channel: OUTBOX_CHANNEL, payload: SCHEMA }]);
    } finally {
      await listener.end();
      await sql(ds.manager, `update outbox set published_at = now() where published_at is null`);
    }
  });

  it(
    'publishes a committed row at once, long before the poll would have looked',
    async () => {
      const relay = new OutboxRelay({ dataSource: ds, producer, schema: SCHEMA, pollIntervalMs: POLL_MS, logger: testLogger() });
      relay.start();
      try {
        await waitUntil(() => relay.listenerConnects === 1, 5_000, 'listener connected');
        // The relay's first round ran at start; from here only a notification can wake it within the test.
        const events = eventsFor(3, 12, 'notified', 100);
        await ds.transaction((m) => enqueueOutbox(m, sealer, events.slice(0, 6)));
        await ds.transaction((m) => enqueueOutbox(m, sealer, events.slice(6)));
        await waitUntil(async () => (await unpublished(ds)) === 0, 8_000, 'outbox published');
        await expectPublishedOnce(settings, events);
      } finally {
        await relay.stop();
      }
    },
    10_000,
  );

  it('loses and doubles nothing when notifications are missed: the poll publishes them, and a lost listener reconnects and catches up', async () => {
    // Inserts that never notify (the trigger off): only the poll finds them.
    await sql(ds.manager, `alter table outbox disable trigger outbox_notify`);
    const silent = eventsFor(3, 9, 'silent', 200);
    const polling = new OutboxRelay({ dataSource: ds, producer, schema: SCHEMA, pollIntervalMs: 300, logger: testLogger() });
    polling.start();
    try {
      await waitUntil(() => polling.listenerConnects === 1, 5_000, 'listener connected');
      await ds.transaction((m) => enqueueOutbox(m, sealer, silent.slice(0, 5)));
      await ds.transaction((m) => enqueueOutbox(m, sealer, silent.slice(5)));
      await waitUntil(async () => (await unpublished(ds)) === 0, 20_000, 'outbox published by the poll');
    } finally {
      await polling.stop();
      await sql(ds.manager, `alter table outbox enable trigger outbox_notify`);
    }
    await expectPublishedOnce(settings, silent);

    // The listener's connection killed: rows committed meanwhile go out when it is back (poll 60 s).
    const relay = new OutboxRelay({ dataSource: ds, producer, schema: SCHEMA, pollIntervalMs: POLL_MS, logger: testLogger() });
    relay.start();
    try {
      await waitUntil(() => relay.listenerConnects === 1, 5_000, 'listener connected');
      const listeners = async (): Promise<Record<string, unknown>[]> =>
        (await sql(ds.manager, `select pid from pg_stat_activity where application_name = $1`, [`qmcb:${SCHEMA}:outbox-listener`])).rows;
      await waitUntil(async () => (await listeners()).length === 1, 5_000, 'one listener connection');
      const [{ pid }] = (await listeners()) as [{ pid: number }];
      const killed = await sql(ds.manager, `select pg_terminate_backend($1) as ok`, [pid]);
      expect(killed.rows).toEqual([{ ok: true }]);
      const missed = eventsFor(2, 6, 'missed', 300);
      await ds.transaction((m) => enqueueOutbox(m, sealer, missed));
      await waitUntil(() => relay.listenerConnects === 2, 10_000, 'listener reconnected');
      await waitUntil(async () => (await unpublished(ds)) === 0, 10_000, 'outbox published after the reconnect');
      await expectPublishedOnce(settings, missed);

      // Two relays listening on the same schema, many small transactions: each row once, in order.
      const other = new OutboxRelay({ dataSource: ds, producer, schema: SCHEMA, pollIntervalMs: POLL_MS, batchSize: 4, logger: testLogger() });
      other.start();
      try {
        await waitUntil(() => other.listenerConnects === 1, 5_000, 'second listener connected');
        const many = eventsFor(5, 60, 'many', 400);
        for (let i = 0; i < many.length; i += 3) await ds.transaction((m) => enqueueOutbox(m, sealer, many.slice(i, i + 3)));
        await waitUntil(async () => (await unpublished(ds)) === 0, 20_000, 'outbox published by two relays');
        await expectPublishedOnce(settings, many);
      } finally {
        await other.stop();
      }
    } finally {
      await relay.stop();
    }
  });
  it('after an upgrade, publishes the plain rows the previous version left, sealed, in order with the sealed rows written since, each once', async () => {
    const events = eventsFor(2, 8, 'upgrade', 500);
    // Rows 0-3 written plain by the previous version (one transaction), rows 4-7 sealed by this one.
    await ds.transaction(async (m) => {
      for (const e of events.slice(0, 4)) await sql(m, `insert into outbox (event_id, person_key, event) values ($1, $2, $3::jsonb)`, [e.eventId, e.personKey, JSON.stringify(e)]);
    });
    await ds.transaction((m) => enqueueOutbox(m, sealer, events.slice(4)));
    const people = [...new Set(events.map((e) => e.personKey))];
    const rows = (await sql(ds.manager, `select event_id, person_key, row_to_json(o)::text as line from outbox o where published_at is null order by id`)).rows;
    expect(rows.map((r) => r['event_id'])).toEqual(events.map((e) => e.eventId));
    // The sealed ones name the person by ref only.
    expect(rows.slice(4).filter((r) => people.some((id) => String(r['line']).includes(id)))).toEqual([]);
    expect(rows.slice(4).map((r) => r['person_key'])).toEqual(events.slice(4).map((e) => sealer.personRef(e.personKey)));

    const relay = new OutboxRelay({ dataSource: ds, producer, schema: SCHEMA, pollIntervalMs: POLL_MS, logger: testLogger() });
    relay.start();
    try {
      await waitUntil(async () => (await unpublished(ds)) === 0, 8_000, 'outbox published');
    } finally {
      await relay.stop();
    }
    await expectPublishedOnce(settings, events);
    const ids = new Set(events.map((e) => e.eventId));
    const records = (await readTopic(settings)).filter((r) => ids.has(r.headers['event-id'] ?? ''));
    expect(records.filter((r) => !String(r.value).includes('"sealed":"v1.') || people.some((id) => String(r.value).includes(id) || r.key === id))).toEqual([]);
  });
});
