import type { DataSource } from 'typeorm';
import { commitDecisions } from './apply';
import { quoteIdent } from './database';
import { OutboxRelay } from './outbox';
import { EventLogProducer } from './producer';
import { rebuildProjection } from './rebuild';
import { sealerFor } from './seal';
import { ProjectionRunner } from './runner';
import type { KafkaSettings } from './settings';
import { sql } from './sql';
import type { Row } from './sql';
import { eventsFor, expectedTally, openTally, personKey, readTally, TallyHandler, taskEvent, tallyMigrations, TEST_TUNING, testLogger } from './test-support/tally';
import { newDatabase, newTopic, testGroup } from './test-support/harness';
import type { TestDatabase, TestTopic } from './test-support/harness';
import { readEvents } from './read-topic';

jest.setTimeout(120_000);

const SCHEMA = 'rebuild_live';

async function tables(ds: DataSource, schema: string): Promise<Record<string, Row[]>> {
  const q = quoteIdent(schema);
  const read = async (text: string): Promise<Row[]> => (await sql(ds.manager, text)).rows;
  return {
    tally: await read(`select person_key, events, last_event_id, seq from ${q}.tally order by person_key`),
    applied: await read(`select event_id, partition, "offset" from ${q}.applied_event order by event_id`),
    checkpoint: await read(`select topic, partition, next_offset from ${q}.projection_checkpoint order by topic, partition`),
    outbox: await read(`select event_id, person_key, event, published_at is null as pending from ${q}.outbox order by id`),
    migrations: await read(`select timestamp, name from ${q}.migrations order by id`),
  };
}

describe('rebuildProjection', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let testTopic: TestTopic;
  let settings: KafkaSettings;
  let producer: EventLogProducer;
  let live: TallyHandler;
  let runner: ProjectionRunner;

  beforeAll(async () => {
    testTopic = await newTopic(3);
    settings = testTopic.settings;
    db = await newDatabase();
    ds = await openTally(db.url, SCHEMA);
    producer = await EventLogProducer.connect(settings, { logger: testLogger() });
    live = new TallyHandler();
    runner = new ProjectionRunner({ name: 'rebuild-test', groupId: testGroup('rebuild-test'), dataSource: ds, schema: SCHEMA, handler: live, settings, logger: testLogger(), consumer: TEST_TUNING });
    await runner.start();
  });

  afterAll(async () => {
    await runner?.stop();
    await producer?.disconnect();
    await ds?.destroy();
    await db?.drop();
    await testTopic?.drop();
  });

  it('rebuilds while the live runner keeps serving and events keep arriving, swaps in, and the runner continues', async () => {
    await producer.append(eventsFor(8, 80, 'before'));
    await runner.waitUntilCaughtUp(30_000);
    // A decision applied over "HTTP" and still in the outbox when the rebuild swaps.
    const decided = taskEvent(personKey(50), 1, 'decided');
    const sealer = await sealerFor(settings);
    await ds.transaction((m) => commitDecisions(m, live, [decided], sealer));

    const rebuilder = new TallyHandler();
    rebuilder.delayMs = 10;
    const progress: { applied: number; total: number }[] = [];
    const rebuilding = rebuildProjection({
      dataSource: ds,
      schema: SCHEMA,
      migrations: tallyMigrations(),
      handler: rebuilder,
      settings,
      name: 'rebuild-test',
      logger: testLogger(),
      consumer: TEST_TUNING,
      onProgress: (p) => progress.push(p),
    });
    let done = false;
    const result = rebuilding.finally(() => (done = true));
    // Events arrive during the rebuild; the live runner applies them to the live schema.
    let chunk = 0;
    while (!done || chunk < 3) {
      await producer.append(eventsFor(8, 4, `during-${chunk}`));
      chunk += 1;
      await new Promise((r) => setTimeout(r, 150));
    }
    const { applied, oldSchema } = await result;
    expect(oldSchema).toMatch(/^rebuild_live__old_\d+$/);
    expect(applied).toBeGreaterThanOrEqual(80);
    expect(progress.at(-1)?.total).toBeGreaterThanOrEqual(80);
    expect(progress.at(-1)?.applied).toBeGreaterThanOrEqual(80);

    // The old schema is the live projection as it was at the swap; nothing writes to it any more.
    const atSwap = await readTally(ds, oldSchema);
    const oldTables = await tables(ds, oldSchema);
    expect(oldTables.outbox).toEqual([expect.objectContaining({ event_id: decided.eventId, pending: true })]);
    // The swapped-in schema carried the unpublished outbox row over.
    const swappedOutbox = (await tables(ds, SCHEMA)).outbox;
    expect(swappedOutbox.map((r) => [r['event_id'], r['pending']])).toEqual([[decided.eventId, true]]);

    // The runner goes on, on the new schema: the relay publishes the decision, more events arrive.
    expect(await new OutboxRelay({ dataSource: ds, producer, schema: SCHEMA, logger: testLogger() }).runOnce()).toBe(1);
    const after = eventsFor(8, 16, 'after');
    await producer.append(after);
    await runner.waitUntilCaughtUp(30_000);

    const log = await readEvents(settings);
    const final = await readTally(ds);
    expect(final).toEqual(expectedTally(log));
    // What the live one had at the swap, plus the new events, per person in log order.
    for (const [person, seq] of Object.entries(atSwap)) {
      expect(final[person]?.slice(0, seq.length)).toEqual(seq);
    }
    expect(final[personKey(50)]).toEqual([decided.eventId]);
    for (const e of after) expect(live.calls.get(e.eventId)).toBe(1);
    const ids = (await tables(ds, SCHEMA)).applied.map((r) => r['event_id']);
    expect(ids).toHaveLength(new Set(log.map((e) => e.eventId)).size);
    await sql(ds.manager, `drop schema ${quoteIdent(oldSchema)} cascade`);
  });

  it('a rebuilt projection equals the live one, table for table', async () => {
    await producer.append(eventsFor(5, 20, 'quiet'));
    await new OutboxRelay({ dataSource: ds, producer, schema: SCHEMA, logger: testLogger() }).runOnce();
    await runner.waitUntilCaughtUp(30_000);
    const before = await tables(ds, SCHEMA);

    const { oldSchema } = await rebuildProjection({
      dataSource: ds,
      schema: SCHEMA,
      migrations: tallyMigrations(),
      handler: new TallyHandler(),
      settings,
      name: 'rebuild-test',
      logger: testLogger(),
      consumer: TEST_TUNING,
    });
    const rebuilt = await tables(ds, SCHEMA);
    expect(await tables(ds, oldSchema)).toEqual(before);
    // applied_event positions differ only for the decision that was applied before it was on the log.
    const position = (rows: Row[]): Row[] => rows.map((r) => ({ event_id: r['event_id'] }));
    expect({ ...rebuilt, applied: position(rebuilt.applied), outbox: [] }).toEqual({ ...before, applied: position(before.applied), outbox: [] });
    expect(rebuilt.outbox).toEqual([]);

    await producer.append(eventsFor(5, 5, 'after-second'));
    await runner.waitUntilCaughtUp(30_000);
    expect(await readTally(ds)).toEqual(expectedTally(await readEvents(settings)));
    await sql(ds.manager, `drop schema ${quoteIdent(oldSchema)} cascade`);
  });
});
