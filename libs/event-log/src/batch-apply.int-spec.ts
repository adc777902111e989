import type { RegistrationEvent } from '@qmcb/contracts';
import type { Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { quoteIdent } from './database';
import { metricValue } from './metrics';
import { OutboxRelay } from './outbox';
import { connectProducer, EventLogProducer, sendAcked } from './producer';
import { readEvents, readTopic } from './read-topic';
import { rebuildProjection } from './rebuild';
import { ProjectionRunner } from './runner';
import { createKafka } from './settings';
import type { KafkaSettings } from './settings';
import { sql } from './sql';
import { TallyHandler, eventsFor, expectedTally, openTally, personKey, readTally, taskEvent, tallyMigrations, TEST_TUNING, testLogger } from './test-support/tally';
import { newDatabase, newTopic, testGroup } from './test-support/harness';
import type { TestDatabase, TestTopic } from './test-support/harness';

jest.setTimeout(180_000);

/** Chunked apply (ADR 0001, ADR 0003): one handler call per chunk, poison isolated by halving, emit in the same transaction. */
describe('batch apply', () => {
  let db: TestDatabase;
  let testTopic: TestTopic;
  let settings: KafkaSettings;
  let producer: EventLogProducer;

  beforeAll(async () => {
    testTopic = await newTopic(3);
    settings = testTopic.settings;
    db = await newDatabase();
    producer = await EventLogProducer.connect(settings, { logger: testLogger() });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await db?.drop();
    await testTopic?.drop();
  });

  function runnerFor(ds: DataSource, schema: string, handler: TallyHandler, name: string, extra: Partial<ConstructorParameters<typeof ProjectionRunner>[0]> = {}): ProjectionRunner {
    return new ProjectionRunner({
      name,
      groupId: testGroup(name),
      dataSource: ds,
      schema,
      handler,
      settings,
      logger: testLogger(),
      consumer: { ...TEST_TUNING, applyBatchSize: 40 },
      ...extra,
    });
  }

  it('applies chunks in one call each, exactly once and per person in log order; duplicates within and across batches are skipped and counted', async () => {
    const ds = await openTally(db.url, 'batch_order');
    const handler = new TallyHandler();
    const first = eventsFor(7, 300, 'ba');
    // Duplicates inside what one batch will fetch: the same envelope twice in a row.
    await producer.append([...first.slice(0, 150), ...first.slice(100, 120), ...first.slice(150)]);
    const runner = runnerFor(ds, 'batch_order', handler, 'batch-order');
    const skippedBefore = await metricValue('qmcb_events_skipped_total', { projection: 'batch-order' });
    const appliedBefore = await metricValue('qmcb_events_applied_total', { projection: 'batch-order' });
    await runner.start();
    try {
      await runner.waitUntilCaughtUp(60_000);
      // and again, across batches, beside new events
      const more = eventsFor(7, 30, 'bb');
      await producer.append([...first.slice(0, 50), ...more]);
      await runner.waitUntilCaughtUp(60_000);

      const log = await readEvents(settings);
      expect(log).toHaveLength(400);
      const tally = await readTally(ds);
      expect(tally).toEqual(expectedTally(log));
      expect(Object.values(tally).flat()).toHaveLength(330);
      expect((await metricValue('qmcb_events_applied_total', { projection: 'batch-order' })) - appliedBefore).toBe(330);
      expect((await metricValue('qmcb_events_skipped_total', { projection: 'batch-order' })) - skippedBefore).toBe(70);
      // Every event reached the handler exactly once, in calls of up to applyBatchSize.
      expect(handler.totalCalls).toBe(330);
      for (const e of [...first, ...more]) expect(handler.calls.get(e.eventId)).toBe(1);
      expect(Math.max(...handler.batches)).toBeLessThanOrEqual(40);
      expect(handler.batches.length).toBeLessThan(330 / 2);
      const applied: { n: number }[] = await ds.query('select count(*)::int as n from applied_event');
      expect(applied[0]?.n).toBe(330);
    } finally {
      await runner.stop();
      await ds.destroy();
    }
  });

  it('a chunk whose handler call fails is applied in halves down to the failing event, which alone is retried and dead-lettered; contract violations too; the partition goes on', async () => {
    const topic = await newTopic(1);
    const ds = await openTally(db.url, 'batch_dlq');
    const own = await EventLogProducer.connect(topic.settings, { logger: testLogger() });
    const raw: Producer = await connectProducer(createKafka(topic.settings, testLogger()));
    const person = personKey(1);
    const failing = taskEvent(person, 3, 'bpoison');
    const flaky = taskEvent(personKey(2), 4, 'bpoison');
    const invalid = taskEvent(person, 2, 'bpoison');
    const before = eventsFor(3, 20, 'bpre');
    const after = eventsFor(3, 20, 'bpost');
    try {
      await own.append(before);
      await sendAcked(raw, topic.topic, [
        { key: person, value: Buffer.from('{"eventId": "half') },
        { key: person, value: Buffer.from(JSON.stringify({ ...invalid, payload: { ...invalid.payload, villageCode: 'nowhere' } })), headers: { 'event-id': invalid.eventId } },
      ]);
      await own.append([failing, flaky, ...after]);
      const handler = new TallyHandler();
      handler.failing.add(failing.eventId);
      handler.flaky.set(flaky.eventId, 1);
      const fallbacksBefore = await metricValue('qmcb_chunk_splits_total', { projection: 'batch-dlq' });
      const runner = new ProjectionRunner({
        name: 'batch-dlq',
        groupId: testGroup('batch-dlq'),
        dataSource: ds,
        schema: 'batch_dlq',
        handler,
        settings: topic.settings,
        maxAttempts: 3,
        logger: testLogger(),
        consumer: { ...TEST_TUNING, applyBatchSize: 10 },
      });
      await runner.start();
      try {
        await runner.waitUntilCaughtUp(60_000);
      } finally {
        await runner.stop();
      }
      const dlq = await readTopic(topic.settings, runner.deadLetterTopic);
      expect(dlq.map((d) => d.headers['reason']?.replace(/:.*/, ''))).toEqual(['contract', 'contract', 'handler']);
      expect(dlq[1]?.headers['reason']).toMatch(/payload\.villageCode \(matches\)/);
      expect(dlq[2]?.headers['reason']).toBe(`handler: Error: tally refuses ${failing.eventId}`);
      expect(dlq[2]?.headers['attempts']).toBe('3');
      const { rows } = await sql(ds.manager, `select "offset", attempts from dead_letter order by id`);
      expect(rows.map((r) => [r['offset'], r['attempts']])).toEqual(dlq.map((d) => [d.headers['original-offset'], Number(d.headers['attempts'])]));
      // on its own: three attempts of the failing event, the flaky one once more and then applied
      expect(handler.alone.get(failing.eventId)).toBe(3);
      expect(handler.alone.get(flaky.eventId)).toBe(2);
      expect(await readTally(ds)).toEqual(expectedTally([...before, flaky, ...after]));
      expect((await metricValue('qmcb_chunk_splits_total', { projection: 'batch-dlq' })) - fallbacksBefore).toBeGreaterThanOrEqual(1);
      // The events of chunks without the failing ones were applied in one call, never on their own.
      expect([...before, ...after].some((e) => !handler.alone.has(e.eventId))).toBe(true);
    } finally {
      await raw.disconnect();
      await own.disconnect();
      await ds.destroy();
      await topic.drop();
    }
  });

  it('emit: one outbox insert, marked applied and applied through the handler after its cause; skipped when relayed back; a rebuild equals the live projection', async () => {
    const topic = await newTopic(3);
    const schema = 'batch_emit';
    const ds = await openTally(db.url, schema);
    const own = await EventLogProducer.connect(topic.settings, { logger: testLogger() });
    const causes = Array.from({ length: 60 }, (_, i) => taskEvent(personKey(100 + i), 1, 'cause'));
    const followUp = (e: RegistrationEvent): RegistrationEvent => taskEvent(e.personKey, 2, 'follow-up');
    const handler = new TallyHandler();
    handler.emitFor = (e) => (e.eventId.length > 0 && causes.some((c) => c.eventId === e.eventId) ? [followUp(e)] : []);
    const runner = new ProjectionRunner({
      name: 'batch-emit',
      groupId: testGroup('batch-emit'),
      dataSource: ds,
      schema,
      handler,
      settings: topic.settings,
      logger: testLogger(),
      consumer: { ...TEST_TUNING, applyBatchSize: 25 },
    });
    await runner.start();
    try {
      await own.append(causes);
      await runner.waitUntilCaughtUp(60_000);
      const expected = Object.fromEntries(causes.map((c) => [c.personKey, [c.eventId, followUp(c).eventId]]));
      expect(await readTally(ds)).toEqual(expected);
      const queued = await sql(ds.manager, `select event_id from outbox where published_at is null order by id`);
      expect(queued.rows.map((r) => r['event_id']).sort()).toEqual(causes.map((c) => followUp(c).eventId).sort());
      const marked = await sql(ds.manager, `select count(*)::int as n from applied_event where partition is null`);
      expect(marked.rows[0]?.['n']).toBe(60);

      const skippedBefore = await metricValue('qmcb_events_skipped_total', { projection: 'batch-emit' });
      const relay = new OutboxRelay({ dataSource: ds, producer: own, schema, logger: testLogger() });
      while ((await relay.runOnce()) > 0);
      await runner.waitUntilCaughtUp(60_000);
      expect(await readTally(ds)).toEqual(expected);
      expect((await metricValue('qmcb_events_skipped_total', { projection: 'batch-emit' })) - skippedBefore).toBe(60);
      for (const c of causes) expect(handler.calls.get(followUp(c).eventId)).toBe(1);

      // A rebuild applies the follow-ups from the log (emit does nothing there) and equals the live tally.
      const rebuilt = new TallyHandler();
      rebuilt.emitFor = handler.emitFor;
      await rebuildProjection({ dataSource: ds, schema, migrations: tallyMigrations(), handler: rebuilt, settings: topic.settings, name: 'batch-emit', logger: testLogger(), consumer: { ...TEST_TUNING, applyBatchSize: 25 } });
      expect(await readTally(ds, schema)).toEqual(expected);
      for (const c of causes) expect(rebuilt.calls.get(followUp(c).eventId)).toBe(1);
      const outbox = await sql(ds.manager, `select count(*)::int as n from ${quoteIdent(schema)}.outbox`);
      expect(outbox.rows[0]?.['n']).toBe(0);
    } finally {
      await runner.stop();
      await own.disconnect();
      await ds.destroy();
      await topic.drop();
    }
  });
});
