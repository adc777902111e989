import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ADR 0011, stage 4: the changes a feed entry carries (names, phones, addresses as they changed)
 * sealed under the person's data key (`feed_entry.sealed`, place `feed_entry.changes`), `changes`
 * left `[]`: SQL selects entries on their divisions and type only. Entries already there stay as
 * they are (`sealed` null, the changes in `changes`) and are read as before. A dead letter's entries
 * belong to several people: each entry of `webhook_dead_letter.entries` carries its own changes
 * sealed (`sealed`, base64, place `webhook_dead_letter.entries`) instead of `changes`, so the
 * erasure still takes a person's entries out of the array by citizen ID.
 */
export class FeedChangesSealed1764892800100 implements MigrationInterface {
  name = 'FeedChangesSealed1764892800100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE feed_entry ADD COLUMN sealed bytea`);
    await q.query(`COMMENT ON COLUMN feed_entry.sealed IS 'the changes, AES-256-GCM under the person''s data key (ADR 0011); changes is [] when set'`);
    await q.query(`COMMENT ON COLUMN webhook_dead_letter.entries IS 'the entries as delivered; each entry''s changes sealed under its person''s data key in its "sealed" (ADR 0011)'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`COMMENT ON COLUMN webhook_dead_letter.entries IS NULL`);
    await q.query(`ALTER TABLE feed_entry DROP COLUMN sealed`);
  }
}
