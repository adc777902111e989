import { randomBytes } from 'crypto';
import { Client } from 'pg';

export interface TestDatabase {
  /** postgres://… of the new database. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

function serverUrl(database: string): string {
  const host = process.env.PGHOST || '127.0.0.1';
  const port = process.env.PGPORT || '5432';
  const user = encodeURIComponent(process.env.PGUSER || 'postgres');
  const password = process.env.PGPASSWORD ? `:${encodeURIComponent(process.env.PGPASSWORD)}` : '';
  return `postgres://${user}${password}@${host}:${port}/${database}`;
}

async function onServer<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: serverUrl('postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh database `qmcb_test_<random>` on the test PostgreSQL; drop() removes it (and its connections). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `qmcb_test_${randomBytes(6).toString('hex')}`;
  await onServer((c) => c.query(`create database ${name}`));
  let dropped = false;
  return {
    url: serverUrl(name),
    name,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await onServer((c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/**
 * The keyring database of test runs (ADR 0009), apart from the local stack's qmcb_keyring: created
 * when missing, like the services' databases, and named in KEYRING_DATABASE_URL unless that is set.
 * Rows of different runs never meet: each run has its own LOG_PERSON_REF_SECRET, hence its own refs.
 */
export async function ensureTestKeyringDatabase(name = 'qmcb_keyring_test'): Promise<string> {
  if (process.env.KEYRING_DATABASE_URL) return process.env.KEYRING_DATABASE_URL;
  await onServer(async (c) => {
    const { rows } = await c.query('select 1 from pg_database where datname = $1', [name]);
    if (rows.length === 0) {
      await c.query(`create database ${name}`).catch((e: unknown) => {
        // Two runs creating it at once: the loser sees a duplicate.
        if (!(e instanceof Error && 'code' in e && (e.code === '42P04' || e.code === '23505'))) throw e;
      });
    }
  });
  process.env.KEYRING_DATABASE_URL = serverUrl(name);
  return process.env.KEYRING_DATABASE_URL;
}
