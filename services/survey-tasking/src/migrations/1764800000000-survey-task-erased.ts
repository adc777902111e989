import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `survey_task_erased`: a target deleted by a person's erasure (ADR 0010), one row per surveyor who
 * held it, so their devices' next download lists it as removed. It holds the target's ID, the
 * surveyor, the village and when: nothing of the person (the task ID is the one their downloads
 * already carried). A rebuild has no such rows (it opens no event of the erased person).
 */
export class SurveyTaskErased1764800000000 implements MigrationInterface {
  name = 'SurveyTaskErased1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE survey_task_erased (
      task_id uuid NOT NULL,
      surveyor_id text NOT NULL,
      village_code char(12) NOT NULL,
      erased_at timestamptz NOT NULL,
      synced_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
      PRIMARY KEY (task_id, surveyor_id))`);
    await q.query(`CREATE INDEX survey_task_erased_feed_idx ON survey_task_erased (surveyor_id, synced_xid, task_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE survey_task_erased`);
  }
}
