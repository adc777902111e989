import type { DataSource } from 'typeorm';
import { assertSchemaName, quoteIdent } from './database';
import { sql } from './sql';

/** A projection schema a rebuild swapped out (`<schema>__old_<epoch ms>`), with when it was swapped out. */
export interface OldSchema {
  name: string;
  swappedOutAt: string;
}

const OLD_SUFFIX = /^__old_(\d{1,16})$/;

/**
 * The schemas earlier rebuilds of `schema` left behind (rebuild.ts keeps the previous projection as
 * `<schema>__old_<epoch>` for a rollback), oldest first. They hold the personal data of the
 * projection as it was, erased persons included, until dropped.
 */
export async function listOldSchemas(dataSource: DataSource, schema: string): Promise<OldSchema[]> {
  const base = assertSchemaName(schema);
  const { rows } = await sql(dataSource.manager, `select nspname from pg_namespace where left(nspname, length($1) + 6) = $1 || '__old_'`, [base]);
  return rows
    .map((r) => String(r.nspname))
    .flatMap((name) => {
      const m = OLD_SUFFIX.exec(name.slice(base.length));
      return m ? [{ name, epoch: Number(m[1]) }] : [];
    })
    .sort((a, b) => a.epoch - b.epoch)
    .map(({ name, epoch }) => ({ name, swappedOutAt: new Date(epoch).toISOString() }));
}

/**
 * Drops the schemas earlier rebuilds of `schema` left behind, all but the newest `keep`; returns
 * the ones dropped. Needs the owner of the schemas (the migrating role), like `migrate`.
 */
export async function dropOldSchemas(dataSource: DataSource, schema: string, keep = 0): Promise<OldSchema[]> {
  if (!Number.isInteger(keep) || keep < 0) throw new Error(`keep must be a whole number of schemas, got ${keep}`);
  const old = await listOldSchemas(dataSource, schema);
  const drop = old.slice(0, Math.max(0, old.length - keep));
  for (const s of drop) await sql(dataSource.manager, `drop schema ${quoteIdent(s.name)} cascade`);
  return drop;
}
