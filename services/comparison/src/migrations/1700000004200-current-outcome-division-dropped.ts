import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `current_outcome.division` was written only when an outcome changed, so it went stale when a person
 * moved; every reader joins `person_record.division`, which is written with every event. Dropped.
 */
export class CurrentOutcomeDivisionDropped1700000004200 implements MigrationInterface {
  name = 'CurrentOutcomeDivisionDropped1700000004200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS current_outcome_division_idx`);
    await q.query(`ALTER TABLE current_outcome DROP COLUMN IF EXISTS division`);
    await q.query(`CREATE INDEX IF NOT EXISTS current_outcome_outcome_idx ON current_outcome (outcome)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS current_outcome_outcome_idx`);
    await q.query(`ALTER TABLE current_outcome ADD COLUMN division text`);
    await q.query(`CREATE INDEX current_outcome_division_idx ON current_outcome (outcome, division text_pattern_ops)`);
  }
}
