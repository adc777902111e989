import { allMigrations } from '@qmcb/service-kit';
import { applyBothWays, workflowLog } from '@qmcb/testing';
import type { BothWays } from '@qmcb/testing';
import type { DataSource } from 'typeorm';
import { RegistryTables1700000004000 } from '../migrations/1700000004000-registry-tables';
import { RegistryHandler } from './registry.handler';

jest.setTimeout(240_000);

async function tables(ds: DataSource): Promise<Record<string, unknown>> {
  return {
    records: await ds.query(`SELECT person_key, record, version, division FROM person_record ORDER BY person_key`),
    history: await ds.query(`SELECT * FROM record_history ORDER BY person_key, version`),
  };
}

describe('dynamic update: applyBatch leaves the tables apply leaves', () => {
  let both: BothWays;

  afterAll(async () => {
    await both?.close();
  });

  it('the same registry records and history, row for row', async () => {
    const events = workflowLog(300);
    both = await applyBothWays({ handler: new RegistryHandler(), schema: 'dynamic_update', migrations: allMigrations([RegistryTables1700000004000]), events });
    // Every chunk went through applyBatch (none fell back to one by one).
    expect(both.fallbacks).toBe(0);
    const [one, batched] = [await tables(both.oneByOne), await tables(both.batched)];
    expect((one['history'] as unknown[]).length).toBe(events.length);
    expect(batched).toEqual(one);
  });
});
