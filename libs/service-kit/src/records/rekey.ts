import type { EntityManager } from 'typeorm';
import type { PersonKeyColumn } from './person-key-column';

/**
 * A column that holds person keys at rest (ADR 0011, stage 5): since then their person IDs
 * (`PersonKeyColumn.stored`), before that the keys themselves (citizen IDs, `X-` surrogates).
 * `prefix`: the values are the prefix and a key (survey's `household_key` `P-<key>` of a person
 * without a 户号); other values of the column are left alone.
 */
export interface KeyColumn {
  /** The table, schema-qualified when it is not in the service's schema (`dynamic_update_ops.feed_entry`). */
  readonly table: string;
  readonly column: string;
  readonly prefix?: string;
}

/**
 * Injection token of a service's `KeyColumn[]` besides `person_record.person_key`: what
 * `seal-records` re-keys (none provided: `person_record` only).
 */
export const KEY_COLUMNS = Symbol('KEY_COLUMNS');

const IDENT = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;
const PREFIX = /^[A-Za-z]{1,4}-$/;

/**
 * Re-keys one step of a column: up to `limit` distinct values after `after` (value order) that are
 * not their person's current stored form (a plain key written before stage 5, or a person ID of the
 * previous PERSON_ID_SECRET) are replaced by it, every row holding them, in the manager's
 * transaction. Returns the last value looked at (null: none left) and how many rows changed.
 *
 * A person with rows under both forms (written by this version before the re-keying) cannot be
 * merged by an UPDATE when the column is unique: the step fails naming the table, and the operator
 * re-keys before starting the consumers (docs/security.md, "Upgrading") or rebuilds.
 */
export async function rekeyStep(
  manager: EntityManager,
  keys: PersonKeyColumn,
  col: KeyColumn,
  after: string | null,
  limit: number,
): Promise<{ last: string | null; changed: number }> {
  if (!IDENT.test(col.table) || !IDENT.test(col.column)) throw new Error(`not a plain identifier: ${col.table}.${col.column}`);
  if (col.prefix !== undefined && !PREFIX.test(col.prefix)) throw new Error(`not a key prefix: ${col.prefix}`);
  const prefix = col.prefix ?? '';
  const rows: { v: string }[] = await manager.query(
    `SELECT DISTINCT ${col.column} AS v FROM ${col.table}
      WHERE ${col.column} IS NOT NULL AND left(${col.column}, $3) = $4 AND ($1::text IS NULL OR ${col.column} > $1)
      ORDER BY 1 LIMIT $2`,
    [after, limit, prefix.length, prefix],
  );
  if (rows.length === 0) return { last: null, changed: 0 };
  const moves = rows.flatMap(({ v }) => {
    const value = v.slice(prefix.length);
    const target = keys.stored(keys.key(value));
    return target === value ? [] : [{ from: v, to: `${prefix}${target}` }];
  });
  let changed = 0;
  if (moves.length > 0) {
    try {
      const result: unknown = await manager.query(
        `UPDATE ${col.table} t SET ${col.column} = m.to_value
           FROM jsonb_to_recordset($1::jsonb) AS m(from_value text, to_value text) WHERE t.${col.column} = m.from_value`,
        [JSON.stringify(moves.map((m) => ({ from_value: m.from, to_value: m.to })))],
      );
      changed = Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
    } catch (e) {
      if (e instanceof Error && 'code' in e && e.code === '23505') {
        throw new Error(
          `${col.table}.${col.column}: a person has rows under both the plain key and the person ID (written by this version before re-keying); ` +
            'stop the service, rebuild the projection (`rebuild`) or delete the newer rows, then run seal-records again',
        );
      }
      throw e;
    }
  }
  return { last: (rows[rows.length - 1] as { v: string }).v, changed };
}

/** How many rows of the column still hold a plain person key (the pattern of PersonIds' keys), for progress. */
export async function countPlainKeys(manager: EntityManager, col: KeyColumn): Promise<number> {
  if (!IDENT.test(col.table) || !IDENT.test(col.column)) throw new Error(`not a plain identifier: ${col.table}.${col.column}`);
  const prefix = col.prefix ?? '';
  const rows: { n: number }[] = await manager.query(
    `SELECT count(*)::int AS n FROM ${col.table} WHERE left(${col.column}, $1) = $2 AND substr(${col.column}, $1 + 1) ~ '^([0-9]{17}[0-9X]|X-[0-9a-f]{32})$'`,
    [prefix.length, prefix],
  );
  return rows[0]?.n ?? 0;
}
