import { randomBytes } from 'crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { GENESIS_HASH, canonicalEntry, chainHash } from './audit-entry';
import type { AuditEntry } from './audit-entry';
import { AuditStore } from './audit-store';
import { PersonIds } from '../person-ids/person-ids';

/**
 * The audit trail on a real PostgreSQL: chained by the database, verified independently, append-only
 * whoever asks, purged only past six months and only with an anchor, searchable by person, actor,
 * time and division.
 */
function entry(i: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    service: 'audit-int',
    requestId: `req-${i}`,
    actor: i % 2 === 0 ? 'user:clerk-1' : 'key:hr-1',
    role: i % 2 === 0 ? 'window-clerk' : 'dept:higher-registry',
    division: i % 2 === 0 ? '440981' : null,
    source: '10.0.0.7',
    method: 'GET',
    route: '/persons/:personId',
    action: 'read',
    purpose: 'window-service',
    purposeRef: null,
    people: [`44098119850315${String(1000 + (i % 7)).slice(-4)}`],
    count: 1,
    result: 'ok',
    status: 200,
    code: null,
    detail: null,
    ...overrides,
  };
}

const PG = { host: process.env['PGHOST'] ?? '127.0.0.1', port: Number(process.env['PGPORT'] ?? 5432), user: process.env['PGUSER'] ?? 'postgres', password: process.env['PGPASSWORD'] };

async function onServer(sql: string): Promise<void> {
  const admin = new Client({ ...PG, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

describe('audit store (real PostgreSQL)', () => {
  const database = `qmcb_test_${randomBytes(6).toString('hex')}`;
  let dataSource: DataSource;
  let store: AuditStore;

  beforeAll(async () => {
    await onServer(`CREATE DATABASE ${database}`);
    dataSource = new DataSource({ type: 'postgres', ...PG, username: PG.user, database, extra: { max: 12 } });
    await dataSource.initialize();
    store = new AuditStore(dataSource, new PersonIds('audit-int-person-id-secret'));
    await store.migrate();
    // Twice, as two replicas starting together would: nothing is created twice.
    await store.migrate();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await onServer(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  /** Runs SQL with triggers off, as only a superuser can: what tampering with the table directly looks like. */
  async function tamper(sql: string, params: unknown[] = []): Promise<void> {
    await dataSource.transaction(async (m) => {
      await m.query(`SET LOCAL session_replication_role = replica`);
      await m.query(sql, params);
    });
  }

  it('chains entries appended concurrently into one unbroken sequence that verifies, across pages', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.append([entry(i)])));
    await store.append(Array.from({ length: 25 }, (_, i) => entry(100 + i)));
    const result = await store.verify(7);
    expect(result).toEqual({ ok: true, entries: 65, first: '1', last: '65', head: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const rows: { seq: string; prev: Buffer; hash: Buffer; at: string; entry: string }[] = await dataSource.query(
      `SELECT seq::text AS seq, prev_hash AS prev, hash, audit.utc_text(at) AS at, entry FROM audit.audit_event ORDER BY audit_event.seq LIMIT 2`,
    );
    // The chain as documented: SHA-256(previous ‖ "<seq>\n<at>\n<entry>"), from 32 zero bytes.
    expect(rows[0]?.prev.equals(GENESIS_HASH)).toBe(true);
    expect(rows[0]?.hash.equals(chainHash(GENESIS_HASH, '1', rows[0].at, rows[0].entry))).toBe(true);
    expect(rows[1]?.prev.equals(rows[0]?.hash as Buffer)).toBe(true);
    expect(rows[0]?.entry).toBe(canonicalEntry(JSON.parse(rows[0]?.entry as string) as AuditEntry));
  });

  it('refuses UPDATE, DELETE and TRUNCATE, even from a superuser', async () => {
    await expect(dataSource.query(`UPDATE audit.audit_event SET entry = '{}' WHERE seq = 3`)).rejects.toThrow('the audit trail is append-only: UPDATE refused');
    await expect(dataSource.query(`DELETE FROM audit.audit_event WHERE seq = 3`)).rejects.toThrow('the audit trail is append-only: DELETE refused');
    await expect(dataSource.query(`TRUNCATE audit.audit_event`)).rejects.toThrow('the audit trail is append-only: TRUNCATE refused');
    // Even with the purge switch: nothing younger than six months goes.
    await expect(
      dataSource.transaction(async (m) => {
        await m.query(`SET LOCAL qmcb.audit_purge = 'on'`);
        await m.query(`DELETE FROM audit.audit_event WHERE seq = 3`);
      }),
    ).rejects.toThrow('append-only: DELETE refused');
    expect((await store.verify()).ok).toBe(true);
  });

  it('names the entry where the chain breaks: a changed entry, a removed one, a changed time', async () => {
    const original: { entry: string; at: Date }[] = await dataSource.query(`SELECT entry, at FROM audit.audit_event WHERE seq = 20`);
    const row = original[0] as { entry: string; at: Date };
    await tamper(`UPDATE audit.audit_event SET entry = replace(entry, '"service":"audit-int"', '"service":"audit-xxx"') WHERE seq = 20`);
    expect(await store.verify()).toMatchObject({ ok: false, entries: 19, problem: { seq: '20', reason: 'its hash does not match its contents' } });
    await tamper(`UPDATE audit.audit_event SET entry = $1 WHERE seq = 20`, [row.entry]);
    expect((await store.verify()).ok).toBe(true);

    await tamper(`UPDATE audit.audit_event SET at = at - interval '1 hour' WHERE seq = 30`);
    expect(await store.verify()).toMatchObject({ ok: false, problem: { seq: '30', reason: 'its hash does not match its contents' } });
    await tamper(`UPDATE audit.audit_event SET at = at + interval '1 hour' WHERE seq = 30`);

    const saved: Record<string, unknown>[] = await dataSource.query(`SELECT seq, audit.utc_text(at) AS at, entry, prev_hash, hash FROM audit.audit_event WHERE seq = 41`);
    await tamper(`DELETE FROM audit.audit_event WHERE seq = 41`);
    expect(await store.verify()).toMatchObject({ ok: false, entries: 40, problem: { seq: '42', reason: 'entry 41 is missing' } });
    const s = saved[0] as { seq: string; at: string; entry: string; prev_hash: Buffer; hash: Buffer };
    await tamper(`INSERT INTO audit.audit_event (seq, at, entry, prev_hash, hash) VALUES ($1, $2::timestamptz, $3, $4, $5)`, [s.seq, s.at, s.entry, s.prev_hash, s.hash]);
    expect((await store.verify()).ok).toBe(true);
  });

  it('purges only entries older than the retention (at least 183 days), leaving a purge entry that anchors what is kept', async () => {
    await expect(store.purge(90)).rejects.toThrow('the audit is kept at least 183 days (six months); 90 refused');
    expect(await store.purge(183)).toEqual({ removed: 0, through: null });
    // Back-date the first 10 entries by 400 days, re-chaining everything as the database would have.
    const rows: { seq: string; at: string; entry: string }[] = await dataSource.query(
      `SELECT seq::text AS seq, audit.utc_text(CASE WHEN seq <= 10 THEN at - interval '400 days' ELSE at END) AS at, entry FROM audit.audit_event ORDER BY audit_event.seq`,
    );
    let previous = GENESIS_HASH;
    for (const r of rows) {
      const hash = chainHash(previous, r.seq, r.at, r.entry);
      await tamper(`UPDATE audit.audit_event SET at = $2::timestamptz, prev_hash = $3, hash = $4 WHERE seq = $1::bigint`, [r.seq, r.at, previous, hash]);
      previous = hash;
    }
    expect((await store.verify()).ok).toBe(true);
    const tenth: { hash: Buffer }[] = await dataSource.query(`SELECT hash FROM audit.audit_event WHERE seq = 10`);
    expect(await store.purge(366)).toEqual({ removed: 10, through: '10' });
    const purge = (await store.search({ actor: 'operator', limit: 10 }))[0];
    expect(purge).toMatchObject({ action: 'purge', actor: 'operator', detail: JSON.stringify({ through: '10', hash: tenth[0]?.hash.toString('hex'), retentionDays: 366 }) });
    expect(await store.verify()).toEqual({ ok: true, entries: 56, first: '11', last: '66', head: expect.any(String) });
    // Without its anchor, the gap is reported.
    await tamper(`DELETE FROM audit.audit_event WHERE action = 'purge'`);
    expect(await store.verify()).toMatchObject({ ok: false, problem: { seq: '11', reason: 'entries before 11 are gone and no purge entry accounts for them' } });
  });

  it('finds entries by person, actor, time and division, page by page', async () => {
    const person = '440981198503151003';
    const byPerson = await store.search({ personKey: person, limit: 100 });
    expect(byPerson.length).toBeGreaterThan(0);
    expect(byPerson.every((e) => e.people.includes(person))).toBe(true);
    const page1 = await store.search({ actor: 'user:clerk-1', limit: 5 });
    const page2 = await store.search({ actor: 'user:clerk-1', limit: 5, after: page1[4]?.seq });
    expect(page1.map((e) => Number(e.seq))).toEqual([...page1.map((e) => Number(e.seq))].sort((a, b) => a - b));
    expect(Number(page2[0]?.seq)).toBeGreaterThan(Number(page1[4]?.seq));
    expect([...page1, ...page2].every((e) => e.actor === 'user:clerk-1' && e.division === '440981')).toBe(true);
    expect(await store.search({ division: '440902', limit: 10 })).toEqual([]);
    expect((await store.search({ division: '44', includeUndivided: true, limit: 1000 })).some((e) => e.actor === 'key:hr-1')).toBe(true);
    expect((await store.search({ division: '44', limit: 1000 })).some((e) => e.actor === 'key:hr-1')).toBe(false);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    expect(await store.search({ from: future, limit: 10 })).toEqual([]);
  });
});

/** A citizen ID (18 characters, check character X allowed) anywhere in a text. */
const CITIZEN_ID_IN_TEXT = /(?<![\dXx])\d{17}[\dXx](?![\dXx])/;

describe('audit store: people by person ID at rest (real PostgreSQL)', () => {
  const database = `qmcb_test_${randomBytes(6).toString('hex')}`;
  const ids = new PersonIds('audit-int-ids-secret', 'audit-int-ids-previous-secret');
  const CITIZEN = '44098119850315123X';
  const OTHER = '440981198706060021';
  const SURROGATE = `X-${'ab12'.repeat(8)}`;
  let dataSource: DataSource;
  let store: AuditStore;

  beforeAll(async () => {
    await onServer(`CREATE DATABASE ${database}`);
    dataSource = new DataSource({ type: 'postgres', ...PG, username: PG.user, database, extra: { max: 4 } });
    await dataSource.initialize();
    store = new AuditStore(dataSource, ids);
    await store.migrate();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await onServer(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  /** An entry as every writer wrote it before person IDs: the person keys in `people`, chained by the same trigger. */
  async function appendOldForm(e: AuditEntry): Promise<string> {
    const rows: { seq: string }[] = await dataSource.query(`INSERT INTO audit.audit_event (entry) VALUES ($1) RETURNING seq::text AS seq`, [canonicalEntry(e)]);
    return rows[0]?.seq as string;
  }

  async function stored(seq: string): Promise<{ entry: string; people: string[]; actor: string; request_id: string }> {
    const rows: { entry: string; people: string[]; actor: string; request_id: string }[] = await dataSource.query(
      `SELECT entry, people, actor, request_id FROM audit.audit_event WHERE seq = $1::bigint`,
      [seq],
    );
    return rows[0] as { entry: string; people: string[]; actor: string; request_id: string };
  }

  it('stores a new entry with person IDs and no citizen ID anywhere in its text, even where the caller put one in free text', async () => {
    const [seq] = await store.append([
      entry(1, {
        requestId: CITIZEN,
        actor: `user:${OTHER}`,
        purposeRef: `case of ${CITIZEN}`,
        people: [CITIZEN, SURROGATE, 'O-0123456789abcdef0123456789abcdef'],
        count: 3,
        detail: `lookup of ${OTHER} at 13812345678 failed`,
      }),
    ]);
    const row = await stored(seq as string);
    expect(row.entry).not.toMatch(CITIZEN_ID_IN_TEXT);
    for (const secret of [CITIZEN, OTHER, SURROGATE, '13812345678']) expect(row.entry).not.toContain(secret);
    expect(row.people).toEqual([ids.idOf(CITIZEN), ids.idOf(SURROGATE), 'O-0123456789abcdef0123456789abcdef']);
    expect(JSON.parse(row.entry)).toMatchObject({
      requestId: '440981********123X',
      actor: 'user:440981********0021',
      purposeRef: 'case of 440981********123X',
      detail: 'lookup of 440981********0021 at 138****5678 failed',
    });
    // Read back by person key, as every caller names people.
    expect((await store.search({ personKey: CITIZEN, limit: 10 }))[0]).toMatchObject({ seq, people: [CITIZEN, SURROGATE, 'O-0123456789abcdef0123456789abcdef'] });
  });

  it('finds by person both entries written before (the person key) and after (the person ID), under the current and the previous secret, and verifies the mixed chain', async () => {
    const old = await appendOldForm(entry(2, { people: [CITIZEN], actor: `user:${OTHER}` }));
    const [fresh] = await store.append([entry(3, { people: [CITIZEN, OTHER], count: 2 })]);
    // Written while PERSON_ID_SECRET_PREVIOUS was the current one (a rotation since).
    const [rotated] = await new AuditStore(dataSource, new PersonIds('audit-int-ids-previous-secret')).append([entry(4, { people: [CITIZEN] })]);
    await store.append([entry(5, { people: [OTHER] })]);
    expect((await stored(old)).people).toEqual([CITIZEN]);
    expect((await stored(fresh as string)).people).toEqual([ids.idOf(CITIZEN), ids.idOf(OTHER)]);

    const found = await store.search({ personKey: CITIZEN, limit: 100 });
    expect(found.map((e) => e.seq)).toEqual(['1', old, fresh, rotated]);
    expect(found.map((e) => e.people)).toEqual([[CITIZEN, SURROGATE, 'O-0123456789abcdef0123456789abcdef'], [CITIZEN], [CITIZEN, OTHER], [CITIZEN]]);
    // The actor as given finds the old entry (stored as given) and the new ones (stored masked).
    expect((await store.search({ actor: `user:${OTHER}`, limit: 100 })).map((e) => e.seq)).toEqual(['1', old]);
    expect(await store.verify()).toEqual({ ok: true, entries: 5, first: '1', last: '5', head: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('refuses to write people without PersonIds rather than store their keys; verifies and purges without it', async () => {
    const bare = new AuditStore(dataSource);
    await expect(bare.append([entry(6, { people: [CITIZEN] })])).rejects.toThrow('the audit store names people by person ID: construct it with PersonIds to write an entry that names people');
    await expect(bare.search({ personKey: CITIZEN, limit: 10 })).rejects.toThrow('construct it with PersonIds to search by person');
    await bare.append([entry(7, { people: [], count: 0 })]);
    expect((await bare.verify()).ok).toBe(true);
    expect(await bare.purge(183)).toEqual({ removed: 0, through: null });
  });

  it('keeps a UUID request ID as sent, though its hex holds digits shaped like a mobile number (the entry is found by it)', async () => {
    // One in a few hundred random UUIDs has such a run: masked, the entry was no longer found by the ID the client sent.
    const requestId = '123e4567-e89b-42d3-a456-a13812345678';
    const [seq] = await store.append([entry(9, { requestId })]);
    expect((await stored(seq as string)).request_id).toBe(requestId);
  });
});
