import type { EntityManager } from 'typeorm';
import type { PersonalDataSealer } from './record-sealer';

/**
 * A table of a service whose rows written before ADR 0011 hold personal values plain (stage 4):
 * `seal-records` seals them in place in steps, after the person records, as it does those.
 */
export interface PlainRowSealer {
  /** The table, as the command reports it. */
  readonly table: string;
  /** How many of its rows still hold personal values plain. */
  countPlain(manager: EntityManager): Promise<number>;
  /**
   * Seals up to `limit` of those rows after `after` (in the table's own key order), locked, in the
   * manager's transaction: the last key looked at (null: none left) and how many were sealed (a
   * person erased meanwhile is left to the erasure).
   */
  sealPlainRows(manager: EntityManager, after: string | null, limit: number): Promise<{ last: string | null; sealed: number }>;
}

/** Injection token of a service's `PlainRowSealer[]` (none: only `person_record` is sealed in place). */
export const PLAIN_ROW_SEALERS = Symbol('PLAIN_ROW_SEALERS');

/**
 * How a table whose rows carry their personal values in a `sealed bytea` column (null in a row
 * written before) is sealed in place by a UUID key: what to select, whose values, which columns
 * the sealed value replaces.
 */
export interface InPlaceSealing<R> {
  table: string;
  /** The UUID primary key column, the order of the steps. */
  idColumn: string;
  /** The select list, giving rows of type R. */
  columns: string;
  /** The place sealed values are bound to (`PersonalDataSealer`). */
  place: string;
  idOf(row: R): string;
  personKeyOf(row: R): string;
  /** The row's personal values, sealed as they are. */
  valueOf(row: R): unknown;
  /** The plain columns the sealed value replaces: set to NULL. */
  cleared: readonly string[];
}

/**
 * `PlainRowSealer.sealPlainRows` for such a table: up to `limit` plain rows after `after`, locked, in
 * key order; only `sealed` is set and the cleared columns nulled, so versions, times and every other
 * column stay as they were; an erased person's rows are left to the erasure.
 */
export async function sealPlainRowsInPlace<R>(
  manager: EntityManager,
  sealer: PersonalDataSealer,
  spec: InPlaceSealing<R>,
  after: string | null,
  limit: number,
): Promise<{ last: string | null; sealed: number }> {
  const rows: R[] = await manager.query(
    `SELECT ${spec.columns} FROM ${spec.table} WHERE sealed IS NULL AND ($1::uuid IS NULL OR ${spec.idColumn} > $1::uuid) ORDER BY ${spec.idColumn} LIMIT $2 FOR UPDATE`,
    [after, limit],
  );
  if (rows.length === 0) return { last: null, sealed: 0 };
  const sealed = await sealer.seal(spec.place, rows.map((r) => ({ personKey: spec.personKeyOf(r), value: spec.valueOf(r) })));
  const kept = rows.flatMap((r, i) => {
    const bytes = sealed[i];
    return bytes ? [{ id: spec.idOf(r), sealed: bytes.toString('base64') }] : [];
  });
  if (kept.length > 0) {
    await manager.query(
      `UPDATE ${spec.table} t SET sealed = decode(k.sealed, 'base64'), ${spec.cleared.map((c) => `${c} = NULL`).join(', ')}
         FROM jsonb_to_recordset($1::jsonb) AS k(id uuid, sealed text) WHERE t.${spec.idColumn} = k.id`,
      [JSON.stringify(kept)],
    );
  }
  return { last: spec.idOf(rows[rows.length - 1] as R), sealed: kept.length };
}
