import { SOURCE_RECORD_RECEIVED, deterministicId, newEvent } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { checkCharacter, foldEvents } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { closeSealers, openDataSource, sealerFor, sealingFromEnv } from '@qmcb/event-log';
import { PersonIds } from '@qmcb/platform';
import { PersonalDataSealer, PersonKeyColumn, PersonRecordTables1700000000200 } from '@qmcb/service-kit';
import { createTestDatabase } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import { randomBytes } from 'crypto';
import type { DataSource } from 'typeorm';
import { asSeenBy } from '../feed/feed-view';
import type { FeedItem } from '../feed/feed-view';
import { FeedEntryRepository } from '../feed/feed-entry.repository';
import type { FeedEntry } from '../feed/feed-entry.repository';
import { SubscriptionRepository } from '../feed/subscription.repository';
import { RegistryTables1700000004000 } from '../migrations/1700000004000-registry-tables';
import { RegistryHistoryV21700000009200 } from '../migrations/1700000009200-registry-history-v2';
import { RecordSnapshotSealed1764892800000 } from '../migrations/1764892800000-record-snapshot-sealed';
import { RecordHistorySealed1764892800200 } from '../migrations/1764892800200-record-history-sealed';
import { OPS_MIGRATIONS } from '../ops/ops-data-source';
import { RecordHistoryRepository } from './record-history.repository';
import { itemChanges } from './registry-items';
import { RecordSnapshotRepository } from './record-snapshot.repository';

/**
 * ADR 0011, stage 4 for dynamic update, against real PostgreSQL and the keyring: the history's
 * changes and events, whole-record snapshots, the feed's changes and the dead letters' entries hold no name, phone or address
 * readable in any column, read back exactly as written, rows written before sealing still read,
 * and nothing of an erased person (key shredded) opens or is written again.
 */
const valid = (first17: string): string => `${first17}${checkCharacter(first17)}`;
const A = valid('44098119850307201');
const B = valid('44098119921212452');
const C = valid('44098120000101666');
const NAME = '欧阳明远';
const PHONE = '13912345678';
const ADDRESS = '南宫居委会幸福路 18 号';
const PERSONAL = [NAME, PHONE, ADDRESS, '幸福路'];
const OPS = 'dyn_ops';

const household = (person: string, n: number): RegistrationEvent =>
  newEvent(
    SOURCE_RECORD_RECEIVED,
    deterministicId('dyn-at-rest', person, String(n)),
    person,
    {
      department: 'public-security', sourceRecordId: `HJ-${person.slice(-4)}-${n}`, mode: 'snapshot', asOf: '2026-11-01T00:00:00.000Z', citizenIdAsSent: person, citizenIdValid: true,
      facts: { kind: 'household', name: NAME, villageCode: '440981002001', status: 'normal', phone: PHONE, address: ADDRESS },
    },
    { source: 'svc:comparison', actor: 'svc:comparison', occurredAt: `2026-11-0${n}T00:00:00.000Z`, correlationId: deterministicId('corr', String(n)) },
  );
const recordOf = (person: string, n = 1): RegistrationRecord => foldEvents(Array.from({ length: n }, (_, i) => household(person, i + 1))) as RegistrationRecord;

const entryOf = (person: string, eventId: string): FeedEntry => {
  const record = recordOf(person);
  return {
    eventId, personKey: person, version: record.version, type: SOURCE_RECORD_RECEIVED, divisionBefore: null, divisionAfter: '440981002001',
    occurredAt: '2026-11-01T00:00:00.000Z', recordedAt: '2026-11-01T00:00:01.000Z', source: 'svc:comparison', actor: 'svc:comparison',
    changes: itemChanges(null, record),
  };
};

describe('dynamic update’s personal data sealed at rest (ADR 0011, stage 4; real PostgreSQL and keyring)', () => {
  let db: TestDatabase;
  let projection: DataSource;
  let ops: DataSource;
  // A keyring of this spec's own (in its database), so the person it erases is erased nowhere else.
  let env: NodeJS.ProcessEnv;
  let sealer: PersonalDataSealer;
  let snapshots: RecordSnapshotRepository;
  let history: RecordHistoryRepository;
  let feed: FeedEntryRepository;
  let subscriptions: SubscriptionRepository;
  const ids = new PersonIds(randomBytes(32).toString('base64url'));
  const keys = new PersonKeyColumn(ids);
  // What the key columns hold (ADR 0011 stage 5): the person ID.
  const [sA, sB] = [ids.idOf(A), ids.idOf(B)];
  const scope = { division: '440981', kinds: [] };
  const rowsAsText = async (ds: DataSource, table: string): Promise<string> =>
    ((await ds.query(`SELECT row_to_json(t)::text AS text FROM ${table} t`)) as { text: string }[]).map((r) => r.text).join('\n');
  const expectNothingPersonal = (text: string): void => {
    for (const value of PERSONAL) expect(text).not.toContain(value);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { ...process.env, KEYRING_DATABASE_URL: db.url, KEYRING_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`, LOG_PERSON_REF_SECRET: randomBytes(32).toString('base64url') };
    sealer = PersonalDataSealer.fromEnv(env);
    snapshots = new RecordSnapshotRepository(sealer, keys);
    history = new RecordHistoryRepository(sealer, keys);
    feed = new FeedEntryRepository(sealer, keys);
    subscriptions = new SubscriptionRepository(sealer, keys);
    projection = await openDataSource({
      url: db.url, schema: 'dyn', migrations: [PersonRecordTables1700000000200, RegistryTables1700000004000, RegistryHistoryV21700000009200, RecordSnapshotSealed1764892800000, RecordHistorySealed1764892800200],
    });
    ops = await openDataSource({ url: db.url, schema: OPS, migrations: OPS_MIGRATIONS });
    await ops.query(`INSERT INTO subscription (id, name, department, key_id, division, kinds, status, created_by) VALUES ('00000000-0000-4000-8000-000000000001', 's', 'social-insurance', 'k', '440981', '{}', 'active', 't')`);
  });

  afterAll(async () => {
    await closeSealers();
    if (projection?.isInitialized) await projection.destroy();
    if (ops?.isInitialized) await ops.destroy();
    await db?.drop();
  });

  it('record_snapshot: no name, phone or address in any column; as-of bases read back whole; the same record seals to the same bytes', async () => {
    const record = recordOf(A, 2);
    await projection.transaction((m) => snapshots.insertMany(m, [record]));
    const text = await rowsAsText(projection, 'record_snapshot');
    expect(text).not.toContain(A); // the key column holds the person ID (stage 5)
    expect(text).toContain(sA);
    expectNothingPersonal(text);
    const [row] = await projection.query(`SELECT record, sealed FROM record_snapshot WHERE person_key = $1`, [sA]);
    expect(row.sealed).toBeInstanceOf(Buffer);
    expect(row.record).toEqual({ version: 2, citizenIdValid: true, hukouDivision: record.hukouDivision, hukouStatus: 'normal', insurance: {}, migration: null });
    expect(await snapshots.latestUpTo(projection.manager, A, 5)).toEqual(record);
    expect(await snapshots.latestUpTo(projection.manager, A, 1)).toBeNull();
    const [again] = await sealer.seal('record_snapshot.record', [{ personKey: A, value: JSON.parse(JSON.stringify(record)) }]);
    expect(again?.equals(row.sealed)).toBe(true);
  });

  it('record_history: changes and events sealed; the history, its pages and the events of an as-of fold read back; rows written before still read', async () => {
    const events = [household(A, 1), household(A, 2)];
    const records = [recordOf(A, 1), recordOf(A, 2)];
    const changes = [itemChanges(null, records[0] as RegistrationRecord), itemChanges(records[0] as RegistrationRecord, records[1] as RegistrationRecord)];
    await projection.transaction((m) =>
      history.insertMany(m, events.map((event, i) => ({ event, record: records[i] as RegistrationRecord, changes: changes[i] ?? [], heldFrom: event.recordedAt }))),
    );
    const text = await rowsAsText(projection, 'record_history');
    expect(text).toContain(events[0]?.eventId);
    expect(text).not.toContain(A);
    expectNothingPersonal(text);
    const rows = await history.forPerson(projection.manager, A);
    expect(rows.map((r) => [r.version, r.eventId, r.changes])).toEqual([[1, events[0]?.eventId, changes[0]], [2, events[1]?.eventId, changes[1]]]);
    expect(rows[0]?.changes.map((c) => c.to)).toEqual(expect.arrayContaining([NAME, PHONE, ADDRESS]));
    expect((await history.page(projection.manager, A, 1, 1)).items.map((r) => r.changes)).toEqual([changes[1]]);
    expect(await history.versionHeldAt(projection.manager, A, '2030-01-01T00:00:00.000Z')).toBe(2);
    expect(foldEvents(await history.eventsBetween(projection.manager, A, 0, 2))).toEqual(records[1]);
    // Written before sealing: changes and event in their columns (its key column re-keyed to the person ID).
    const legacy = household(B, 1);
    const legacyChanges = itemChanges(null, recordOf(B));
    await projection.query(
      `INSERT INTO record_history (person_key, version, event_id, type, source, actor, occurred_at, recorded_at, held_from, changes, event) VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $7, $8, $9)`,
      [sB, legacy.eventId, legacy.type, legacy.source, legacy.actor, legacy.occurredAt, legacy.recordedAt, JSON.stringify(legacyChanges), JSON.stringify(legacy)],
    );
    expect((await history.forPerson(projection.manager, B)).map((r) => r.changes)).toEqual([legacyChanges]);
    expect(foldEvents(await history.eventsBetween(projection.manager, B, 0, 1))).toEqual(recordOf(B));
  });

  it('record_snapshot: a row written before sealing reads as it was', async () => {
    const legacy = recordOf(B);
    await projection.query(`INSERT INTO record_snapshot (person_key, version, record) VALUES ($1, $2, $3)`, [sB, legacy.version, JSON.stringify(legacy)]);
    expect(await snapshots.latestUpTo(projection.manager, B, 1)).toEqual(legacy);
  });

  it('feed_entry: changes sealed, pages read them back, the division filter unchanged, entries written before still read', async () => {
    const entries = [entryOf(A, 'e-a'), { ...entryOf(B, 'e-b'), divisionAfter: '440982001001', divisionBefore: '440982001001' }];
    expect(entries[0]?.changes.map((c) => c.to)).toEqual(expect.arrayContaining([NAME, PHONE, ADDRESS]));
    await projection.transaction((m) => feed.insertMany(m, OPS, entries));
    // Written before sealing and before stage 5 (its key column still holds the citizen ID: read as it is).
    const legacy = entryOf(C, 'e-c');
    await ops.query(
      `INSERT INTO feed_entry (event_id, person_key, version, type, division_before, division_after, occurred_at, recorded_at, source, actor, changes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [legacy.eventId, C, legacy.version, legacy.type, null, legacy.divisionAfter, legacy.occurredAt, legacy.recordedAt, legacy.source, legacy.actor, JSON.stringify(legacy.changes)],
    );
    await ops.transaction((m) => feed.sequence(m, 100));
    // Only the entry written before sealing (C's) carries its changes readable.
    expectNothingPersonal((await rowsAsText(ops, 'feed_entry')).split('\n').filter((t) => !t.includes('"event_id":"e-c"')).join('\n'));
    const page = await feed.page(ops.manager, scope, 0, 10);
    expect(page.entries.map(({ seq: _seq, ...e }) => e)).toEqual([entries[0], legacy]);
    expect(page.cursor).toBe(3);
    const other = await feed.page(ops.manager, { division: '440982', kinds: [] }, 0, 10);
    expect(other.entries.map(({ seq: _seq, ...e }) => e)).toEqual([entries[1]]);
  });

  it('webhook_dead_letter: each entry’s changes sealed under its person’s key; read back as delivered; a dead letter written before still reads', async () => {
    const page = await feed.page(ops.manager, scope, 0, 10);
    const items: FeedItem[] = page.entries.map((e) => asSeenBy(e, scope, (k) => ids.idOf(k)));
    await ops.transaction((m) => subscriptions.deadLetter(m, '00000000-0000-4000-8000-000000000001', items, 1, 3, 3, 'HTTP 500', '2026-11-02T00:00:00.000Z'));
    const [stored] = await ops.query(`SELECT entries FROM webhook_dead_letter ORDER BY id LIMIT 1`);
    // People named by person ID only (stage 5): the erasure finds their entries by it.
    expect(stored.entries.map((e: { personId: string; citizenId?: string }) => [e.personId, e.citizenId])).toEqual([[sA, undefined], [ids.idOf(C), undefined]]);
    const text = await rowsAsText(ops, 'webhook_dead_letter');
    expectNothingPersonal(text);
    for (const id of [A, C]) expect(text).not.toContain(id);
    await ops.query(
      `INSERT INTO webhook_dead_letter (subscription_id, from_seq, to_seq, entries, attempts, last_error, failed_at) VALUES ('00000000-0000-4000-8000-000000000001', 4, 4, $1, 3, 'HTTP 500', '2026-11-03T00:00:00.000Z')`,
      [JSON.stringify(items.slice(0, 1))],
    );
    const letters = await subscriptions.deadLetters(ops.manager, '00000000-0000-4000-8000-000000000001', 10, 0);
    expect(letters.items.map((l) => l.entries)).toEqual([items, items.slice(0, 1)]);
    // Read back whole, citizen IDs included (the later ones from their person ID).
    const [one] = await subscriptions.deadLetters(ops.manager, '00000000-0000-4000-8000-000000000001', 1, 0).then((r) => r.items);
    expect(JSON.stringify(one?.entries)).toContain(NAME);
  });

  it('opens nothing of an erased person and writes nothing of theirs again', async () => {
    const log = await sealerFor({ sealing: sealingFromEnv(env) });
    expect(await log.keyring.shred(log.personRef(A), 'int test of ADR 0011 stage 4')).toBe(true);
    expect(await snapshots.latestUpTo(projection.manager, A, 5)).toBeNull();
    expect(await history.forPerson(projection.manager, A)).toEqual([]);
    expect((await feed.page(ops.manager, scope, 0, 10)).entries.map((e) => e.personKey)).toEqual([C]);
    const letters = await subscriptions.deadLetters(ops.manager, '00000000-0000-4000-8000-000000000001', 10, 0);
    // The dead letter written before sealing is read as it is: the erasure's deletion takes A out of it.
    expect(letters.items.map((l) => l.entries.map((e) => e.citizenId))).toEqual([[C], [A]]);
    await projection.query(`DELETE FROM record_snapshot WHERE person_key = $1`, [sA]);
    await projection.query(`DELETE FROM record_history WHERE person_key = $1`, [sA]);
    await projection.transaction((m) => history.insertMany(m, [{ event: household(A, 3), record: recordOf(A, 3), changes: [], heldFrom: household(A, 3).recordedAt }]));
    expect(await projection.query(`SELECT count(*)::int AS n FROM record_history`)).toEqual([{ n: 1 }]); // B's
    await ops.query(`DELETE FROM feed_entry WHERE person_key = $1`, [sA]);
    await projection.transaction((m) => snapshots.insertMany(m, [recordOf(A, 3)]));
    await projection.transaction((m) => feed.insertMany(m, OPS, [entryOf(A, 'e-a2')]));
    expect(await projection.query(`SELECT person_key FROM record_snapshot`)).toEqual([{ person_key: sB }]);
    expect((await ops.query(`SELECT person_key FROM feed_entry ORDER BY seq`)).map((r: { person_key: string }) => r.person_key)).toEqual([ids.idOf(B), C]);
  });
});
