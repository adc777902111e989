import type { RegistrationEvent } from '@qmcb/contracts';
import type { Batch, KafkaMessage, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { BatchProcessor } from './batch';
import { replayDeadLetters } from './dead-letters';
import { metricValue } from './metrics';
import { connectProducer, EventLogProducer, sendAcked } from './producer';
import type { TopicRecord } from './read-topic';
import { ProjectionRunner } from './runner';
import { createKafka } from './settings';
import type { KafkaSettings } from './settings';
import { sql } from './sql';
import { expectedTally, openTally, personKey, readTally, TallyHandler, taskEvent, TEST_TUNING, testLogger } from './test-support/tally';
import { newDatabase, newTopic, testGroup } from './test-support/harness';
import type { TestDatabase, TestTopic } from './test-support/harness';
import { readTopic } from './read-topic';
import { personRefOf, sealerFor } from './seal';

jest.setTimeout(120_000);

describe('dead letters', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let testTopic: TestTopic;
  let topic: string;
  let settings: KafkaSettings;
  let producer: EventLogProducer;
  let raw: Producer;

  beforeAll(async () => {
    testTopic = await newTopic(3);
    ({ topic, settings } = testTopic);
    db = await newDatabase();
    ds = await openTally(db.url);
    producer = await EventLogProducer.connect(settings, { logger: testLogger() });
    raw = await connectProducer(createKafka(settings, testLogger()));
  });

  afterAll(async () => {
    await raw?.disconnect();
    await producer?.disconnect();
    await ds?.destroy();
    await db?.drop();
    await testTopic?.drop();
  });

  it('sends poison and always-failing events to the DLQ with their reason and goes on with the partition', async () => {
    const personId = personKey(1);
    // The log is keyed by person ref (ADR 0009): the raw sends below use the ref the producer uses.
    const person = personRefOf(settings.sealing?.refSecret ?? '', personId);
    const invalid = taskEvent(personId, 2, 'poison');
    const failing = taskEvent(personId, 3, 'poison');
    const before = [taskEvent(personId, 0, 'poison'), taskEvent(personKey(2), 1, 'poison')];
    const after = [taskEvent(personId, 4, 'poison'), taskEvent(personId, 5, 'poison'), taskEvent(personKey(3), 6, 'poison')];

    await producer.append(before);
    // Bytes that never went through the producer's validation: not JSON, a contract violation, no value.
    await sendAcked(raw, topic, [
      { key: person, value: Buffer.from('{"eventId": "half') },
      {
        key: person,
        value: Buffer.from(JSON.stringify({ ...invalid, payload: { ...invalid.payload, villageCode: 'nowhere' } })),
        headers: { 'event-id': invalid.eventId },
      },
      { key: person, value: null },
    ]);
    await producer.append([failing, ...after]);

    const handler = new TallyHandler();
    handler.failing.add(failing.eventId);
    const deadBefore = await metricValue('qmcb_dead_letters_total', { projection: 'dlq-test' });
    const runner = new ProjectionRunner({
      name: 'dlq-test', groupId: testGroup('dlq-test'),
      dataSource: ds,
      schema: 'tally_test',
      handler,
      settings,
      maxAttempts: 3,
      logger: testLogger(),
      consumer: TEST_TUNING,
    });
    await runner.start();
    try {
      await runner.waitUntilCaughtUp(60_000);
    } finally {
      await runner.stop();
    }

    const log = await readTopic(settings);
    const personPartition = log.find((r) => r.key === person)?.partition;
    const ofPerson = log.filter((r) => r.key === person);
    expect(ofPerson).toHaveLength(7);
    expect(ofPerson.every((r) => r.partition === personPartition)).toBe(true);

    // The DLQ topic holds the four, in order, with reason, original position and event id.
    const dlq = await readTopic(settings, runner.deadLetterTopic);
    expect(runner.deadLetterTopic).toBe(`${topic}.dlq.${testGroup('dlq-test')}`);
    expect(dlq).toHaveLength(4);
    const [notJson, violation, noValue, gaveUp] = dlq as [TopicRecord, TopicRecord, TopicRecord, TopicRecord];
    expect(notJson.headers['reason']).toMatch(/^contract: .*\(value\) \(json\)/);
    expect(notJson.value?.toString()).toBe('{"eventId": "half');
    expect(violation.headers['reason']).toMatch(/^contract: .*payload\.villageCode \(matches\)/);
    expect(violation.headers['event-id']).toBe(invalid.eventId);
    expect(noValue.headers['reason']).toMatch(/^contract: .*\(value\) \(notNull\)/);
    expect(noValue.value).toBeNull();
    expect(gaveUp.headers['reason']).toBe(`handler: Error: tally refuses ${failing.eventId}`);
    expect(gaveUp.headers['event-id']).toBe(failing.eventId);
    expect(gaveUp.headers['attempts']).toBe('3');
    for (const d of dlq) {
      const original = ofPerson.find((r) => r.offset === d.headers['original-offset']);
      expect(d.headers['original-partition']).toBe(String(personPartition));
      expect(d.headers['original-topic']).toBe(topic);
      expect(d.key).toBe(person);
      expect(d.value?.toString() ?? null).toBe(original?.value?.toString() ?? null);
    }

    // dead_letter rows, the counter, the retries, and everything valid applied in order.
    const { rows } = await sql(ds.manager, `select event_id, partition, "offset", reason, raw, attempts, replayed_at from dead_letter order by id`);
    expect(rows.map((r) => [r['event_id'], r['partition'], r['offset'], r['attempts'], r['replayed_at']])).toEqual(
      dlq.map((d) => [d.headers['event-id'] ?? null, personPartition, d.headers['original-offset'], Number(d.headers['attempts']), null]),
    );
    expect(rows.map((r) => r['reason'])).toEqual(dlq.map((d) => d.headers['reason']));
    expect((await metricValue('qmcb_dead_letters_total', { projection: 'dlq-test' })) - deadBefore).toBe(4);
    expect(handler.alone.get(failing.eventId)).toBe(3);
    const valid: RegistrationEvent[] = [...before, ...after];
    expect(await readTally(ds)).toEqual(expectedTally(valid));

    // Replay: the handler is fixed; the contract violations stay dead, the failed event applies.
    handler.failing.clear();
    expect(await replayDeadLetters({ dataSource: ds, handler, settings, logger: testLogger() })).toBe(1);
    const tally = await readTally(ds);
    expect(tally[personId]).toEqual([before[0], ...after.slice(0, 2), failing].map((e) => e?.eventId));
    const replayed = await sql(ds.manager, `select event_id from dead_letter where replayed_at is not null`);
    expect(replayed.rows).toEqual([{ event_id: failing.eventId }]);
    expect(await replayDeadLetters({ dataSource: ds, handler, settings, logger: testLogger() })).toBe(0);
  });

  it('does not commit the batch when the dead letter could not be published', async () => {
    // The BatchProcessor directly, against the real database, with a DLQ publisher that fails once.
    const dbSchema = 'tally_test';
    const handler = new TallyHandler();
    const poison: KafkaMessage = { key: Buffer.from(personKey(9)), value: Buffer.from('nope'), offset: '40', timestamp: '0', attributes: 0, headers: {} };
    const good = taskEvent(personKey(9), 41, 'dlq-commit');
    const goodMessage: KafkaMessage = { key: Buffer.from(good.personKey), value: Buffer.from(JSON.stringify(good)), offset: '41', timestamp: '0', attributes: 0, headers: {} };
    const batch = {
      topic: 'dlq.commit.topic',
      partition: 0,
      highWatermark: '42',
      messages: [poison, goodMessage],
      fetchedOffset: '40',
      isEmpty: () => false,
      firstOffset: () => '40',
      lastOffset: () => '41',
      offsetLag: () => '0',
      offsetLagLow: () => '1',
    } satisfies Batch & { fetchedOffset: string };
    let published = 0;
    const processor = new BatchProcessor({
      projection: 'dlq-commit',
      dataSource: ds,
      schema: dbSchema,
      handler,
      topic: batch.topic,
      rebuilding: false,
      maxAttempts: 2,
      backoffMs: () => 1,
      startOffset: async () => 40n,
      lowWatermark: async () => 0n,
      publishDeadLetter: async () => {
        published += 1;
        if (published === 1) throw new Error('broker unavailable');
      },
      sealer: await sealerFor(settings),
      logger: testLogger(),
    });
    const control = { heartbeat: async () => undefined, shouldStop: () => false };

    await expect(processor.process(batch, control)).rejects.toThrow('broker unavailable');
    const state = async () => ({
      checkpoint: (await sql(ds.manager, `select next_offset from projection_checkpoint where topic = $1`, [batch.topic])).rows,
      dead: (await sql(ds.manager, `select "offset" from dead_letter where topic = $1`, [batch.topic])).rows,
      applied: (await sql(ds.manager, `select event_id from applied_event where event_id = $1`, [good.eventId])).rows,
    });
    expect(await state()).toEqual({ checkpoint: [], dead: [], applied: [] });

    await expect(processor.process(batch, control)).resolves.toMatchObject({ kind: 'done', nextOffset: 42n, applied: 1, deadLettered: 1 });
    expect(await state()).toEqual({ checkpoint: [{ next_offset: '42' }], dead: [{ offset: '40' }], applied: [{ event_id: good.eventId }] });
    expect(published).toBe(2);
  });
});
