import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ADR 0011, stage 4: a quarantined line of a bulk load is kept sealed (`raw_sealed`, under a data key
 * of the load's own in the keyring), not as text; `person_refs` holds the person refs (ADR 0009's
 * HMAC) of every citizen ID in the line, so that an erasure still finds the lines naming the person.
 * Lines quarantined before keep `raw` (and are found by it) until their load is deleted.
 */
export class LoadQuarantineSealed1764806500000 implements MigrationInterface {
  name = 'LoadQuarantineSealed1764806500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE load_quarantine ALTER COLUMN raw DROP NOT NULL, ADD COLUMN raw_sealed bytea, ADD COLUMN person_refs text[] NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE load_quarantine ADD CONSTRAINT load_quarantine_raw_kept CHECK (raw IS NOT NULL OR raw_sealed IS NOT NULL)`);
    await q.query(`CREATE INDEX load_quarantine_person_refs_idx ON load_quarantine USING gin (person_refs)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX load_quarantine_person_refs_idx`);
    await q.query(`ALTER TABLE load_quarantine DROP CONSTRAINT load_quarantine_raw_kept, DROP COLUMN person_refs, DROP COLUMN raw_sealed`);
  }
}
