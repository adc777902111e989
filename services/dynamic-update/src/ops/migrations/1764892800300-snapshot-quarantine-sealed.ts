import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ADR 0011: a roster line refused by a snapshot is kept sealed (`raw_sealed`, place
 * `snapshot_quarantine.raw`, under a data key of the snapshot's own, `snapshot:<snapshot ID>` in the
 * keyring: a refused line may name nobody valid), not as text; `person_refs` holds the person refs
 * (ADR 0009's HMAC) of every citizen-ID-shaped string in the line, so an erasure still deletes the
 * lines naming the person. Lines refused before keep `raw` (and are found by it, and read as they are).
 */
export class SnapshotQuarantineSealed1764892800300 implements MigrationInterface {
  name = 'SnapshotQuarantineSealed1764892800300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE snapshot_quarantine ALTER COLUMN raw DROP NOT NULL, ADD COLUMN raw_sealed bytea, ADD COLUMN person_refs text[] NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE snapshot_quarantine ADD CONSTRAINT snapshot_quarantine_raw_kept CHECK (raw IS NOT NULL OR raw_sealed IS NOT NULL)`);
    await q.query(`CREATE INDEX snapshot_quarantine_person_refs ON snapshot_quarantine USING gin (person_refs)`);
    await q.query(`COMMENT ON COLUMN snapshot_quarantine.raw_sealed IS 'the line as sent, AES-256-GCM under the snapshot''s own data key (ADR 0011); raw is null when set'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX snapshot_quarantine_person_refs`);
    await q.query(`ALTER TABLE snapshot_quarantine DROP CONSTRAINT snapshot_quarantine_raw_kept, DROP COLUMN person_refs, DROP COLUMN raw_sealed`);
  }
}
