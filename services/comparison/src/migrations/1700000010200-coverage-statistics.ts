import type { MigrationInterface, QueryRunner } from 'typeorm';

const TYPES = ['pension', 'medical', 'unemployment', 'work_injury', 'maternity'];
const TYPE_COLUMNS = TYPES.map((t) => `${t}_status text, ${t}_reason text, ${t}_regions text`).join(',\n        ');

/**
 * Coverage statistics (docs/design/coverage-statistics.md): per person what the figures count, as it
 * stands (`coverage_current`) and every earlier version with the time it held (`coverage_history`,
 * [valid_from, valid_to)), so that any figure and its detail list can be asked as of a past time.
 */
export class CoverageStatistics1700000010200 implements MigrationInterface {
  name = 'CoverageStatistics1700000010200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS coverage_current (
        person_key text PRIMARY KEY,
        valid_from timestamptz NOT NULL,
        village text,
        division text,
        in_population boolean NOT NULL,
        birth_date date,
        outcome text NOT NULL,
        surveyed_reason text,
        sig integer NOT NULL,
        ${TYPE_COLUMNS}
      )`);
    // Figures of a township or village (LIKE prefix); the county walks the table.
    await q.query(`CREATE INDEX IF NOT EXISTS coverage_current_village_idx ON coverage_current (village text_pattern_ops, person_key) WHERE in_population`);
    await q.query(`CREATE INDEX IF NOT EXISTS coverage_current_from_idx ON coverage_current (valid_from)`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS coverage_history (
        id bigserial PRIMARY KEY,
        person_key text NOT NULL,
        valid_from timestamptz NOT NULL,
        valid_to timestamptz NOT NULL CHECK (valid_to > valid_from),
        village text,
        division text,
        in_population boolean NOT NULL,
        birth_date date,
        outcome text NOT NULL,
        surveyed_reason text,
        sig integer NOT NULL,
        ${TYPE_COLUMNS}
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS coverage_history_person_idx ON coverage_history (person_key, valid_from)`);
    // As of a past time: versions that started by then (valid_from) and ended after (valid_to); changes between two times (valid_to).
    await q.query(`CREATE INDEX IF NOT EXISTS coverage_history_from_idx ON coverage_history (valid_from)`);
    await q.query(`CREATE INDEX IF NOT EXISTS coverage_history_to_idx ON coverage_history (valid_to)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS coverage_history`);
    await q.query(`DROP TABLE IF EXISTS coverage_current`);
  }
}
