import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ReviewTables1700000003000 implements MigrationInterface {
  name = 'ReviewTables1700000003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE review_item (
        review_id uuid PRIMARY KEY,
        submission_id uuid NOT NULL UNIQUE,
        task_id uuid NOT NULL,
        person_key text NOT NULL,
        village_code char(12) NOT NULL,
        township_code char(9) NOT NULL,
        county_code char(6) NOT NULL,
        stage text NOT NULL CHECK (stage IN ('initial', 'final', 'done')),
        status text NOT NULL CHECK (status IN ('pending', 'approved', 'returned')),
        form jsonb NOT NULL,
        surveyor_id text NOT NULL,
        submitted_at timestamptz NOT NULL,
        based_on_version integer,
        initial_reviewer text,
        initial_comment text,
        final_reviewer text,
        return_reason text,
        updated_at timestamptz NOT NULL,
        version integer NOT NULL DEFAULT 1
      )`);
    await q.query(`CREATE INDEX review_item_queue_idx ON review_item (stage, status, township_code)`);
    await q.query(`CREATE INDEX review_item_person_idx ON review_item (person_key)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE review_item`);
  }
}
