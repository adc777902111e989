import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `audit_read` leaves the projection schema (where a rebuild left it behind in `<schema>__old_*`,
 * and the service's user could delete from it): its rows move into the audit trail (schema `audit`,
 * hash-chained) as `legacy-read` entries, in their order, and the table is dropped. In a rebuilt
 * schema the table is empty and simply dropped.
 */
export class AuditReadRetired1700000000300 implements MigrationInterface {
  name = 'AuditReadRetired1700000000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DO $$
      BEGIN
        IF to_regclass('audit_read') IS NULL THEN RETURN; END IF;
        IF EXISTS (SELECT 1 FROM audit_read) THEN
          IF to_regclass('audit.audit_event') IS NULL THEN
            RAISE EXCEPTION 'audit_read has rows but the audit schema is missing: run the service''s audit migration first';
          END IF;
          INSERT INTO audit.audit_event (entry)
          SELECT json_build_object(
                   'v', 1, 'service', service, 'requestId', NULL, 'actor', actor, 'role', actor_role, 'division', actor_division,
                   'source', NULL, 'method', NULL, 'route', NULL, 'action', 'legacy-read', 'purpose', purpose, 'purposeRef', NULL,
                   'people', json_build_array(person_key), 'count', 1, 'result', 'ok', 'status', NULL, 'code', NULL,
                   'detail', json_build_object('readAt', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text
                 )::text
            FROM audit_read ORDER BY id;
        END IF;
        DROP TABLE audit_read;
      END $$`);
  }

  async down(): Promise<void> {
    throw new Error('the audit trail is append-only: AuditReadRetired cannot be reverted');
  }
}
