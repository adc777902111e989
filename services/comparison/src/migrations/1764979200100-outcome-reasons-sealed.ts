import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ADR 0011, stage 4: an outcome's reasons (`outcome_history.reasons`) carry each rule's `detail`, the
 * facts it fired on written out (what each department says of the name, the birth date, the sex, the
 * masked ID as sent): kept sealed whole in `reasons_sealed` (place `outcome_history.reasons`, under
 * the person's data key); `reasons` keeps code, rule and rule version only. Rows written before keep
 * the details plain and are read as they are until `seal-records` (`OutcomeReasonsPlainRows`) or a
 * rebuild seals them.
 */
export class OutcomeReasonsSealed1764979200100 implements MigrationInterface {
  name = 'OutcomeReasonsSealed1764979200100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outcome_history ADD COLUMN IF NOT EXISTS reasons_sealed bytea`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outcome_history DROP COLUMN IF EXISTS reasons_sealed`);
  }
}
