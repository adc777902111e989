import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A target closes by itself when its person no longer needs a survey, and may reopen (ADR 0003). */
export class SurveyTaskClosed1700000002100 implements MigrationInterface {
  name = 'SurveyTaskClosed1700000002100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE survey_task DROP CONSTRAINT survey_task_status_check`);
    await q.query(`ALTER TABLE survey_task ADD CONSTRAINT survey_task_status_check
      CHECK (status IN ('open', 'submitted', 'initial-approved', 'approved', 'returned', 'closed'))`);
    await q.query(`ALTER TABLE survey_task ADD COLUMN closed_reason text`);
    await q.query(`CREATE INDEX survey_task_person_latest_idx ON survey_task (person_key, created_at DESC, task_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX survey_task_person_latest_idx`);
    await q.query(`ALTER TABLE survey_task DROP COLUMN closed_reason`);
    await q.query(`ALTER TABLE survey_task DROP CONSTRAINT survey_task_status_check`);
    await q.query(`ALTER TABLE survey_task ADD CONSTRAINT survey_task_status_check
      CHECK (status IN ('open', 'submitted', 'initial-approved', 'approved', 'returned'))`);
  }
}
