import type { RegistrationEvent } from '@qmcb/contracts';
import type { DataSource } from 'typeorm';
import { metricValue } from './metrics';
import { EventLogProducer } from './producer';
import { ProjectionRunner } from './runner';
import type { KafkaSettings } from './settings';
import { eventsFor, expectedTally, openTally, readTally, TallyHandler, TEST_TUNING, testLogger } from './test-support/tally';
import { newDatabase, newTopic, testGroup } from './test-support/harness';
import type { TestDatabase, TestTopic } from './test-support/harness';
import { readEvents } from './read-topic';

jest.setTimeout(120_000);

describe('ProjectionRunner', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let testTopic: TestTopic;
  let settings: KafkaSettings;
  let producer: EventLogProducer;

  beforeAll(async () => {
    testTopic = await newTopic(3);
    settings = testTopic.settings;
    db = await newDatabase();
    ds = await openTally(db.url);
    producer = await EventLogProducer.connect(settings, { logger: testLogger() });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await ds?.destroy();
    await db?.drop();
    await testTopic?.drop();
  });

  it('applies events across persons exactly once, per person in log order; duplicates are skipped and counted', async () => {
    const handler = new TallyHandler();
    const runner = new ProjectionRunner({
      name: 'runner-test', groupId: testGroup('runner-test'),
      dataSource: ds,
      schema: 'tally_test',
      handler,
      settings,
      logger: testLogger(),
      consumer: TEST_TUNING,
    });
    const first = eventsFor(7, 120, 'a');
    await producer.append(first.slice(0, 60));
    await runner.start();
    try {
      await producer.append(first.slice(60));
      await runner.waitUntilCaughtUp(30_000);

      // (a) exactly those rows, per-person order = log order
      const log = await readEvents(settings);
      expect(log).toHaveLength(120);
      expect(await readTally(ds)).toEqual(expectedTally(log));
      expect(Object.keys(await readTally(ds))).toHaveLength(7);
      for (const [, seq] of Object.entries(await readTally(ds))) {
        const inLog = log.map((e) => e.eventId).filter((id) => seq.includes(id));
        expect(seq).toEqual(inLog);
      }
      expect(await runner.lag()).toEqual({ 0: 0, 1: 0, 2: 0 });
      expect(await metricValue('qmcb_consumer_lag', { projection: 'runner-test', partition: '0' })).toBe(0);

      // (d) the same envelopes delivered again: applied once, the duplicates counted as skipped
      const skippedBefore = await metricValue('qmcb_events_skipped_total', { projection: 'runner-test' });
      const appliedBefore = await metricValue('qmcb_events_applied_total', { projection: 'runner-test' });
      const again: RegistrationEvent[] = first.slice(10, 40);
      await producer.append(again);
      const more = eventsFor(7, 5, 'b');
      await producer.append(more);
      await runner.waitUntilCaughtUp(30_000);

      const fullLog = await readEvents(settings);
      expect(fullLog).toHaveLength(155);
      const tally = await readTally(ds);
      expect(tally).toEqual(expectedTally(fullLog));
      expect(Object.values(tally).flat()).toHaveLength(125);
      expect((await metricValue('qmcb_events_skipped_total', { projection: 'runner-test' })) - skippedBefore).toBe(30);
      expect((await metricValue('qmcb_events_applied_total', { projection: 'runner-test' })) - appliedBefore).toBe(5);
      for (const e of again) expect(handler.calls.get(e.eventId)).toBe(1);
      const applied: { n: number }[] = await ds.query('select count(*)::int as n from applied_event');
      expect(applied[0]?.n).toBe(125);
    } finally {
      await runner.stop();
    }
  });

  it('a restarted runner resumes from the PostgreSQL checkpoint, not from scratch', async () => {
    const handler = new TallyHandler();
    const runner = new ProjectionRunner({
      name: 'runner-test', groupId: testGroup('runner-test'),
      dataSource: ds,
      schema: 'tally_test',
      handler,
      settings,
      logger: testLogger(),
      consumer: TEST_TUNING,
    });
    await runner.start();
    try {
      const next = eventsFor(3, 9, 'c');
      await producer.append(next);
      await runner.waitUntilCaughtUp(30_000);
      expect(handler.totalCalls).toBe(9);
      expect(await readTally(ds)).toEqual(expectedTally(await readEvents(settings)));
    } finally {
      await runner.stop();
    }
  });
});
