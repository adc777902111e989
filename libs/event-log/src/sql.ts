import type { EntityManager, QueryRunner } from 'typeorm';

export type Row = Record<string, unknown>;

/** Runs SQL on the manager's connection (its transaction, if any) and returns rows and row count. */
export async function sql(on: EntityManager | QueryRunner, text: string, params: unknown[] = []): Promise<{ rows: Row[]; rowCount: number }> {
  const runner = 'manager' in on ? on : on.queryRunner;
  if (runner) {
    const result = await runner.query(text, params, true);
    const rows = Array.isArray(result.records) ? (result.records as Row[]) : [];
    return { rows, rowCount: result.affected ?? rows.length };
  }
  const own = on.connection.createQueryRunner();
  try {
    const result = await own.query(text, params, true);
    const rows = Array.isArray(result.records) ? (result.records as Row[]) : [];
    return { rows, rowCount: result.affected ?? rows.length };
  } finally {
    await own.release();
  }
}

export function text(row: Row, column: string): string {
  const v = row[column];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  throw new TypeError(`column ${column} is not text`);
}

export function int(row: Row, column: string): number {
  const v = row[column];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new TypeError(`column ${column} is not a number`);
  return n;
}

export function big(row: Row, column: string): bigint {
  const v = row[column];
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') return BigInt(v);
  throw new TypeError(`column ${column} is not an integer`);
}

/**
 * Every writer of the event-log tables holds this lock shared for its transaction; a rebuild's
 * schema swap holds it exclusively, so nothing is half-written into the schema being renamed away.
 */
export function swapLockKey(schema: string): string {
  return `qmcb.swap.${schema}`;
}

export async function holdSwapLockShared(on: EntityManager | QueryRunner, schema?: string): Promise<void> {
  if (schema) {
    await sql(on, 'select pg_advisory_xact_lock_shared(hashtext($1))', [swapLockKey(schema)]);
  } else {
    await sql(on, `select pg_advisory_xact_lock_shared(hashtext('qmcb.swap.' || current_schema()))`);
  }
}

const ASYNC_COMMIT = 'qmcb.asyncCommit';

/**
 * Makes the current transaction commit without waiting for its WAL flush (`synchronous_commit = off`,
 * this transaction only): a consumer batch, whose checkpoint commits in the same transaction, so a
 * PostgreSQL crash that loses the commit loses the checkpoint with it and the batch is applied again
 * from the log. Whatever leaves PostgreSQL before a later flush must not come from such a commit:
 * `durableCommitIfAsync` turns it back on when the transaction writes to the outbox (the relay could
 * publish a row whose transaction a crash then loses). A savepoint rolled back undoes that `on` along
 * with the rows it was for.
 */
export async function commitAsynchronously(qr: QueryRunner): Promise<void> {
  await sql(qr, 'set local synchronous_commit = off');
  qr.data = { ...(qr.data as Record<string, unknown>), [ASYNC_COMMIT]: true };
}

/** In a transaction made asynchronous by commitAsynchronously: commit synchronously after all. */
export async function durableCommitIfAsync(on: EntityManager | QueryRunner): Promise<void> {
  const qr = 'manager' in on ? on : on.queryRunner;
  if ((qr?.data as Record<string, unknown> | undefined)?.[ASYNC_COMMIT] === true) await sql(on, 'set local synchronous_commit = on');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
