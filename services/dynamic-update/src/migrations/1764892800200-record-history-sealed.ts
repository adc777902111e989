import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ADR 0011, stage 4: what a `record_history` row says of the person (the changes: names, phones,
 * addresses from and to; the event as the log carried it, facts included) sealed under the person's
 * data key (`sealed`, place `record_history`); `changes` is left `[]` and `event` null. The row's
 * other columns (version, event ID, type, source, actor, times, correlation) stay: the as-of reads
 * select on them. Rows already there stay as they are (`sealed` null) and are read as before;
 * `npm run projection -- dynamic-update rebuild` seals every row at once.
 */
export class RecordHistorySealed1764892800200 implements MigrationInterface {
  name = 'RecordHistorySealed1764892800200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE record_history ADD COLUMN sealed bytea`);
    await q.query(`COMMENT ON COLUMN record_history.sealed IS 'the changes and the event, AES-256-GCM under the person''s data key (ADR 0011); changes is [] and event null when set'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE record_history DROP COLUMN sealed`);
  }
}
