import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Review items of every channel (issue 8): a change request instead of the survey form, the channel
 * and kind, the record's values of the changed fields when submitted (stale detection), the reasons
 * the person is flagged for (queues), and the decisions reject and close. Existing survey items are
 * carried over: their v1 form becomes a registration-form request (as the v1 events upcast).
 */
export class ReviewItemsOfEveryChannel1700000003100 implements MigrationInterface {
  name = 'ReviewItemsOfEveryChannel1700000003100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE review_item
      ADD COLUMN channel text NOT NULL DEFAULT 'survey' CHECK (channel IN ('survey', 'window', 'self-service', 'grassroots', 'department')),
      ADD COLUMN kind text NOT NULL DEFAULT 'registration-form'
        CHECK (kind IN ('registration-form', 'collection', 'correction', 'death-claim', 'department-change')),
      ADD COLUMN request jsonb,
      ADD COLUMN before jsonb NOT NULL DEFAULT '{}'::jsonb,
      ADD COLUMN reasons text[] NOT NULL DEFAULT '{}',
      ADD COLUMN skip_initial boolean NOT NULL DEFAULT false,
      ADD COLUMN fields_to_fix text[] NOT NULL DEFAULT '{}',
      ADD COLUMN reject_code text,
      ADD COLUMN reject_reason text,
      ADD COLUMN close_code text,
      ADD COLUMN close_reason text,
      ADD COLUMN decided_at timestamptz`);
    await q.query(`UPDATE review_item SET request = jsonb_build_object(
        'kind', 'registration-form',
        'fields', jsonb_strip_nulls(jsonb_build_object(
          'name', form->'name', 'phone', form->'phone', 'employmentStatus', form->'employmentStatus',
          'residenceAddress', form->'residenceAddress', 'residenceDivision', form->'residenceDivision',
          'insurance', form->'insurance', 'insuredElsewhere', form->'insuredElsewhere')) || '{"notInsuredReason": null}'::jsonb,
        'evidence', '[]'::jsonb, 'unknown', '[]'::jsonb)`);
    await q.query(`ALTER TABLE review_item ALTER COLUMN request SET NOT NULL, DROP COLUMN form`);
    await q.query(`ALTER TABLE review_item RENAME COLUMN surveyor_id TO submitter_id`);
    await q.query(`ALTER TABLE review_item ALTER COLUMN task_id DROP NOT NULL`);
    await q.query(`ALTER TABLE review_item DROP CONSTRAINT review_item_status_check`);
    await q.query(`ALTER TABLE review_item ADD CONSTRAINT review_item_status_check CHECK (status IN ('pending', 'approved', 'returned', 'rejected', 'closed'))`);
    await q.query(`DROP INDEX review_item_queue_idx`);
    await q.query(`CREATE INDEX review_item_queue_idx ON review_item (stage, status, village_code bpchar_pattern_ops, submitted_at)`);
    await q.query(`CREATE INDEX review_item_open_by_person_idx ON review_item (person_key) WHERE status IN ('pending', 'returned')`);
  }

  async down(_q: QueryRunner): Promise<void> {
    throw new Error('ReviewItemsOfEveryChannel1700000003100 cannot be undone: rebuild the projection from the log instead (npm run projection -- review rebuild)');
  }
}
