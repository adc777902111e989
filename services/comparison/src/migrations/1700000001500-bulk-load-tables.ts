import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bulk loads (docs/api/bulk-load.md): each load and its counts, the rows it quarantined with their
 * reasons, and the event IDs already appended by any load (re-sending a file appends nothing).
 */
export class BulkLoadTables1700000001500 implements MigrationInterface {
  name = 'BulkLoadTables1700000001500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE loads (
        id uuid PRIMARY KEY,
        department text NOT NULL,
        format text NOT NULL CHECK (format IN ('csv', 'ndjson')),
        file_name text,
        actor text NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        rows bigint NOT NULL DEFAULT 0,
        accepted bigint NOT NULL DEFAULT 0,
        duplicates bigint NOT NULL DEFAULT 0,
        quarantined bigint NOT NULL DEFAULT 0,
        quarantined_by_reason jsonb NOT NULL DEFAULT '{}'::jsonb,
        error text,
        CHECK (rows = accepted + duplicates + quarantined)
      )`);
    await q.query(`CREATE INDEX loads_department_idx ON loads (department, started_at DESC)`);
    await q.query(`
      CREATE TABLE load_quarantine (
        load_id uuid NOT NULL REFERENCES loads (id) ON DELETE CASCADE,
        line bigint NOT NULL,
        reason text NOT NULL,
        raw text NOT NULL,
        violations jsonb NOT NULL,
        PRIMARY KEY (load_id, line)
      )`);
    await q.query(`
      CREATE TABLE ingested_record (
        event_id text PRIMARY KEY,
        load_id uuid NOT NULL,
        line bigint NOT NULL,
        ingested_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ingested_record`);
    await q.query(`DROP TABLE load_quarantine`);
    await q.query(`DROP TABLE loads`);
  }
}
