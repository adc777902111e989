import type { DataSource } from 'typeorm';
import { assertSchemaName, quoteIdent } from './database';
import { sql } from './sql';

/**
 * A schema a rebuild left behind: a projection it swapped out (`<schema>__old_<epoch ms>`, with when),
 * or the `<schema>__rebuild` of a rebuild that stopped before its swap (no rebuild running).
 */
export interface OldSchema {
  name: string;
  kind: 'swapped-out' | 'unfinished-rebuild';
  /** When a swapped-out projection was swapped out; null for an unfinished rebuild. */
  swappedOutAt: string | null;
}

const OLD_SUFFIX = /^__old_(\d{1,16})$/;

/**
 * Runs `fn` holding the advisory lock a rebuild of the schema holds for its whole run (rebuild.ts),
 * so no rebuild starts meanwhile; false, without running it, when a rebuild is running.
 */
async function whileNoRebuild(dataSource: DataSource, schema: string, fn: () => Promise<void> = async () => undefined): Promise<boolean> {
  const qr = dataSource.createQueryRunner();
  await qr.connect();
  try {
    const { rows } = await sql(qr, 'select pg_try_advisory_lock(hashtext($1)) as free', [`qmcb.rebuild.${schema}`]);
    if (rows[0]?.free !== true) return false;
    try {
      await fn();
    } finally {
      await sql(qr, 'select pg_advisory_unlock(hashtext($1))', [`qmcb.rebuild.${schema}`]);
    }
    return true;
  } finally {
    await qr.release();
  }
}

/**
 * The schemas earlier rebuilds of `schema` left behind, swapped-out ones oldest first, then an
 * unfinished rebuild's (only while no rebuild is running). They hold the personal data of the
 * projection as it was, erased persons included, until dropped.
 */
export async function listOldSchemas(dataSource: DataSource, schema: string): Promise<OldSchema[]> {
  const base = assertSchemaName(schema);
  const { rows } = await sql(dataSource.manager, `select nspname from pg_namespace where left(nspname, length($1) + 2) = $1 || '__'`, [base]);
  const names = rows.map((r) => String(r.nspname));
  const old: OldSchema[] = names
    .flatMap((name) => {
      const m = OLD_SUFFIX.exec(name.slice(base.length));
      return m ? [{ name, epoch: Number(m[1]) }] : [];
    })
    .sort((a, b) => a.epoch - b.epoch)
    .map(({ name, epoch }) => ({ name, kind: 'swapped-out', swappedOutAt: new Date(epoch).toISOString() }));
  const rebuild = `${base}__rebuild`;
  if (names.includes(rebuild) && (await whileNoRebuild(dataSource, base))) old.push({ name: rebuild, kind: 'unfinished-rebuild', swappedOutAt: null });
  return old;
}

/**
 * Drops the schemas earlier rebuilds of `schema` left behind: every unfinished rebuild's, and the
 * swapped-out ones but the newest `keep`; returns the ones dropped. Needs the owner of the schemas
 * (the migrating role), like `migrate`. An unfinished rebuild's schema is dropped holding the
 * rebuild lock: no rebuild starts (and makes it anew) meanwhile.
 */
export async function dropOldSchemas(dataSource: DataSource, schema: string, keep = 0): Promise<OldSchema[]> {
  if (!Number.isInteger(keep) || keep < 0) throw new Error(`keep must be a whole number of schemas, got ${keep}`);
  const all = await listOldSchemas(dataSource, schema);
  const swapped = all.filter((s) => s.kind === 'swapped-out');
  const drop = swapped.slice(0, Math.max(0, swapped.length - keep));
  for (const s of drop) await sql(dataSource.manager, `drop schema if exists ${quoteIdent(s.name)} cascade`);
  const unfinished = all.find((s) => s.kind === 'unfinished-rebuild');
  if (unfinished && (await whileNoRebuild(dataSource, schema, () => sql(dataSource.manager, `drop schema if exists ${quoteIdent(unfinished.name)} cascade`).then(() => undefined)))) {
    drop.push(unfinished);
  }
  return drop;
}
