import { ContractViolationError } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { ConfigResourceTypes } from 'kafkajs';
import { metricValue } from './metrics';
import { EventLogProducer } from './producer';
import { ensureTopics, pingKafka, withAdmin } from './settings';
import type { KafkaSettings } from './settings';
import { eventsFor, personKey, taskEvent, testLogger } from './test-support/tally';
import { newTopic } from './test-support/harness';
import type { TestTopic } from './test-support/harness';
import { readTopic } from './read-topic';
import { personRefOf } from './seal';

jest.setTimeout(60_000);

describe('EventLogProducer', () => {
  let testTopic: TestTopic;
  let topic: string;
  let settings: KafkaSettings;
  let producer: EventLogProducer;

  beforeAll(async () => {
    testTopic = await newTopic(3);
    ({ topic, settings } = testTopic);
    producer = await EventLogProducer.connect(settings, { logger: testLogger() });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await testTopic?.drop();
  });

  it('refuses a batch with an invalid event, naming the field, and sends nothing of it', async () => {
    const bad = taskEvent(personKey(2), 1, 'bad');
    const invalid = { ...bad, payload: { ...bad.payload, villageCode: '11010100' } } as RegistrationEvent;
    const batch = [taskEvent(personKey(1), 0, 'ok'), invalid, taskEvent(personKey(3), 2, 'ok')];

    const error: unknown = await producer.append(batch).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ContractViolationError);
    if (!(error instanceof ContractViolationError)) throw new Error('unreachable');
    expect(error.violations).toEqual([expect.objectContaining({ field: 'payload.villageCode', rule: 'matches' })]);
    expect(error.message).toContain('payload.villageCode');

    const badKey = { ...taskEvent(personKey(4), 3, 'ok'), personKey: '123' } as RegistrationEvent;
    await expect(producer.append([badKey])).rejects.toMatchObject({ violations: [expect.objectContaining({ field: 'personKey' })] });

    expect(await readTopic(settings)).toEqual([]);
  });

  it('appends keyed by person ref (ADR 0009) with event headers, acknowledged, and counts them', async () => {
    const before = await metricValue('qmcb_events_appended_total');
    const events = eventsFor(4, 12, 'headers');
    await producer.append(events);
    expect((await metricValue('qmcb_events_appended_total')) - before).toBe(12);

    const records = await readTopic(settings);
    expect(records).toHaveLength(12);
    const partitionOf = new Map<string, number>();
    for (const r of records) {
      const event = events.find((e) => e.eventId === r.headers['event-id']);
      expect(event).toBeDefined();
      expect(r.key).toBe(personRefOf(settings.sealing?.refSecret ?? '', event?.personKey ?? ''));
      expect(r.headers).toEqual({ 'event-id': event?.eventId, 'event-type': 'survey.task-created', 'schema-version': '1' });
      // one key, one partition
      const p = partitionOf.get(r.key ?? '');
      if (p !== undefined) expect(r.partition).toBe(p);
      partitionOf.set(r.key ?? '', r.partition);
    }
  });

  it('sends appends that arrive while a request is in flight together: each answered once acknowledged, nothing lost, each caller in order', async () => {
    const callers = 40;
    const perCaller = 3;
    const batches = Array.from({ length: callers }, (_, c) => Array.from({ length: perCaller }, (_, n) => taskEvent(personKey(100 + c), n, 'grouped')));
    // Every person's data key made and cached first, so the appends below reach the queue at once.
    await producer.append(batches.map((b) => b[0] as RegistrationEvent).map((e) => taskEvent(e.personKey, 99, 'warm')));
    const groupsBefore = await metricValue('qmcb_log_append_groups_total');
    const appendedBefore = await metricValue('qmcb_events_appended_total');

    await Promise.all(batches.map((b) => producer.append(b)));

    // One request for the first caller, one for the 39 that arrived during its round trip (one at a time before: 40).
    expect((await metricValue('qmcb_log_append_groups_total')) - groupsBefore).toBe(2);
    expect((await metricValue('qmcb_events_appended_total')) - appendedBefore).toBe(callers * perCaller);
    const records = (await readTopic(settings)).filter((r) => batches.some((b) => b.some((e) => e.eventId === r.headers['event-id'])));
    expect(records).toHaveLength(callers * perCaller);
    expect(new Set(records.map((r) => r.headers['event-id'])).size).toBe(callers * perCaller);
    for (const b of batches) {
      const ids = b.map((e) => e.eventId);
      expect(records.filter((r) => ids.includes(String(r.headers['event-id']))).map((r) => r.headers['event-id'])).toEqual(ids);
    }
  });

  it('creates topics with infinite retention and delete cleanup; ping answers', async () => {
    await ensureTopics(settings, [{ topic: `${topic}.dlq.probe`, partitions: 1 }]);
    const configs = await withAdmin(settings, (admin) =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: [topic, `${topic}.dlq.probe`].map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['retention.ms', 'cleanup.policy'] })),
      }),
    );
    for (const resource of configs.resources) {
      const byName = Object.fromEntries(resource.configEntries.map((c) => [c.configName, c.configValue]));
      expect(byName).toEqual({ 'retention.ms': '-1', 'cleanup.policy': 'delete' });
    }
    await expect(pingKafka(settings, 3_000)).resolves.toBeUndefined();
    await expect(pingKafka({ ...settings, brokers: ['127.0.0.1:1'] }, 1_000)).rejects.toThrow();
  });
});
