import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ADR 0011, stage 4: the whole record of a `record_snapshot` row sealed under the person's data key
 * (`sealed`, place `record_snapshot.record`); `record` keeps only its facts (statuses, divisions,
 * dates: nothing that names, reaches or describes the person; no SQL looks into it). Rows already
 * there stay as they are (`sealed` null, the whole record in `record`) and are read as before;
 * `npm run projection -- dynamic-update rebuild` seals every row at once.
 */
export class RecordSnapshotSealed1764892800000 implements MigrationInterface {
  name = 'RecordSnapshotSealed1764892800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE record_snapshot ADD COLUMN sealed bytea`);
    await q.query(`COMMENT ON COLUMN record_snapshot.sealed IS 'the whole record, AES-256-GCM under the person''s data key (ADR 0011); record holds its facts only'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE record_snapshot DROP COLUMN sealed`);
  }
}
