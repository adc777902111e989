import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every service keeps its own fold of the per-person registration record (evolve over the log),
 * so each can answer `GET /persons/:personKey` from its own schema.
 */
export class PersonRecordTables1700000000200 implements MigrationInterface {
  name = 'PersonRecordTables1700000000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE person_record (
        person_key text PRIMARY KEY,
        record jsonb NOT NULL,
        version integer NOT NULL,
        division text,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX person_record_division_idx ON person_record (division text_pattern_ops)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE person_record`);
  }
}
