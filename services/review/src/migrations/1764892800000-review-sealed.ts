import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ADR 0011, stage 4 (review): the personal values of `review_item` and `link_review` sealed under the
 * person's data key in `sealed`. Of an item: the change request (the collected form: name, phone,
 * address, citizen ID, household, evidence), the record's values before it, and the reviewers' free
 * text (initial comment, return, reject and close reasons). Of a link review: the record key and
 * citizen ID as sent (the mistyped ID), the department records under it, and the reviewers' comment
 * and decision note. What SQL selects on (divisions, stage, status, channel, kind, reasons, dates,
 * score, criteria) stays plain. Rows already there stay as they are (`sealed` null, the values in
 * their plain columns) until they are next written; a rebuild seals every row.
 */
export class ReviewSealed1764892800000 implements MigrationInterface {
  name = 'ReviewSealed1764892800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE review_item ADD COLUMN sealed bytea, ALTER COLUMN request DROP NOT NULL, ALTER COLUMN before DROP NOT NULL,
      ADD CONSTRAINT review_item_sealed_or_plain CHECK (sealed IS NOT NULL OR (request IS NOT NULL AND before IS NOT NULL))`);
    await q.query(`COMMENT ON COLUMN review_item.sealed IS 'request, before and the reviewers'' free text, AES-256-GCM under the person''s data key (ADR 0011); those columns are then null'`);
    await q.query(`ALTER TABLE link_review ADD COLUMN sealed bytea, ALTER COLUMN record_key DROP NOT NULL, ALTER COLUMN citizen_id_as_sent DROP NOT NULL,
      ALTER COLUMN sources DROP NOT NULL,
      ADD CONSTRAINT link_review_sealed_or_plain CHECK (sealed IS NOT NULL OR (record_key IS NOT NULL AND citizen_id_as_sent IS NOT NULL AND sources IS NOT NULL))`);
    await q.query(`COMMENT ON COLUMN link_review.sealed IS 'record key, citizen ID as sent, sources and the reviewers'' free text, AES-256-GCM under the person''s data key (ADR 0011); those columns are then null'`);
  }

  async down(_q: QueryRunner): Promise<void> {
    throw new Error('ReviewSealed1764892800000 cannot be undone (sealed values have no plain copy): rebuild the projection from the log instead (npm run projection -- review rebuild)');
  }
}
