import { randomBytes } from 'crypto';
import { deterministicId, parseEvent, SOURCE_RECORD_RECEIVED } from '@qmcb/contracts';
import type { EventOf, RegistrationEvent } from '@qmcb/contracts';
import type { Producer } from 'kafkajs';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { ProjectionContext } from './apply';
import { Keyring, parseMasterKeys } from './keyring';
import { metricValue } from './metrics';
import { enqueueOutbox, OutboxRelay } from './outbox';
import { connectProducer, EventLogProducer, sendAcked } from './producer';
import { readEvents, readTopic } from './read-topic';
import { rebuildProjection } from './rebuild';
import { ProjectionRunner } from './runner';
import { closeSealers, sealerFor } from './seal';
import type { LogSealer, SealingSettings } from './seal';
import { createKafka } from './settings';
import type { KafkaSettings } from './settings';
import { sql } from './sql';
import { newDatabase, newTopic, testGroup } from './test-support/harness';
import type { TestDatabase, TestTopic } from './test-support/harness';
import { expectedTally, openTally, readTally, TallyHandler, tallyMigrations, taskEvent, TEST_TUNING, testLogger } from './test-support/tally';

jest.setTimeout(180_000);

const SCHEMA = 'sealing_test';

/** A household record: name, phone and address beside the citizen ID. */
function household(person: string, n: number, name: string, phone: string, address: string): EventOf<typeof SOURCE_RECORD_RECEIVED> {
  const eventId = deterministicId('sealing-test', person, String(n));
  return {
    eventId,
    type: SOURCE_RECORD_RECEIVED,
    schemaVersion: 1,
    personKey: person,
    occurredAt: '2024-03-01T08:00:00.000Z',
    recordedAt: '2024-03-01T08:00:01.000Z',
    source: 'dept:public-security',
    actor: 'key:public-security',
    correlationId: eventId,
    causationId: null,
    basedOnVersion: null,
    payload: {
      department: 'public-security',
      sourceRecordId: `hh-${n}`,
      mode: 'snapshot',
      citizenIdAsSent: person,
      citizenIdValid: true,
      asOf: '2024-03-01T00:00:00.000Z',
      facts: { kind: 'household', name, villageCode: '110101001001', status: 'normal', phone, address },
    },
  };
}

/** The tally, keeping every event it was handed as it was handed. */
class CapturingHandler extends TallyHandler {
  readonly seen: RegistrationEvent[] = [];
  override async handle(events: readonly RegistrationEvent[], ctx: ProjectionContext): Promise<void> {
    this.seen.push(...events);
    await super.handle(events, ctx);
  }
}

const PEOPLE = [
  { id: '11010119850307201X', name: '王秀英', phone: '13912345678', address: '北京市东城区和平里北街12号' },
  { id: '110101199212124521', name: '李建国', phone: '15800001111', address: '北京市东城区安定门外大街3号' },
  { id: '110101200001016666', name: '张三丰', phone: '18622223333', address: '北京市东城区东四十条5号' },
];
const ERASED = { id: '110101197803035432', name: '赵铁柱', phone: '13700004444', address: '北京市东城区交道口南大街9号' };
/**
 * People of the outbox cases, which run after the rotation case: their keys are made then, under the
 * master key this spec's sealer has (the keys of PEOPLE are under the rotated one by then).
 */
const OUTBOX_PEOPLE = [
  { id: '110101197208081233', name: '孙志强', phone: '13511112222', address: '北京市东城区雍和宫大街7号' },
  { id: '110101198809094560', name: '周丽华', phone: '13633334444', address: '北京市东城区北锣鼓巷2号' },
  { id: '110101199101017898', name: '吴国栋', phone: '13744445555', address: '北京市东城区南锣鼓巷6号' },
];
/** Erased after their outbox rows were written and before the relay published them. */
const ERASED_LATER = { id: '110101196505056785', name: '钱小红', phone: '13655556666', address: '北京市东城区北新桥三条8号' };

describe('sealed log and crypto-shredding (ADR 0009)', () => {
  let topic: TestTopic;
  let db: TestDatabase;
  let keyringDb: TestDatabase;
  let ds: DataSource;
  let settings: KafkaSettings;
  let sealing: SealingSettings;
  let sealer: LogSealer;
  let producer: EventLogProducer;
  let raw: Producer;
  let handler: CapturingHandler;
  let runner: ProjectionRunner;
  const events: RegistrationEvent[] = [];

  beforeAll(async () => {
    topic = await newTopic(3);
    db = await newDatabase();
    // A keyring of this spec's own, so rotation sees only its keys.
    keyringDb = await newDatabase();
    const base = topic.settings.sealing;
    if (!base) throw new Error('the test environment has no sealing settings (KEYRING_MASTER_KEYS, LOG_PERSON_REF_SECRET)');
    sealing = { ...base, keyringUrl: keyringDb.url };
    settings = { ...topic.settings, sealing };
    ds = await openTally(db.url, SCHEMA);
    sealer = await sealerFor(settings);
    producer = await EventLogProducer.connect(settings, { logger: testLogger() });
    raw = await connectProducer(createKafka(settings, testLogger()));
    handler = new CapturingHandler();
    runner = new ProjectionRunner({ name: 'sealing-test', groupId: testGroup('sealing-test'), dataSource: ds, schema: SCHEMA, handler, settings, maxAttempts: 2, logger: testLogger(), consumer: TEST_TUNING });
    await runner.start();
  });

  afterAll(async () => {
    await runner?.stop();
    await raw?.disconnect();
    await producer?.disconnect();
    await closeSealers();
    await ds?.destroy();
    await db?.drop();
    await keyringDb?.drop();
    await topic?.drop();
  });

  it('puts no citizen ID, name, phone or address in any key, value or header, and the projection gets the exact envelope', async () => {
    for (const [i, p] of [...PEOPLE, ERASED].entries()) {
      events.push(household(p.id, i, p.name, p.phone, p.address), taskEvent(p.id, 100 + i, 'sealing'), taskEvent(p.id, 200 + i, 'sealing'));
    }
    await producer.append(events);
    const records = await readTopic(settings);
    expect(records).toHaveLength(events.length);

    const secrets = [...PEOPLE, ERASED].flatMap((p) => [p.id, p.name, p.phone, p.address]);
    const leaks: string[] = [];
    for (const r of records) {
      const bytes = [Buffer.from(r.key ?? ''), r.value ?? Buffer.alloc(0), Buffer.from(JSON.stringify(r.headers))];
      for (const s of secrets) if (bytes.some((b) => b.includes(Buffer.from(s)))) leaks.push(`${r.offset}@${r.partition}: ${s}`);
    }
    expect(leaks).toEqual([]);

    // Keyed by person ref: one partition per person; the readable fields are those of the event.
    const byId = new Map(events.map((e) => [e.eventId, e]));
    for (const r of records) {
      const e = byId.get(r.headers['event-id'] ?? '') as RegistrationEvent;
      expect(r.key).toBe(sealer.personRef(e.personKey));
      const outer = JSON.parse(String(r.value)) as Record<string, unknown>;
      expect(outer).toEqual({
        eventId: e.eventId,
        type: e.type,
        schemaVersion: e.schemaVersion,
        personRef: sealer.personRef(e.personKey),
        occurredAt: e.occurredAt,
        recordedAt: e.recordedAt,
        source: e.source,
        actor: e.actor,
        correlationId: e.correlationId,
        causationId: e.causationId,
        basedOnVersion: e.basedOnVersion,
        sealed: expect.stringMatching(/^v1\.[A-Za-z0-9_-]+$/),
      });
    }
    for (const p of [...PEOPLE, ERASED]) expect(new Set(records.filter((r) => r.key === sealer.personRef(p.id)).map((r) => r.partition)).size).toBe(1);

    await runner.waitUntilCaughtUp(60_000);
    const byEventId = (a: RegistrationEvent, b: RegistrationEvent): number => a.eventId.localeCompare(b.eventId);
    expect([...handler.seen].sort(byEventId)).toEqual(events.map((e) => parseEvent(e)).sort(byEventId));
    expect(await readEvents(settings)).toEqual(expect.arrayContaining(events));
  });

  it('skips an erased person on rebuild, counting exactly their events, and appends nothing more of them', async () => {
    const ref = sealer.personRef(ERASED.id);
    expect(await sealer.keyring.shred(ref, 'PIPL art. 47 request 2024-17')).toBe(true);
    expect(await sealer.keyring.shred(ref, 'again')).toBe(false);
    // The row keeps when and why, not the key.
    const client = new Client({ connectionString: keyringDb.url });
    await client.connect();
    const { rows } = await client
      .query(`select wrapped_key, kek_id, shredded_at is not null as shredded, shred_reason from keyring.data_key where person_ref = $1`, [ref])
      .finally(() => client.end());
    expect(rows).toEqual([{ wrapped_key: null, kek_id: null, shredded: true, shred_reason: 'PIPL art. 47 request 2024-17' }]);

    const before = await metricValue('qmcb_events_shredded_skipped_total', { projection: 'sealing-test__rebuild' });
    const rebuilder = new TallyHandler();
    await rebuildProjection({ dataSource: ds, schema: SCHEMA, migrations: tallyMigrations(), handler: rebuilder, settings, name: 'sealing-test', logger: testLogger(), consumer: TEST_TUNING });
    expect((await metricValue('qmcb_events_shredded_skipped_total', { projection: 'sealing-test__rebuild' })) - before).toBe(3);
    const kept = events.filter((e) => e.personKey !== ERASED.id);
    expect(await readTally(ds)).toEqual(expectedTally(kept));
    const byEventId = (a: RegistrationEvent, b: RegistrationEvent): number => a.eventId.localeCompare(b.eventId);
    expect((await readEvents(settings)).sort(byEventId)).toEqual(kept.map((e) => parseEvent(e)).sort(byEventId));

    const notAppended = await metricValue('qmcb_events_erased_not_appended_total');
    const length = (await readTopic(settings)).length;
    await producer.append([taskEvent(ERASED.id, 300, 'sealing'), taskEvent(PEOPLE[1]?.id ?? '', 300, 'sealing')]);
    expect((await readTopic(settings)).length).toBe(length + 1);
    expect((await metricValue('qmcb_events_erased_not_appended_total')) - notAppended).toBe(1);
  });

  it('rotates every data key to a new master key and everything stays readable', async () => {
    const old = parseMasterKeys(sealing.masterKeys);
    const fresh = `rotated:${randomBytes(32).toString('base64')}`;
    const both = `${fresh},${sealing.masterKeys}`;
    const keyring = await Keyring.open({ url: keyringDb.url, masterKeys: parseMasterKeys(both) });
    try {
      const people = PEOPLE.length;
      expect(await keyring.status()).toEqual({ keys: people, shredded: 1, byMasterKey: { [old[0]?.id ?? '']: people }, currentMasterKey: 'rotated' });
      expect(await keyring.rotate()).toBe(people);
      expect(await keyring.rotate()).toBe(0);
      expect(await keyring.status()).toEqual({ keys: people, shredded: 1, byMasterKey: { rotated: people }, currentMasterKey: 'rotated' });
    } finally {
      await keyring.close();
    }
    // Only the new master key from now on: every event of the log still opens.
    const onlyNew: KafkaSettings = { ...settings, sealing: { ...sealing, masterKeys: fresh } };
    const readBack = await readEvents(onlyNew);
    expect(readBack.filter((e) => events.some((x) => x.eventId === e.eventId))).toEqual(
      expect.arrayContaining(events.filter((e) => e.personKey !== ERASED.id).map((e) => parseEvent(e))),
    );
    expect(readBack).toHaveLength(events.length - 3 + 1);
  });

  it('dead-letters a sealed value that was altered or moved under other readable fields, with a clear reason', async () => {
    const records = await readTopic(settings);
    const victim = records.find((r) => r.key === sealer.personRef(PEOPLE[0]?.id ?? '')) ?? records[0];
    const outer = JSON.parse(String(victim?.value)) as Record<string, string>;
    const bytes = Buffer.from((outer['sealed'] as string).slice(3), 'base64url');
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] as number) ^ 0x01;
    const flipped = { ...outer, eventId: deterministicId('sealing-test', 'flipped'), sealed: `v1.${bytes.toString('base64url')}` };
    const reassigned = { ...outer, eventId: deterministicId('sealing-test', 'reassigned'), actor: 'user:mallory' };
    await sendAcked(raw, settings.topic, [
      { key: victim?.key ?? null, value: Buffer.from(JSON.stringify(flipped)), headers: { 'event-id': flipped.eventId } },
      { key: victim?.key ?? null, value: Buffer.from(JSON.stringify(reassigned)), headers: { 'event-id': reassigned.eventId } },
    ]);
    await runner.waitUntilCaughtUp(60_000);
    const dlq = await readTopic(settings, runner.deadLetterTopic);
    const reason = "sealed: the sealed part does not open under the person's key: altered, moved from another event, or sealed under another key";
    expect(dlq.map((d) => [d.headers['event-id'], d.headers['reason']])).toEqual([
      [flipped.eventId, reason],
      [reassigned.eventId, reason],
    ]);
    const { rows } = await sql(ds.manager, `select event_id, reason, message_key from dead_letter order by id`);
    expect(rows).toEqual([
      { event_id: flipped.eventId, reason, message_key: victim?.key },
      { event_id: reassigned.eventId, reason, message_key: victim?.key },
    ]);
  });
  it('seals outbox rows when written (no citizen ID, name, phone or address in any column) and the relay sends them as they are, in order with a plain row of the previous version, each once', async () => {
    const [a, b] = [OUTBOX_PEOPLE[0], OUTBOX_PEOPLE[1]] as [(typeof PEOPLE)[number], (typeof PEOPLE)[number]];
    const a0 = household(a.id, 40, a.name, a.phone, a.address);
    const b0 = household(b.id, 41, b.name, b.phone, b.address);
    const a1 = household(a.id, 42, a.name, '13911112222', a.address);
    const a2 = taskEvent(a.id, 403, 'outbox');
    const all = [a0, b0, a1, a2];
    await ds.transaction((m) => enqueueOutbox(m, sealer, [a0, b0]));
    // A row the previous version wrote (plain), still unpublished at the upgrade.
    await sql(ds.manager, `insert into outbox (event_id, person_key, event) values ($1, $2, $3::jsonb)`, [a1.eventId, a1.personKey, JSON.stringify(a1)]);
    await ds.transaction((m) => enqueueOutbox(m, sealer, [a2]));

    const secrets = OUTBOX_PEOPLE.flatMap((p) => [p.id, p.name, p.phone, p.address, '13911112222']);
    const leaks = (rows: Record<string, unknown>[]): string[] => rows.flatMap((r) => secrets.filter((x) => String(r['line']).includes(x)).map((x) => `${String(r['event_id'])}: ${x}`));
    const pending = (await sql(ds.manager, `select event_id, person_key, event, row_to_json(o)::text as line from outbox o where published_at is null order by id`)).rows;
    expect(pending.map((r) => r['event_id'])).toEqual(all.map((e) => e.eventId));
    const sealedRows = pending.filter((r) => r['event_id'] !== a1.eventId);
    expect(leaks(sealedRows)).toEqual([]);
    for (const r of sealedRows) {
      const e = all.find((x) => x.eventId === r['event_id']) as RegistrationEvent;
      expect(r['person_key']).toBe(sealer.personRef(e.personKey));
      expect(r['event']).toEqual({
        eventId: e.eventId,
        type: e.type,
        schemaVersion: e.schemaVersion,
        personRef: sealer.personRef(e.personKey),
        occurredAt: e.occurredAt,
        recordedAt: e.recordedAt,
        source: e.source,
        actor: e.actor,
        correlationId: e.correlationId,
        causationId: e.causationId,
        basedOnVersion: e.basedOnVersion,
        sealed: expect.stringMatching(/^v1\.[A-Za-z0-9_-]+$/),
      });
    }

    const relay = new OutboxRelay({ dataSource: ds, producer, schema: SCHEMA, logger: testLogger() });
    expect(await relay.runOnce()).toBe(4);
    expect(await relay.runOnce()).toBe(0);
    const ids = new Set(all.map((e) => e.eventId));
    const records = (await readTopic(settings)).filter((r) => ids.has(r.headers['event-id'] ?? ''));
    // Each once; the sealed rows sent as sealed when written (not sealed again: same sealed part), the plain one sealed now.
    expect(records.map((r) => r.headers['event-id']).sort()).toEqual([...ids].sort());
    for (const r of records) {
      const e = all.find((x) => x.eventId === r.headers['event-id']) as RegistrationEvent;
      expect(r.key).toBe(sealer.personRef(e.personKey));
      expect(secrets.filter((x) => (r.value ?? Buffer.alloc(0)).includes(Buffer.from(x)))).toEqual([]);
      const onLog = JSON.parse(String(r.value)) as Record<string, unknown>;
      const row = sealedRows.find((x) => x['event_id'] === e.eventId);
      if (row) expect(onLog).toEqual(row['event']);
      else expect(onLog['sealed']).toEqual(expect.stringMatching(/^v1\./));
    }
    // A person's events in outbox order on their partition.
    const ofA = records.filter((r) => r.key === sealer.personRef(a.id)).sort((x, y) => Number(x.offset) - Number(y.offset));
    expect(new Set(ofA.map((r) => r.partition)).size).toBe(1);
    expect(ofA.map((r) => r.headers['event-id'])).toEqual([a0.eventId, a1.eventId, a2.eventId]);
    // They open to the very events enqueued, and the projection applies them in that order.
    const opened = await sealer.open(ofA.concat(records.filter((r) => r.key !== sealer.personRef(a.id))).map((r) => r.value));
    expect(opened).toEqual([a0, a1, a2, b0].map((e) => ({ kind: 'event', event: parseEvent(e) })));
    await runner.waitUntilCaughtUp(60_000);
    expect((await readTally(ds))[a.id]?.slice(-3)).toEqual([a0.eventId, a1.eventId, a2.eventId]);
    // Published rows keep only what the log shows readable.
    const published = (await sql(ds.manager, `select event_id, row_to_json(o)::text as line from outbox o where event_id = any($1::text[])`, [[...ids]])).rows;
    expect(leaks(published)).toEqual([]);
    expect(published.filter((r) => String(r['line']).includes('v1.'))).toEqual([]);
  });

  it('publishes nothing of a person erased after their outbox rows were written (sealed or plain), does not stop or loop, and enqueues nothing more of them', async () => {
    const gone = ERASED_LATER;
    const other = OUTBOX_PEOPLE[2] as (typeof PEOPLE)[number];
    const g1 = household(gone.id, 50, gone.name, gone.phone, gone.address);
    const o1 = taskEvent(other.id, 501, 'outbox-erased');
    const g2 = taskEvent(gone.id, 502, 'outbox-erased');
    const g3 = taskEvent(gone.id, 503, 'outbox-erased');
    await ds.transaction((m) => enqueueOutbox(m, sealer, [g1, o1, g2]));
    await sql(ds.manager, `insert into outbox (event_id, person_key, event) values ($1, $2, $3::jsonb)`, [g3.eventId, g3.personKey, JSON.stringify(g3)]);
    const ref = sealer.personRef(gone.id);
    const rows = (await sql(ds.manager, `select event_id, person_key from outbox where event_id = any($1::text[]) order by id`, [[g1.eventId, g2.eventId]])).rows;
    expect(rows).toEqual([
      { event_id: g1.eventId, person_key: ref },
      { event_id: g2.eventId, person_key: ref },
    ]);
    expect(await sealer.keyring.shred(ref, 'PIPL art. 47 request 2024-18')).toBe(true);

    const dropped = await metricValue('qmcb_events_erased_not_appended_total');
    const relay = new OutboxRelay({ dataSource: ds, producer, schema: SCHEMA, logger: testLogger() });
    expect(await relay.runOnce()).toBe(4);
    expect(await relay.runOnce()).toBe(0);
    expect((await sql(ds.manager, `select count(*)::int as n from outbox where published_at is null`)).rows).toEqual([{ n: 0 }]);
    expect((await metricValue('qmcb_events_erased_not_appended_total')) - dropped).toBe(3);
    const onLog = (await readTopic(settings)).map((r) => r.headers['event-id']);
    expect(onLog.filter((id) => [g1.eventId, g2.eventId, g3.eventId, o1.eventId].includes(id ?? ''))).toEqual([o1.eventId]);

    // Enqueued after the erasure: nothing to seal it under, so nothing enqueued (the caller's transaction still commits).
    const g4 = taskEvent(gone.id, 504, 'outbox-erased');
    await ds.transaction((m) => enqueueOutbox(m, sealer, [g4]));
    expect((await sql(ds.manager, `select event_id from outbox where event_id = $1`, [g4.eventId])).rows).toEqual([]);
    expect((await metricValue('qmcb_events_erased_not_appended_total')) - dropped).toBe(4);
  });
});
