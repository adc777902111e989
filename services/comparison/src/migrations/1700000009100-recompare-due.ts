import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The next day each person's decision may change by itself (turning 16 or 60, school end, release,
 * an employer opening or closing), as comparison computed it when it last compared them; the
 * scheduler appends a `comparison.recompare-due` event for each row that falls due.
 */
export class RecompareDue1700000009100 implements MigrationInterface {
  name = 'RecompareDue1700000009100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE recompare_due (
        person_key text PRIMARY KEY,
        due_date date NOT NULL,
        because text[] NOT NULL,
        basis_event_id text NOT NULL,
        fired_at timestamptz
      )`);
    await q.query(`CREATE INDEX recompare_due_pending ON recompare_due (due_date, person_key) WHERE fired_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE recompare_due`);
  }
}
