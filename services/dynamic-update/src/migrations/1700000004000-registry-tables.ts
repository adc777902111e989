import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The registry's change history: one row per event applied to a person, in log order. */
export class RegistryTables1700000004000 implements MigrationInterface {
  name = 'RegistryTables1700000004000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE record_history (
        person_key text NOT NULL,
        version integer NOT NULL,
        event_id text NOT NULL UNIQUE,
        type text NOT NULL,
        source text NOT NULL,
        actor text NOT NULL,
        occurred_at timestamptz NOT NULL,
        PRIMARY KEY (person_key, version)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE record_history`);
  }
}
