import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Identity links (docs/design/identity-linking.md): `person_link`, every link of records under a
 * mistyped citizen ID (`record_key`) to a person, at most one proposed or confirmed per record key;
 * `link_waiting`, the blocking keys of linkable records no person was linked to yet, so that the
 * person they belong to finds them when their household record arrives later.
 */
export class IdentityLinks1700000010100 implements MigrationInterface {
  name = 'IdentityLinks1700000010100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS person_link (
        record_key text NOT NULL,
        person_key text NOT NULL,
        link_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('proposed', 'confirmed', 'rejected')),
        score integer,
        citizen_id_as_sent text,
        PRIMARY KEY (record_key, person_key)
      )`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS person_link_active_idx ON person_link (record_key) WHERE status IN ('proposed', 'confirmed')`);
    await q.query(`CREATE INDEX IF NOT EXISTS person_link_person_idx ON person_link (person_key)`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS link_waiting (
        block_key text NOT NULL,
        record_key text NOT NULL,
        PRIMARY KEY (block_key, record_key)
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS link_waiting_record_idx ON link_waiting (record_key)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS link_waiting`);
    await q.query(`DROP TABLE IF EXISTS person_link`);
  }
}
