import type { Batch, KafkaMessage } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { commitDecisions, emittedHere } from './apply';
import { BatchProcessor } from './batch';
import { HEADER } from './producer';
import { sealerFor } from './seal';
import type { LogSealer } from './seal';
import { sql } from './sql';
import { openTally, personKey, TallyHandler, taskEvent, testLogger } from './test-support/tally';
import { newDatabase, newTopic } from './test-support/harness';
import type { TestDatabase, TestTopic } from './test-support/harness';

jest.setTimeout(120_000);

/**
 * The consumer skips this process's own emitted events when they come back from the log, without
 * opening them (batch.ts, ownEventsApplied): only those whose ID this schema has applied. Whatever
 * else arrives, above all a message from outside that claims such an ID, is opened and checked.
 */
describe("a process's own emitted events back from the log", () => {
  let db: TestDatabase;
  let ds: DataSource;
  let testTopic: TestTopic;
  let sealer: LogSealer;

  beforeAll(async () => {
    testTopic = await newTopic(1);
    db = await newDatabase();
    ds = await openTally(db.url);
    sealer = await sealerFor(testTopic.settings);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
    await testTopic?.drop();
  });

  const message = (offset: number, value: Buffer, eventId: string): KafkaMessage => ({
    key: Buffer.from('k'),
    value,
    offset: String(offset),
    timestamp: '0',
    attributes: 0,
    headers: { [HEADER.eventId]: eventId },
  });

  it('skips those applied here unopened; opens and checks everything else, and refuses what breaks its contract', async () => {
    const handler = new TallyHandler();
    // Emitted and applied here (an HTTP decision): in the outbox, in applied_event, in the hint.
    const emitted = taskEvent(personKey(1), 1, 'own-events');
    await ds.transaction((m) => commitDecisions(m, handler, [emitted], sealer));
    // Emitted in a transaction that rolled back: in the hint, not applied.
    const rolledBack = taskEvent(personKey(2), 2, 'own-events');
    await expect(
      ds.transaction(async (m) => {
        await commitDecisions(m, handler, [rolledBack], sealer);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(emittedHere.has(emitted.eventId) && emittedHere.has(rolledBack.eventId)).toBe(true);
    const fresh = taskEvent(personKey(3), 3, 'own-events');
    const callsBefore = handler.calls.get(emitted.eventId);

    const sealed = async (e: typeof emitted): Promise<Buffer> => {
      const { sealed: [one] } = await sealer.seal([e]);
      if (!one) throw new Error('not sealed');
      return one.value;
    };
    const emittedValue = await sealed(emitted);
    // The same event ID, its sealed part altered: it would not open.
    const outer = JSON.parse(emittedValue.toString()) as { sealed: string };
    const altered = Buffer.from(JSON.stringify({ ...outer, sealed: `${outer.sealed.slice(0, -4)}AAAA` }));
    // From outside: claims the applied ID in its header, carries another event that breaks its contract.
    const intruder = taskEvent(personKey(4), 4, 'own-events');
    const invalid = Buffer.from(JSON.stringify({ ...intruder, payload: { ...intruder.payload, villageCode: 'nowhere' } }));
    const messages = [
      message(0, emittedValue, emitted.eventId),
      message(1, altered, emitted.eventId),
      message(2, invalid, emitted.eventId),
      message(3, await sealed(rolledBack), rolledBack.eventId),
      message(4, await sealed(fresh), fresh.eventId),
    ];
    const topic = `own.events.${testTopic.topic}`;
    const batch = {
      topic,
      partition: 0,
      highWatermark: '5',
      messages,
      fetchedOffset: '0',
      isEmpty: () => false,
      firstOffset: () => '0',
      lastOffset: () => '4',
      offsetLag: () => '0',
      offsetLagLow: () => '0',
    } satisfies Batch & { fetchedOffset: string };
    const processor = new BatchProcessor({
      projection: 'own-events',
      dataSource: ds,
      schema: 'tally_test',
      handler,
      topic,
      rebuilding: false,
      maxAttempts: 1,
      backoffMs: () => 1,
      startOffset: async () => 0n,
      lowWatermark: async () => 0n,
      sealer,
      logger: testLogger(),
    });

    await expect(processor.process(batch, { heartbeat: async () => undefined, shouldStop: () => false })).resolves.toMatchObject({
      kind: 'done',
      nextOffset: 5n,
      applied: 2,
      skipped: 2,
      deadLettered: 1,
    });
    // The applied one reached the handler once only (when emitted); the rolled-back one and the new one now.
    expect(handler.calls.get(emitted.eventId)).toBe(callsBefore);
    const { rows: applied } = await sql(ds.manager, `select event_id, "offset" from applied_event where event_id = any($1::text[]) order by event_id`, [
      [emitted.eventId, rolledBack.eventId, fresh.eventId, intruder.eventId],
    ]);
    expect(Object.fromEntries(applied.map((r) => [r['event_id'], r['offset']]))).toEqual({
      [emitted.eventId]: null,
      [rolledBack.eventId]: '3',
      [fresh.eventId]: '4',
    });
    // The message from outside was opened and checked, though its header named an applied ID.
    const { rows: dead } = await sql(ds.manager, `select "offset", reason from dead_letter where topic = $1`, [topic]);
    expect(dead).toEqual([{ offset: '2', reason: expect.stringMatching(/^contract: .*payload\.villageCode \(matches\)/) as unknown }]);
    // Back from the log, an own event leaves the hint.
    expect(emittedHere.has(emitted.eventId)).toBe(false);
  });
});
