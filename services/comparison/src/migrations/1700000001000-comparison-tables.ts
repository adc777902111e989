import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ComparisonTables1700000001000 implements MigrationInterface {
  name = 'ComparisonTables1700000001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outcome_history (
        event_id text PRIMARY KEY,
        person_key text NOT NULL,
        outcome text NOT NULL,
        previous_outcome text NOT NULL,
        reasons jsonb NOT NULL,
        based_on_version integer,
        decided_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX outcome_history_person_idx ON outcome_history (person_key, decided_at)`);
    await q.query(`
      CREATE TABLE current_outcome (
        person_key text PRIMARY KEY,
        outcome text NOT NULL,
        reason_codes text[] NOT NULL,
        division text,
        decided_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX current_outcome_division_idx ON current_outcome (outcome, division text_pattern_ops)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE current_outcome`);
    await q.query(`DROP TABLE outcome_history`);
  }
}
