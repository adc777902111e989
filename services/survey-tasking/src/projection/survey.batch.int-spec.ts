import { allMigrations } from '@qmcb/service-kit';
import { applyBothWays, workflowLog } from '@qmcb/testing';
import type { BothWays } from '@qmcb/testing';
import type { DataSource } from 'typeorm';
import { SurveyTables1700000002000 } from '../migrations/1700000002000-survey-tables';
import { SurveyHandler } from './survey.handler';

jest.setTimeout(240_000);

/**
 * What differs between two runs anyway: the time survey tasking gives a task it creates (the wall
 * clock when it decides), and with it the record's `updatedAt` and the task's timestamps.
 */
async function tables(ds: DataSource): Promise<Record<string, unknown>> {
  const records: { person_key: string; record: Record<string, unknown>; version: number; division: string | null }[] = await ds.query(
    `SELECT person_key, record, version, division FROM person_record ORDER BY person_key`,
  );
  return {
    records: records.map(({ record: { updatedAt: _u, ...record }, ...row }) => ({ ...row, record })),
    tasks: await ds.query(`SELECT task_id, person_key, village_code, status, reasons, submission_id, surveyor_id, return_reason, version FROM survey_task ORDER BY task_id`),
    emitted: await ds.query(`SELECT event_id, person_key FROM outbox ORDER BY event_id`),
    applied: await ds.query(`SELECT count(*)::int AS n FROM applied_event`),
  };
}

describe('survey tasking: applyBatch leaves the tables apply leaves', () => {
  const opened: BothWays[] = [];

  afterAll(async () => {
    for (const both of opened) await both.close();
  });

  const run = async (tasksOnTheLog: boolean): Promise<BothWays> => {
    const events = workflowLog(300, { tasks: tasksOnTheLog });
    const both = await applyBothWays({ handler: new SurveyHandler(), schema: 'survey_tasking', migrations: allMigrations([SurveyTables1700000002000]), events });
    opened.push(both);
    const [one, batched] = [await tables(both.oneByOne), await tables(both.batched)];
    expect((one['tasks'] as unknown[]).length).toBe(300);
    expect((one['emitted'] as unknown[]).length).toBe(300);
    expect(batched).toEqual(one);
    return both;
  };

  it('same records, tasks and emitted tasks from a log of outcomes, forms and reviews (the tasks created while consuming)', async () => {
    const both = await run(false);
    // Every chunk went through applyBatch (none fell back to one by one).
    expect(both.fallbacks).toBe(0);
  });

  it('the same again when the log already holds the tasks it creates (a projection started over on an old log): those chunks fall back to one by one', async () => {
    const both = await run(true);
    // A chunk with an outcome and, further on, the task it leads to: the fold cannot emit and also
    // apply the copy from the log, so the chunk is applied one by one (which skips the copy).
    expect(both.fallbacks).toBeGreaterThan(0);
  });
});
