import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reviews of proposed identity links (issue 10): records under a mistyped citizen ID proposed by
 * comparison as a person's, through the township's initial review and the county's final approval.
 * A projection table: rebuilt from the link events on the log.
 */
export class LinkReview1700000010300 implements MigrationInterface {
  name = 'LinkReview1700000010300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE link_review (
        link_id uuid PRIMARY KEY,
        person_key text NOT NULL,
        record_key text NOT NULL,
        citizen_id_as_sent text NOT NULL,
        sources jsonb NOT NULL,
        score integer NOT NULL,
        threshold integer NOT NULL,
        criteria jsonb NOT NULL,
        village_code char(12) NOT NULL,
        township_code char(9) NOT NULL,
        county_code char(6) NOT NULL,
        stage text NOT NULL CHECK (stage IN ('initial', 'final', 'done')),
        status text NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected')),
        proposed_at timestamptz NOT NULL,
        initial_reviewer text,
        initial_comment text,
        decided_by text,
        decision_note text,
        decided_at timestamptz,
        updated_at timestamptz NOT NULL,
        version integer NOT NULL
      )`);
    // The queue: by stage and status within a division (village code prefix), oldest first.
    await q.query(`CREATE INDEX link_review_queue_idx ON link_review (stage, status, village_code bpchar_pattern_ops, proposed_at)`);
    await q.query(`CREATE INDEX link_review_person_idx ON link_review (person_key)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE link_review`);
  }
}
