import { allMigrations } from '@qmcb/service-kit';
import { applyBothWays, workflowLog } from '@qmcb/testing';
import type { BothWays } from '@qmcb/testing';
import type { DataSource } from 'typeorm';
import { ReviewTables1700000003000 } from '../migrations/1700000003000-review-tables';
import { ReviewHandler } from './review.handler';

jest.setTimeout(240_000);

async function tables(ds: DataSource): Promise<Record<string, unknown>> {
  return {
    records: await ds.query(`SELECT person_key, record, version, division FROM person_record ORDER BY person_key`),
    items: await ds.query(`SELECT * FROM review_item ORDER BY review_id`),
    applied: await ds.query(`SELECT count(*)::int AS n FROM applied_event`),
  };
}

describe('review: applyBatch leaves the tables apply leaves', () => {
  let both: BothWays;

  afterAll(async () => {
    await both?.close();
  });

  it('the same records and review items, row for row', async () => {
    const events = workflowLog(300);
    both = await applyBothWays({ handler: new ReviewHandler(), schema: 'review', migrations: allMigrations([ReviewTables1700000003000]), events });
    // Every chunk went through applyBatch (none fell back to one by one).
    expect(both.fallbacks).toBe(0);
    const [one, batched] = [await tables(both.oneByOne), await tables(both.batched)];
    expect((one['items'] as unknown[]).length).toBe(225);
    expect(batched).toEqual(one);
  });
});
