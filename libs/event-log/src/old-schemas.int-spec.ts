import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dropOldSchemas, listOldSchemas } from './old-schemas';
import { newDatabase } from './test-support/harness';
import type { TestDatabase } from './test-support/harness';

describe('the schemas rebuilds leave behind', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const schemas = async (): Promise<string[]> =>
    ((await ds.query(`select nspname from pg_namespace where nspname like 'proj%' order by nspname`)) as { nspname: string }[]).map((r) => r.nspname);

  beforeAll(async () => {
    db = await newDatabase();
    ds = new DataSource({ type: 'postgres', url: db.url, synchronize: false, logging: false });
    await ds.initialize();
    // The live projection, a rebuild in progress, three swapped-out ones, and look-alikes of another projection.
    for (const s of ['proj', 'proj__rebuild', 'proj__old_1764547200000', 'proj__old_1764633600000', 'proj__old_1764720000000', 'proj2__old_1764547200000', 'proj__old_x', 'proj__older_1']) {
      await ds.query(`create schema "${s}"`);
    }
    await ds.query(`create table "proj__old_1764547200000".person_record (person_key text primary key)`);
    await ds.query(`insert into "proj__old_1764547200000".person_record values ('440981198512157673')`);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('lists only the swapped-out schemas of the projection, oldest first, with when each was swapped out', async () => {
    const swapped = [
      { name: 'proj__old_1764547200000', kind: 'swapped-out', swappedOutAt: '2025-12-01T00:00:00.000Z' },
      { name: 'proj__old_1764633600000', kind: 'swapped-out', swappedOutAt: '2025-12-02T00:00:00.000Z' },
      { name: 'proj__old_1764720000000', kind: 'swapped-out', swappedOutAt: '2025-12-03T00:00:00.000Z' },
    ];
    // A rebuild running (it holds its lock for the whole run): its schema is not left behind.
    const rebuild = new Client({ connectionString: db.url });
    await rebuild.connect();
    try {
      await rebuild.query('select pg_advisory_lock(hashtext($1))', ['qmcb.rebuild.proj']);
      expect(await listOldSchemas(ds, 'proj')).toEqual(swapped);
      expect((await dropOldSchemas(ds, 'proj', 3)).map((s) => s.name)).toEqual([]);
      expect(await schemas()).toContain('proj__rebuild');
    } finally {
      await rebuild.end();
    }
    // None running: the schema of the rebuild that stopped before its swap is left behind too.
    expect(await listOldSchemas(ds, 'proj')).toEqual([...swapped, { name: 'proj__rebuild', kind: 'unfinished-rebuild', swappedOutAt: null }]);
  });

  it('drops all but the newest kept and the unfinished rebuild, tables and rows with them, and nothing else', async () => {
    expect((await dropOldSchemas(ds, 'proj', 1)).map((s) => s.name)).toEqual(['proj__old_1764547200000', 'proj__old_1764633600000', 'proj__rebuild']);
    expect(await schemas()).toEqual(['proj', 'proj2__old_1764547200000', 'proj__old_1764720000000', 'proj__old_x', 'proj__older_1']);
    expect((await dropOldSchemas(ds, 'proj')).map((s) => s.name)).toEqual(['proj__old_1764720000000']);
    expect(await dropOldSchemas(ds, 'proj')).toEqual([]);
    expect(await schemas()).toEqual(['proj', 'proj2__old_1764547200000', 'proj__old_x', 'proj__older_1']);
  });

  it('refuses a schema name that is not one and a keep that is not a whole number', async () => {
    await expect(listOldSchemas(ds, 'proj"; drop schema proj; --')).rejects.toThrow();
    await expect(dropOldSchemas(ds, 'proj', -1)).rejects.toThrow('keep must be a whole number of schemas, got -1');
    expect(await schemas()).toContain('proj');
  });
});
