import type { PERSON_ERASED } from '@qmcb/contracts';
import type { EventOf } from '@qmcb/contracts';
import type { EntityManager, MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The pattern of a service's erasure handler (ADR 0010), beside its projection handler:
 * `@EventPattern(PERSON_ERASURE) erase(@Payload() event: PersonErasedEvent, @Ctx() log: LogContext)`.
 * The log transport hands it each `person.erased` event alone, in log order between the batch's other
 * events, inside the batch's transaction; it deletes every row the projection holds of the person.
 */
export const PERSON_ERASURE = 'person-erasure';

export type PersonErasedEvent = EventOf<typeof PERSON_ERASED>;

/** A table and the column that holds the person key. */
export interface PersonColumn {
  table: string;
  column: string;
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

/**
 * Deletes the rows whose column holds the person key, table by table, in the caller's transaction;
 * returns the rows deleted per table (for the log line: counts only, never the key).
 */
export async function deletePersonRows(manager: EntityManager, personKey: string, columns: readonly PersonColumn[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const { table, column } of columns) {
    if (!IDENT.test(table) || !IDENT.test(column)) throw new Error(`not a plain identifier: ${table}.${column}`);
    const result: unknown = await manager.query(`DELETE FROM ${table} WHERE ${column} = $1`, [personKey]);
    // pg through TypeORM: [rows, affected] for DELETE.
    const affected = Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
    out[`${table}.${column}`] = (out[`${table}.${column}`] ?? 0) + affected;
  }
  return out;
}

/**
 * `erased_person`: the person refs (ADR 0009's HMAC of the person key, as readable on the log; never
 * the key) of the people this projection erased. Events of theirs that arrive after their erasure
 * event (appended before the key was shredded, or within the key cache's minute after) are passed
 * over, so they cannot bring rows back. A rebuild has no such rows: it opens no event of theirs.
 */
export class ErasedPersonTable1764720000000 implements MigrationInterface {
  name = 'ErasedPersonTable1764720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS erased_person (
        person_ref text PRIMARY KEY,
        event_id text NOT NULL,
        erased_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS erased_person`);
  }
}
