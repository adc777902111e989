import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Index behind `GET /flags?reason=…` and the reason counts of `GET /flags/summary` (src/flags):
 * people by reason code (`reason_codes @> ARRAY['UNINSURED']`). Written only when an outcome
 * changes, so it costs the projection little. `IF NOT EXISTS`: a rebuild beside the live projection
 * runs the same migrations.
 */
export class FlagListIndexes1700000004100 implements MigrationInterface {
  name = 'FlagListIndexes1700000004100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS current_outcome_reason_codes_idx ON current_outcome USING gin (reason_codes)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS current_outcome_reason_codes_idx`);
  }
}
