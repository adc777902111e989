import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ADR 0011, stages 4 and 5: the citizen ID as a department sent it under a mistyped record
 * (`person_link.citizen_id_as_sent`) is kept sealed (`citizen_id_as_sent_sealed`, place
 * `person_link.citizen_id_as_sent`, under the data key of the link's person, whose link event
 * carries it on the log), the plain column left null. Rows written before keep it plain and are
 * read as they are until written again, sealed by `seal-records` (`PersonLinkPlainRows`) or rebuilt.
 */
export class PersonLinkSealed1764979200000 implements MigrationInterface {
  name = 'PersonLinkSealed1764979200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE person_link ADD COLUMN IF NOT EXISTS citizen_id_as_sent_sealed bytea`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE person_link DROP COLUMN IF EXISTS citizen_id_as_sent_sealed`);
  }
}
