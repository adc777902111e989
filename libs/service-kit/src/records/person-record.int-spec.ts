import { randomBytes } from 'crypto';
import { SOURCE_RECORD_RECEIVED, deterministicId, newEvent } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { checkCharacter, foldEvents } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { closeSealers, openDataSource, sealerFor, sealingFromEnv } from '@qmcb/event-log';
import type { LogSealer } from '@qmcb/event-log';
import { PersonIds } from '@qmcb/platform';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { PersonRecordSealed1764806400000, PersonRecordTables1700000000200 } from './person-record.migration';
import { PersonKeyColumn } from './person-key-column';
import { PersonRecordRepository } from './person-record.repository';
import { canonicalJson, PersonalDataSealer, RecordSealer } from './record-sealer';
import { countPlainKeys, rekeyStep } from './rekey';

const valid = (first17: string): string => `${first17}${checkCharacter(first17)}`;
const A = valid('44098119850307201');
const B = valid('44098119921212452');
const C = valid('44098120000101666');
const NAME = '欧阳明远';
const PHONE = '13912345678';
const ADDRESS = '南宫居委会幸福路 18 号';

const household = (person: string, n: number): RegistrationEvent =>
  newEvent(
    SOURCE_RECORD_RECEIVED,
    deterministicId('at-rest', person, String(n)),
    person,
    {
      department: 'public-security', sourceRecordId: `HJ-${person.slice(-4)}-${n}`, mode: 'snapshot', asOf: '2026-11-01T00:00:00.000Z', citizenIdAsSent: person, citizenIdValid: true,
      facts: { kind: 'household', name: NAME, villageCode: '440981002001', status: 'normal', phone: PHONE, address: ADDRESS },
    },
    { source: 'svc:comparison', actor: 'svc:comparison', occurredAt: `2026-11-0${n}T00:00:00.000Z`, correlationId: deterministicId('corr', String(n)) },
  );
const recordOf = (person: string, n = 1): RegistrationRecord => foldEvents(Array.from({ length: n }, (_, i) => household(person, i + 1))) as RegistrationRecord;

// A database of this spec's own (service-kit may not use @qmcb/testing).
function serverUrl(database: string): string {
  const password = process.env['PGPASSWORD'] ? `:${encodeURIComponent(process.env['PGPASSWORD'])}` : '';
  return `postgres://${encodeURIComponent(process.env['PGUSER'] || 'postgres')}${password}@${process.env['PGHOST'] || '127.0.0.1'}:${process.env['PGPORT'] || '5432'}/${database}`;
}

async function onServer(statement: string): Promise<void> {
  const c = new Client({ connectionString: serverUrl('postgres') });
  await c.connect();
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}

describe('person_record sealed at rest, keyed by person ID (ADR 0011, stages 3 and 5; real PostgreSQL and keyring)', () => {
  const name = `qmcb_test_${randomBytes(6).toString('hex')}`;
  const env = {
    ...process.env,
    KEYRING_DATABASE_URL: serverUrl(name),
    KEYRING_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LOG_PERSON_REF_SECRET: randomBytes(32).toString('base64url'),
  };
  let ds: DataSource;
  let log: LogSealer;
  let repo: PersonRecordRepository;
  const ids = new PersonIds(randomBytes(32).toString('base64url'));
  const keys = new PersonKeyColumn(ids);
  const raw = async (person: string): Promise<{ text: string; record: Record<string, unknown>; sealed: Buffer | null } | undefined> =>
    (await ds.query(`SELECT row_to_json(p)::text AS text, record, sealed FROM person_record p WHERE person_key = $1`, [ids.idOf(person)]))[0];

  beforeAll(async () => {
    await onServer(`create database ${name}`);
    ds = await openDataSource({ url: serverUrl(name), schema: 'probe', migrations: [PersonRecordTables1700000000200, PersonRecordSealed1764806400000] });
    log = await sealerFor({ sealing: sealingFromEnv(env) });
    repo = new PersonRecordRepository(RecordSealer.fromEnv(env), keys);
  });

  afterAll(async () => {
    await closeSealers();
    if (ds?.isInitialized) await ds.destroy();
    await onServer(`drop database if exists ${name} with (force)`);
  });

  it('stores no name, phone or address readable, and reads back exactly what was saved', async () => {
    const record = recordOf(A, 2);
    await ds.transaction((m) => repo.saveMany(m, [record]));
    const row = await raw(A);
    expect(row?.sealed).toBeInstanceOf(Buffer);
    // Not even the citizen ID: the key column holds the person ID (stage 5).
    expect(row?.text).toContain(ids.idOf(A));
    for (const value of [A, A.slice(0, 17), NAME, PHONE, ADDRESS, '幸福路']) {
      expect(row?.text).not.toContain(value);
      expect(row?.sealed?.includes(Buffer.from(value, 'utf8'))).toBe(false);
    }
    // What SQL may select on stays readable, and nothing else.
    expect(row?.record).toEqual({ version: 2, citizenIdValid: true, hukouDivision: record.hukouDivision, hukouStatus: 'normal', insurance: {}, migration: null });
    expect(await repo.find(ds.manager, A)).toEqual(record);
    expect(await ds.transaction((m) => repo.findMany(m, [A, B], true))).toEqual(new Map([[A, record]]));
  });

  it('writes a batch bigger than one statement takes (10,000 rows each) whole, each person their own sealed record', async () => {
    const people = Array.from({ length: 10_003 }, (_, i) => valid(`4409812001${String(i).padStart(7, '0')}`));
    const records = people.map((p) => recordOf(p));
    await ds.transaction((m) => repo.saveMany(m, records));
    const [{ n }] = (await ds.query(`SELECT count(*)::int AS n FROM person_record WHERE person_key = ANY($1::text[]) AND sealed IS NOT NULL`, [people.map((p) => ids.idOf(p))])) as { n: number }[];
    expect(n).toBe(10_003);
    const sample = [people[0], people[9_999], people[10_000], people[10_002]] as string[];
    const back = await ds.transaction((m) => repo.findMany(m, sample));
    expect(sample.map((p) => back.get(p))).toEqual(sample.map((p) => records[people.indexOf(p)]));
    await ds.query(`DELETE FROM person_record WHERE person_key = ANY($1::text[])`, [people.map((p) => ids.idOf(p))]);
  });

  it('seals the same record to the same bytes however its keys were ordered (a projection equals its rebuild)', async () => {
    const record = recordOf(B);
    await ds.transaction((m) => repo.saveMany(m, [record]));
    const first = (await raw(B))?.sealed;
    const reordered = JSON.parse(canonicalJson(record)) as RegistrationRecord;
    const shuffled = Object.fromEntries(Object.entries(reordered).reverse()) as unknown as RegistrationRecord;
    await ds.transaction((m) => repo.saveMany(m, [shuffled]));
    expect((await raw(B))?.sealed?.equals(first as Buffer)).toBe(true);
  });

  it('refuses a sealed record moved to another person’s row', async () => {
    const sealedOfA = (await raw(A))?.sealed;
    await ds.query(`UPDATE person_record SET sealed = $1 WHERE person_key = $2`, [sealedOfA, ids.idOf(B)]);
    await expect(repo.find(ds.manager, B)).rejects.toThrow(/Unsupported state or unable to authenticate data/);
    await ds.transaction((m) => repo.saveMany(m, [recordOf(B)]));
  });

  it('seals any personal value for its place: opened only there and only for that person', async () => {
    const values = PersonalDataSealer.fromEnv(env);
    const form = { name: NAME, phone: PHONE, members: [{ name: '欧阳小明', relation: '子' }] };
    const [sealed, ofC] = await values.seal('review_item.form', [{ personKey: B, value: form }, { personKey: C, value: {} }]);
    expect(ofC).toBeInstanceOf(Buffer);
    expect(sealed?.includes(Buffer.from(NAME, 'utf8'))).toBe(false);
    expect(await values.open('review_item.form', [{ personKey: B, sealed: sealed as Buffer }, { personKey: C, sealed: null, plain: { legacy: true } }])).toEqual([form, { legacy: true }]);
    await expect(values.open('survey_visit.payload', [{ personKey: B, sealed: sealed as Buffer }])).rejects.toThrow(/unable to authenticate/);
    await expect(values.open('review_item.form', [{ personKey: C, sealed: sealed as Buffer }])).rejects.toThrow(/unable to authenticate/);
  });

  it('reads a row written before sealing (re-keyed) as it is, and seals it when it is next written', async () => {
    const record = recordOf(C);
    await ds.query(`INSERT INTO person_record (person_key, record, version, division) VALUES ($1, $2, 1, '440981002001')`, [ids.idOf(C), JSON.stringify(record)]);
    expect(await repo.find(ds.manager, C)).toEqual(record);
    const next = recordOf(C, 2);
    await ds.transaction((m) => repo.saveMany(m, [next]));
    expect((await raw(C))?.text).not.toContain(NAME);
    expect(await repo.find(ds.manager, C)).toEqual(next);
  });

  it('re-keys, then seals, the rows written before stages 3 and 5 in steps, versions unchanged (seal-records)', async () => {
    const people = [valid('44098119700101001'), valid('44098119700101002'), valid('44098119700101003')];
    for (const p of people) await ds.query(`INSERT INTO person_record (person_key, record, version, division) VALUES ($1, $2, 1, '440981002001')`, [p, JSON.stringify(recordOf(p))]);
    const col = { table: 'person_record', column: 'person_key' };
    expect(await countPlainKeys(ds.manager, col)).toBe(3);
    // Not found by key before the re-keying: lookups go by the person ID.
    expect(await repo.find(ds.manager, people[0] as string)).toBeNull();
    const rekeyed: { last: string | null; changed: number }[] = [];
    let from: string | null = null;
    for (;;) {
      const step: { last: string | null; changed: number } = await ds.transaction((m) => rekeyStep(m, keys, col, from, 2));
      rekeyed.push(step);
      if (step.last === null) break;
      from = step.last;
    }
    // Steps of two distinct values (the sealed rows of the tests above are current: looked at, left alone).
    expect(rekeyed.reduce((n, s) => n + s.changed, 0)).toBe(3);
    expect(rekeyed[rekeyed.length - 1]).toEqual({ last: null, changed: 0 });
    expect(await countPlainKeys(ds.manager, col)).toBe(0);
    // A second run changes nothing.
    expect(await ds.transaction((m) => rekeyStep(m, keys, col, null, 100))).toMatchObject({ changed: 0 });
    const order = people.map((p) => ids.idOf(p)).sort();
    const steps: { last: string | null; sealed: number }[] = [];
    let after: string | null = null;
    for (;;) {
      const step: { last: string | null; sealed: number } = await ds.transaction((m) => repo.sealPlainRows(m, after, 2));
      steps.push(step);
      if (step.last === null) break;
      after = step.last;
    }
    expect(steps).toEqual([{ last: order[1], sealed: 2 }, { last: order[2], sealed: 1 }, { last: null, sealed: 0 }]);
    expect(await ds.query(`SELECT count(*)::int AS n FROM person_record WHERE sealed IS NULL`)).toEqual([{ n: 0 }]);
    for (const p of people) {
      expect((await raw(p))?.text).not.toContain(NAME);
      expect((await raw(p))?.text).not.toContain(p);
      expect(await repo.find(ds.manager, p)).toEqual(recordOf(p));
    }
  });

  it('re-keys a person ID of the previous PERSON_ID_SECRET (a rotation) and prefixed keys, and refuses to merge a person with rows under both forms', async () => {
    const oldSecret = randomBytes(32).toString('base64url');
    const newSecret = randomBytes(32).toString('base64url');
    const before = new PersonIds(oldSecret);
    const rotated = new PersonKeyColumn(new PersonIds(newSecret, oldSecret));
    const after = new PersonIds(newSecret);
    const [p, q, r] = [valid('44098119700101004'), valid('44098119700101005'), valid('44098119700101006')];
    await ds.query(`CREATE TABLE key_probe (person_key text PRIMARY KEY, household_key text, n int)`);
    await ds.query(`INSERT INTO key_probe VALUES ($1, $2, 1), ($3, 'H-0707', 2), ($4, $5, 3)`, [before.idOf(p), `P-${p}`, q, after.idOf(r), `P-${before.idOf(r)}`]);
    const col = { table: 'key_probe', column: 'person_key' };
    const household = { table: 'key_probe', column: 'household_key', prefix: 'P-' };
    expect(await countPlainKeys(ds.manager, col)).toBe(1);
    expect(await countPlainKeys(ds.manager, household)).toBe(1);
    expect(await ds.transaction((m) => rekeyStep(m, rotated, col, null, 100))).toEqual({ last: expect.any(String), changed: 2 });
    expect(await ds.transaction((m) => rekeyStep(m, rotated, household, null, 100))).toEqual({ last: expect.any(String), changed: 2 });
    expect(await ds.query(`SELECT person_key, household_key, n FROM key_probe ORDER BY n`)).toEqual([
      { person_key: after.idOf(p), household_key: `P-${after.idOf(p)}`, n: 1 },
      { person_key: after.idOf(q), household_key: 'H-0707', n: 2 },
      { person_key: after.idOf(r), household_key: `P-${after.idOf(r)}`, n: 3 },
    ]);
    // Rows of one person under both forms in a unique column: named, nothing changed.
    const s = valid('44098119700101007');
    await ds.query(`INSERT INTO key_probe VALUES ($1, NULL, 4), ($2, NULL, 5)`, [s, after.idOf(s)]);
    await expect(ds.transaction((m) => rekeyStep(m, rotated, col, null, 100))).rejects.toThrow(
      'key_probe.person_key: a person has rows under both the plain key and the person ID (written by this version before re-keying); stop the service, rebuild the projection (`rebuild`) or delete the newer rows, then run seal-records again',
    );
    expect(await ds.query(`SELECT n FROM key_probe WHERE person_key = $1`, [s])).toEqual([{ n: 4 }]);
  });

  it('opens nothing of a person whose key is shredded, and does not write them again', async () => {
    const ref = log.personRef(A);
    expect(await log.keyring.shred(ref, 'int test of ADR 0011')).toBe(true);
    const opener = new PersonRecordRepository(RecordSealer.fromEnv({ ...env }), keys);
    // A fresh keyring cache is not needed: shred drops the process's cached key.
    expect(await opener.find(ds.manager, A)).toBeNull();
    await ds.query(`DELETE FROM person_record WHERE person_key = $1`, [ids.idOf(A)]);
    await ds.transaction((m) => repo.saveMany(m, [recordOf(A, 3)]));
    expect(await raw(A)).toBeUndefined();
  });
});
