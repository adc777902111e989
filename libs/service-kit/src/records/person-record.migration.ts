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

/**
 * ADR 0011, stage 3: the whole record sealed under the person's data key (`sealed`), `record` keeping
 * only its facts. Rows already there stay as they are (`sealed` null, the whole record in `record`)
 * until they are next written; `npm run projection -- <service> rebuild` seals every row at once.
 */
export class PersonRecordSealed1764806400000 implements MigrationInterface {
  name = 'PersonRecordSealed1764806400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE person_record ADD COLUMN sealed bytea`);
    await q.query(`COMMENT ON COLUMN person_record.sealed IS 'the whole record, AES-256-GCM under the person''s data key (ADR 0011); record holds its facts only'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE person_record DROP COLUMN sealed`);
  }
}
