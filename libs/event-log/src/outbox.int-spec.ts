import type { RegistrationEvent } from '@qmcb/contracts';
import type { DataSource } from 'typeorm';
import { commitDecisions } from './apply';
import { metricValue } from './metrics';
import { enqueueOutbox, OutboxRelay } from './outbox';
import { EventLogProducer } from './producer';
import type { OutboxPublisher } from './producer';
import { sealerFor } from './seal';
import type { LogSealer } from './seal';
import { ProjectionRunner } from './runner';
import type { KafkaSettings } from './settings';
import { sql } from './sql';
import { eventsFor, expectedTally, openTally, personKey, readTally, TallyHandler, taskEvent, TEST_TUNING, testLogger } from './test-support/tally';
import { newDatabase, newTopic, testGroup } from './test-support/harness';
import type { TestDatabase, TestTopic } from './test-support/harness';
import { readEvents } from './read-topic';

jest.setTimeout(120_000);

const SCHEMA = 'tally_test';

async function unpublished(ds: DataSource): Promise<number> {
  const { rows } = await sql(ds.manager, `select count(*)::int as n from outbox where published_at is null`);
  return Number(rows[0]?.['n']);
}

describe('outbox and relay', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let testTopic: TestTopic;
  let settings: KafkaSettings;
  let producer: EventLogProducer;
  let sealer: LogSealer;
  let handler: TallyHandler;
  let runner: ProjectionRunner;

  beforeAll(async () => {
    testTopic = await newTopic(3);
    settings = testTopic.settings;
    db = await newDatabase();
    ds = await openTally(db.url, SCHEMA);
    producer = await EventLogProducer.connect(settings, { logger: testLogger() });
    sealer = await sealerFor(settings);
    handler = new TallyHandler();
    runner = new ProjectionRunner({ name: 'outbox-test', groupId: testGroup('outbox-test'), dataSource: ds, schema: SCHEMA, handler, settings, logger: testLogger(), consumer: TEST_TUNING });
    await runner.start();
  });

  afterAll(async () => {
    await runner?.stop();
    await producer?.disconnect();
    await ds?.destroy();
    await db?.drop();
    await testTopic?.drop();
  });

  it('a relay dying after the send and before the mark re-sends; the projection still applies each event once', async () => {
    const events = eventsFor(5, 20, 'relay');
    await ds.transaction((m) => enqueueOutbox(m, sealer, events));
    // Rolled back with its transaction: never published.
    await ds
      .transaction(async (m) => {
        await enqueueOutbox(m, sealer, eventsFor(2, 2, 'rolled-back'));
        throw new Error('caller failed');
      })
      .catch(() => undefined);
    expect(await unpublished(ds)).toBe(20);
    // Sealed when enqueued (ADR 0009, amended): no column of an unpublished row holds a citizen ID.
    const pending = await sql(ds.manager, `select row_to_json(o)::text as line from outbox o where published_at is null`);
    const ids = [...new Set(events.map((e) => e.personKey))];
    expect(pending.rows.filter((r) => ids.some((id) => String(r['line']).includes(id)))).toEqual([]);

    const crashing: OutboxPublisher = {
      appendOutbox: async (batch) => {
        await producer.appendOutbox(batch);
        throw new Error('relay crashed after send');
      },
    };
    const publishedBefore = await metricValue('qmcb_outbox_published_total', { schema: SCHEMA });
    const skippedBefore = await metricValue('qmcb_events_skipped_total', { projection: 'outbox-test' });
    await expect(new OutboxRelay({ dataSource: ds, producer: crashing, schema: SCHEMA, logger: testLogger() }).runOnce()).rejects.toThrow('relay crashed after send');
    expect(await unpublished(ds)).toBe(20);

    const relay = new OutboxRelay({ dataSource: ds, producer, schema: SCHEMA, logger: testLogger() });
    expect(await relay.runOnce()).toBe(20);
    expect(await relay.runOnce()).toBe(0);
    expect(await unpublished(ds)).toBe(0);
    // Published rows keep what the log shows readable (ADR 0009): no citizen ID, no payload left behind.
    const kept = await sql(ds.manager, `select event_id, person_key, event from outbox where event_id = any($1::text[]) order by id`, [events.map((e) => e.eventId)]);
    expect(kept.rows).toEqual(
      events.map((e) => {
        const { personKey: _key, payload: _payload, ...readable } = e;
        return { event_id: e.eventId, person_key: '', event: { ...readable, personRef: sealer.personRef(e.personKey) } };
      }),
    );
    expect(await metricValue('qmcb_outbox_pending', { schema: SCHEMA })).toBe(0);
    expect((await metricValue('qmcb_outbox_published_total', { schema: SCHEMA })) - publishedBefore).toBe(20);

    await runner.waitUntilCaughtUp(30_000);
    const log = await readEvents(settings);
    // Kafka has every event twice...
    expect(log).toHaveLength(40);
    for (const e of events) expect(log.filter((l) => l.eventId === e.eventId)).toHaveLength(2);
    // ...the projection once, in outbox order per person.
    expect(await readTally(ds)).toEqual(expectedTally(events));
    expect((await metricValue('qmcb_events_skipped_total', { projection: 'outbox-test' })) - skippedBefore).toBe(20);
    for (const e of events) expect(handler.calls.get(e.eventId)).toBe(1);
  });

  it('two relays at once publish each row once, in order', async () => {
    const events = eventsFor(4, 40, 'concurrent', 10);
    await ds.transaction((m) => enqueueOutbox(m, sealer, events));
    const relays = [1, 2].map(() => new OutboxRelay({ dataSource: ds, producer, schema: SCHEMA, batchSize: 3, logger: testLogger() }));
    const drain = async (relay: OutboxRelay): Promise<number> => {
      let n = 0;
      while ((await unpublished(ds)) > 0) n += await relay.runOnce();
      return n;
    };
    const counts = await Promise.all(relays.map(drain));
    expect(counts[0]! + counts[1]!).toBe(40);

    await runner.waitUntilCaughtUp(30_000);
    const log = (await readEvents(settings)).filter((e) => e.eventId && events.some((x) => x.eventId === e.eventId));
    expect(log).toHaveLength(40);
    for (let p = 10; p < 14; p += 1) {
      const key = personKey(p);
      expect(log.filter((e) => e.personKey === key).map((e) => e.eventId)).toEqual(events.filter((e) => e.personKey === key).map((e) => e.eventId));
    }
    const tally = await readTally(ds);
    for (let p = 10; p < 14; p += 1) expect(tally[personKey(p)]).toEqual(expectedTally(events)[personKey(p)]);
  });

  it('started relay publishes what is enqueued and stops cleanly', async () => {
    const relay = new OutboxRelay({ dataSource: ds, producer, schema: SCHEMA, pollIntervalMs: 50, logger: testLogger() });
    relay.start();
    try {
      const events = eventsFor(2, 4, 'loop', 20);
      await ds.transaction((m) => enqueueOutbox(m, sealer, events));
      for (let i = 0; i < 100 && (await unpublished(ds)) > 0; i += 1) await new Promise((r) => setTimeout(r, 50));
      expect(await unpublished(ds)).toBe(0);
    } finally {
      await relay.stop();
    }
  });

  it('emitted events apply at once (live), go out through the outbox and are skipped when they come back', async () => {
    const person = personKey(30);
    const trigger = taskEvent(person, 1, 'trigger');
    const followUp = taskEvent(person, 2, 'follow-up');
    handler.emitFor = (e) => (e.eventId === trigger.eventId ? [followUp] : []);
    try {
      await producer.append([trigger]);
      await runner.waitUntilCaughtUp(30_000);
      // applied live, in the same transaction as its cause
      expect((await readTally(ds))[person]).toEqual([trigger.eventId, followUp.eventId]);
      const queued = await sql(ds.manager, `select event_id, person_key from outbox where published_at is null`);
      expect(queued.rows).toEqual([{ event_id: followUp.eventId, person_key: sealer.personRef(person) }]);

      const skippedBefore = await metricValue('qmcb_events_skipped_total', { projection: 'outbox-test' });
      expect(await new OutboxRelay({ dataSource: ds, producer, schema: SCHEMA, logger: testLogger() }).runOnce()).toBe(1);
      await runner.waitUntilCaughtUp(30_000);
      expect((await readTally(ds))[person]).toEqual([trigger.eventId, followUp.eventId]);
      expect((await metricValue('qmcb_events_skipped_total', { projection: 'outbox-test' })) - skippedBefore).toBe(1);
      expect(handler.calls.get(followUp.eventId)).toBe(1);
    } finally {
      handler.emitFor = undefined;
    }
  });

  it('commitDecisions applies in the caller transaction, once; the consumer skips the event later', async () => {
    const person = personKey(40);
    const decided = taskEvent(person, 1, 'decided');
    const results = await ds.transaction(async (m) => [await commitDecisions(m, handler, [decided], sealer), await commitDecisions(m, handler, [decided], sealer)]);
    expect(results.map((applied) => applied.map((e) => e.eventId))).toEqual([[decided.eventId], []]);
    await expect(commitDecisions(ds.manager, handler, [decided], sealer)).rejects.toThrow('transactional');
    expect((await readTally(ds))[person]).toEqual([decided.eventId]);

    expect(await new OutboxRelay({ dataSource: ds, producer, schema: SCHEMA, logger: testLogger() }).runOnce()).toBe(1);
    await runner.waitUntilCaughtUp(30_000);
    expect((await readTally(ds))[person]).toEqual([decided.eventId]);
    expect(handler.calls.get(decided.eventId)).toBe(1);
  });

  it('refuses an invalid event before anything is enqueued', async () => {
    const good = taskEvent(personKey(50), 1, 'refused');
    const bad = { ...good, eventId: 'x2', personKey: 'nobody' } as RegistrationEvent;
    await expect(ds.transaction((m) => enqueueOutbox(m, sealer, [good, bad]))).rejects.toMatchObject({ violations: [expect.objectContaining({ field: 'personKey' })] });
    const { rows } = await sql(ds.manager, `select 1 from outbox where event_id = $1`, [good.eventId]);
    expect(rows).toHaveLength(0);
  });
});
