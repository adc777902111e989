import type { RegistrationEvent } from '@qmcb/contracts';
import type { DataSource } from 'typeorm';
import { EventLogProducer } from './producer';
import { rebuildProjection } from './rebuild';
import { ProjectionRunner } from './runner';
import { TallyHandler, openTally, personKey, tallyMigrations, taskEvent, TEST_TUNING, testLogger } from './test-support/tally';
import { newDatabase, newTopic, testGroup } from './test-support/harness';
import type { TestDatabase, TestTopic } from './test-support/harness';

jest.setTimeout(180_000);

/** What `synchronous_commit` each event's transaction had when the handler applied it. */
function recordingHandler(): { handler: TallyHandler; seen: Map<string, string> } {
  const handler = new TallyHandler();
  const seen = new Map<string, string>();
  handler.before = async (event, ctx) => {
    const rows = (await ctx.manager.query('show synchronous_commit')) as { synchronous_commit: string }[];
    seen.set(event.eventId, rows[0]?.synchronous_commit ?? '(none)');
  };
  return { handler, seen };
}

/**
 * With asyncCommit (a rebuild always; a live runner only when asked: it is off by default, runner.ts),
 * consumer batches commit without waiting for the WAL flush (their checkpoint is lost with them in a
 * PostgreSQL crash), except a batch that wrote to the outbox, whose rows the relay publishes once
 * committed (sql.ts, commitAsynchronously).
 */
describe('asynchronous commit of consumer batches', () => {
  let db: TestDatabase;
  let topic: TestTopic;
  let producer: EventLogProducer;

  beforeAll(async () => {
    topic = await newTopic(3);
    db = await newDatabase();
    producer = await EventLogProducer.connect(topic.settings, { logger: testLogger() });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await db?.drop();
    await topic?.drop();
  });

  const causes = Array.from({ length: 20 }, (_, i) => taskEvent(personKey(400 + i), 1, 'async-cause'));
  const followUp = (e: RegistrationEvent): RegistrationEvent => taskEvent(e.personKey, 2, 'async-follow-up');
  const plain = Array.from({ length: 20 }, (_, i) => taskEvent(personKey(500 + i), 1, 'async-plain'));
  const emitFor = (e: RegistrationEvent): RegistrationEvent[] => (causes.some((c) => c.eventId === e.eventId) ? [followUp(e)] : []);

  async function runLive(ds: DataSource, schema: string, name: string, asyncCommit: boolean | undefined): Promise<Map<string, string>> {
    const { handler, seen } = recordingHandler();
    handler.emitFor = emitFor;
    const runner = new ProjectionRunner({
      name,
      groupId: testGroup(name),
      dataSource: ds,
      schema,
      handler,
      settings: topic.settings,
      logger: testLogger(),
      consumer: TEST_TUNING,
      ...(asyncCommit === undefined ? {} : { asyncCommit }),
    });
    await runner.start();
    try {
      await runner.waitUntilCaughtUp(60_000);
    } finally {
      await runner.stop();
    }
    return seen;
  }

  it('live with asyncCommit: off for a batch that emits nothing and until a batch writes to the outbox, on from then; by default on throughout; a rebuild off throughout', async () => {
    // Causes and plain events in separate appends, so no batch holds both.
    await producer.append(causes);
    await producer.append(plain);
    const ds = await openTally(db.url, 'async_live');
    const sync = await openTally(db.url, 'async_sync');
    try {
      const live = await runLive(ds, 'async_live', 'async-live', true);
      expect(live.size).toBe(60);
      for (const c of causes) expect([c.eventId, live.get(c.eventId)]).toEqual([c.eventId, 'off']);
      // The follow-ups are applied after their outbox insert, in the same transaction.
      for (const c of causes) expect([followUp(c).eventId, live.get(followUp(c).eventId)]).toEqual([followUp(c).eventId, 'on']);
      for (const p of plain) expect([p.eventId, live.get(p.eventId)]).toEqual([p.eventId, 'off']);

      // The default: synchronous (a PostgreSQL crash must not leave a quiet partition's gap behind).
      const synchronous = await runLive(sync, 'async_sync', 'async-sync', undefined);
      expect(synchronous.size).toBe(60);
      expect(new Set(synchronous.values())).toEqual(new Set(['on']));

      // A rebuild emits nothing (the follow-ups are not on the log: none were relayed): off throughout.
      const { handler, seen } = recordingHandler();
      handler.emitFor = emitFor;
      await rebuildProjection({ dataSource: ds, schema: 'async_live', migrations: tallyMigrations(), handler, settings: topic.settings, name: 'async-live', logger: testLogger(), consumer: TEST_TUNING });
      expect(seen.size).toBe(40);
      expect(new Set(seen.values())).toEqual(new Set(['off']));
    } finally {
      await ds.destroy();
      await sync.destroy();
    }
  });
});
