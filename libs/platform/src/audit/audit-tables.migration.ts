import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Who read whose record (ARCHITECTURE.md, invariant 6). Unqualified: lands in the service's schema. */
export class AuditTables1700000000100 implements MigrationInterface {
  name = 'AuditTables1700000000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_read (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        actor_role text,
        actor_division text,
        person_key text NOT NULL,
        service text NOT NULL,
        purpose text NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX audit_read_person_key_idx ON audit_read (person_key, at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_read`);
  }
}
