import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SurveyTables1700000002000 implements MigrationInterface {
  name = 'SurveyTables1700000002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE survey_task (
        task_id uuid PRIMARY KEY,
        person_key text NOT NULL,
        village_code char(12) NOT NULL,
        township_code char(9) NOT NULL,
        county_code char(6) NOT NULL,
        status text NOT NULL CHECK (status IN ('open', 'submitted', 'initial-approved', 'approved', 'returned')),
        reasons text[] NOT NULL,
        submission_id uuid,
        surveyor_id text,
        return_reason text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        version integer NOT NULL DEFAULT 1
      )`);
    await q.query(`CREATE INDEX survey_task_village_idx ON survey_task (village_code, status)`);
    await q.query(`CREATE INDEX survey_task_person_idx ON survey_task (person_key)`);
    await q.query(`CREATE UNIQUE INDEX survey_task_submission_idx ON survey_task (submission_id) WHERE submission_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE survey_task`);
  }
}
