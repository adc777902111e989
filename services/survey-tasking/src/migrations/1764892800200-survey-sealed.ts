import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ADR 0011, stage 4 for survey tasking: the personal values of its tables sealed under the person's
 * data key (`PersonalDataSealer`), in `bytea` columns of their own; the plain columns keep only what
 * SQL reads (statuses, divisions, dates, IDs). Rows already there stay as they are (sealed column
 * null, the values in the plain columns) and are read as before, until they are next written; a
 * rebuild (`npm run projection -- survey-tasking rebuild`) seals every row at once.
 *
 * - `survey_visit.sealed`: the visit's or form's whole payload (outcome reasons, where the person is,
 *   the collected form with household members); `payload` is null once sealed.
 * - `survey_household_member.sealed`: the member's citizen ID, name, relation, sex and birth date,
 *   under the member's own key (the row's `person_key`); those columns are null once sealed.
 * - `survey_task.person_sealed`: the target's person as the surveyor needs them at the door (name,
 *   citizen ID, phone, addresses, household, insurance); `person` is `{}` once sealed.
 * - `survey_task.notes_sealed`: the free texts about the person (`where_text`, `visit_note`,
 *   `return_reason`); those columns are null once sealed.
 */
export class SurveySealed1764892800200 implements MigrationInterface {
  name = 'SurveySealed1764892800200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE survey_visit ADD COLUMN sealed bytea, ALTER COLUMN payload DROP NOT NULL`);
    await q.query(`COMMENT ON COLUMN survey_visit.sealed IS 'the payload, AES-256-GCM under the person''s data key (ADR 0011); payload is null once sealed'`);
    await q.query(`ALTER TABLE survey_household_member ADD COLUMN sealed bytea`);
    await q.query(`COMMENT ON COLUMN survey_household_member.sealed IS 'citizen ID, name, relation, sex, birth date, AES-256-GCM under the member''s data key (ADR 0011); those columns are null once sealed'`);
    await q.query(`ALTER TABLE survey_task ADD COLUMN person_sealed bytea, ADD COLUMN notes_sealed bytea`);
    await q.query(`COMMENT ON COLUMN survey_task.person_sealed IS 'the target''s person, AES-256-GCM under their data key (ADR 0011); person is {} once sealed'`);
    await q.query(`COMMENT ON COLUMN survey_task.notes_sealed IS 'where_text, visit_note, return_reason, AES-256-GCM under the person''s data key (ADR 0011); those columns are null once sealed'`);
  }

  async down(q: QueryRunner): Promise<void> {
    // What was sealed is not brought back here: a rebuild after the down migration writes it plain again.
    await q.query(`ALTER TABLE survey_task DROP COLUMN person_sealed, DROP COLUMN notes_sealed`);
    await q.query(`ALTER TABLE survey_household_member DROP COLUMN sealed`);
    await q.query(`UPDATE survey_visit SET payload = '{}'::jsonb WHERE payload IS NULL`);
    await q.query(`ALTER TABLE survey_visit DROP COLUMN sealed, ALTER COLUMN payload SET NOT NULL`);
  }
}
