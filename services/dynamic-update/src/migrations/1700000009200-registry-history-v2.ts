import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The registry of issue 9, in the projection's schema (rebuilt from the log like the rest):
 * - record_history keeps each event with what it changed, who and what caused it, and when the
 *   registry held the version (the largest recordedAt so far), so the record can be folded as of
 *   any past moment; record_snapshot keeps the record every 64 versions so such a fold is short;
 * - department_holding: which slot each department holds of whom, where (a roster is diffed against it);
 * - change_proposal: business events waiting for the county's decision;
 * - an index to find who moved out of a division (handovers).
 * Rows written before this migration have no event: rebuild the projection to fill them.
 */
export class RegistryHistoryV21700000009200 implements MigrationInterface {
  name = 'RegistryHistoryV21700000009200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE record_history
        ADD COLUMN recorded_at timestamptz,
        ADD COLUMN correlation_id text,
        ADD COLUMN causation_id text,
        ADD COLUMN held_from timestamptz,
        ADD COLUMN changes jsonb NOT NULL DEFAULT '[]',
        ADD COLUMN event jsonb`);
    await q.query(`
      CREATE TABLE record_snapshot (
        person_key text NOT NULL,
        version integer NOT NULL,
        record jsonb NOT NULL,
        PRIMARY KEY (person_key, version)
      )`);
    await q.query(`
      CREATE TABLE department_holding (
        department text NOT NULL,
        person_key text COLLATE "C" NOT NULL,
        slot text COLLATE "C" NOT NULL,
        kind text NOT NULL,
        scope_division text COLLATE "C" NOT NULL,
        as_of timestamptz NOT NULL,
        PRIMARY KEY (department, person_key, slot)
      )`);
    // Byte order (codes are ASCII): the one index serves "LIKE '<division>%'" and the page order.
    await q.query(`CREATE INDEX department_holding_roster ON department_holding (department, kind, scope_division, person_key, slot)`);
    await q.query(`CREATE INDEX department_holding_person ON department_holding (person_key)`);
    await q.query(`
      CREATE TABLE change_proposal (
        proposal_id uuid PRIMARY KEY,
        person_key text NOT NULL,
        division text,
        type text NOT NULL,
        change_event_id text NOT NULL,
        occurred_at timestamptz NOT NULL,
        proposed_at timestamptz NOT NULL,
        reason text NOT NULL,
        status text NOT NULL,
        decided_by text,
        decided_at timestamptz,
        decision_event_id text
      )`);
    await q.query(`CREATE INDEX change_proposal_pending ON change_proposal (division text_pattern_ops, proposed_at) WHERE status = 'pending'`);
    await q.query(
      `CREATE INDEX person_record_moved_out_from ON person_record ((record->'migration'->>'movedOutFrom') text_pattern_ops, person_key) WHERE (record->'migration'->>'movedOutOn') IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX person_record_moved_out_from`);
    await q.query(`DROP TABLE change_proposal`);
    await q.query(`DROP TABLE department_holding`);
    await q.query(`DROP TABLE record_snapshot`);
    await q.query(`ALTER TABLE record_history DROP COLUMN recorded_at, DROP COLUMN correlation_id, DROP COLUMN causation_id, DROP COLUMN held_from, DROP COLUMN changes, DROP COLUMN event`);
  }
}
