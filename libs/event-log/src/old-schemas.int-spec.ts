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
    expect(await listOldSchemas(ds, 'proj')).toEqual([
      { name: 'proj__old_1764547200000', swappedOutAt: '2025-12-01T00:00:00.000Z' },
      { name: 'proj__old_1764633600000', swappedOutAt: '2025-12-02T00:00:00.000Z' },
      { name: 'proj__old_1764720000000', swappedOutAt: '2025-12-03T00:00:00.000Z' },
    ]);
  });

  it('drops all but the newest kept, tables and rows with them, and nothing else', async () => {
    expect((await dropOldSchemas(ds, 'proj', 1)).map((s) => s.name)).toEqual(['proj__old_1764547200000', 'proj__old_1764633600000']);
    expect(await schemas()).toEqual(['proj', 'proj2__old_1764547200000', 'proj__old_1764720000000', 'proj__old_x', 'proj__older_1', 'proj__rebuild']);
    expect((await dropOldSchemas(ds, 'proj')).map((s) => s.name)).toEqual(['proj__old_1764720000000']);
    expect(await dropOldSchemas(ds, 'proj')).toEqual([]);
    expect(await schemas()).toEqual(['proj', 'proj2__old_1764547200000', 'proj__old_x', 'proj__older_1', 'proj__rebuild']);
  });

  it('refuses a schema name that is not one and a keep that is not a whole number', async () => {
    await expect(listOldSchemas(ds, 'proj"; drop schema proj; --')).rejects.toThrow();
    await expect(dropOldSchemas(ds, 'proj', -1)).rejects.toThrow('keep must be a whole number of schemas, got -1');
    expect(await schemas()).toContain('proj');
  });
});
