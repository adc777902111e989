import type { DataSource } from 'typeorm';
import { EventLogProducer } from './producer';
import { ProjectionRunner } from './runner';
import { withAdmin } from './settings';
import type { KafkaSettings } from './settings';
import { eventsFor, expectedTally, openTally, personKey, readTally, TallyHandler, taskEvent, TEST_TUNING, testLogger } from './test-support/tally';
import { newDatabase, newTopic, testGroup } from './test-support/harness';
import type { TestDatabase, TestTopic } from './test-support/harness';
import { readEvents } from './read-topic';

jest.setTimeout(120_000);

async function members(settings: KafkaSettings, groupId: string): Promise<string[]> {
  const { groups } = await withAdmin(settings, (admin) => admin.describeGroups([groupId]));
  return groups.flatMap((g) => g.members.map((m) => m.memberId));
}

describe('a batch longer than the session timeout', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let testTopic: TestTopic;
  let settings: KafkaSettings;

  beforeAll(async () => {
    testTopic = await newTopic(1);
    settings = testTopic.settings;
    db = await newDatabase();
    ds = await openTally(db.url);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
    await testTopic?.drop();
  });

  it('keeps heartbeating through slow handlers and retry backoff: no rebalance, no duplicate apply', async () => {
    const slow = eventsFor(3, 12, 'slow');
    const flaky = taskEvent(personKey(1), 99, 'flaky');
    const producer = await EventLogProducer.connect(settings, { logger: testLogger() });
    try {
      await producer.append([...slow.slice(0, 6), flaky, ...slow.slice(6)]);
    } finally {
      await producer.disconnect();
    }
    const handler = new TallyHandler();
    handler.delayMs = 300;
    // Fails twice, then succeeds: 2 s + 4 s of backoff inside the batch.
    handler.flaky.set(flaky.eventId, 2);
    const runner = new ProjectionRunner({
      name: 'heartbeat-test', groupId: testGroup('heartbeat-test'),
      dataSource: ds,
      schema: 'tally_test',
      handler,
      settings,
      logger: testLogger(),
      // The broker's minimum session timeout; the batch below takes about 11 s. One event per handler
      // call, so each event's calls are its attempts (chunks that fail are split: batch-apply.int-spec).
      consumer: { ...TEST_TUNING, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, applyBatchSize: 1, retryBackoffMs: 2_000 },
    });
    const started = Date.now();
    await runner.start();
    try {
      await runner.waitUntilCaughtUp(60_000);
      const took = Date.now() - started;
      expect(took).toBeGreaterThan(6_000 + 2_000);

      const log = await readEvents(settings);
      expect(await readTally(ds)).toEqual(expectedTally(log));
      for (const e of slow) expect(handler.calls.get(e.eventId)).toBe(1);
      expect(handler.calls.get(flaky.eventId)).toBe(3);
      // Still the member that joined first.
      expect(runner.groupJoins).toBe(1);
      expect(await members(settings, testGroup('heartbeat-test'))).toHaveLength(1);
    } finally {
      await runner.stop();
    }
  });
  it('keeps heartbeating while one handler call runs longer than the session timeout', async () => {
    const own = await newTopic(1);
    const tally = await openTally(db.url, 'tally_long_call');
    const events = eventsFor(4, 30, 'long');
    const producer = await EventLogProducer.connect(own.settings, { logger: testLogger() });
    try {
      await producer.append(events);
    } finally {
      await producer.disconnect();
    }
    const handler = new TallyHandler();
    handler.delayMs = 300;
    const runner = new ProjectionRunner({
      name: 'heartbeat-long-call', groupId: testGroup('heartbeat-long-call'),
      dataSource: tally,
      schema: 'tally_long_call',
      handler,
      settings: own.settings,
      logger: testLogger(),
      // 30 events of 300 ms in one call: about 9 s, half as long again as the session timeout.
      consumer: { ...TEST_TUNING, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, applyBatchSize: 1_000 },
    });
    await runner.start();
    try {
      await runner.waitUntilCaughtUp(60_000);
      expect(handler.batches).toEqual([30]);
      expect(await readTally(tally)).toEqual(expectedTally(events));
      for (const e of events) expect(handler.calls.get(e.eventId)).toBe(1);
      expect(runner.groupJoins).toBe(1);
      expect(await members(own.settings, testGroup('heartbeat-long-call'))).toHaveLength(1);
    } finally {
      await runner.stop();
      await tally.destroy();
      await own.drop();
    }
  });
});
