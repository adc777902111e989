import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { DataSourceOptions, MigrationInterface, QueryRunner } from 'typeorm';
import { OutboxNotify1732300000100 } from './outbox-listener';

/** Migration classes, as TypeORM takes them. */
export type MigrationList = Extract<NonNullable<DataSourceOptions['migrations']>, unknown[]>;
export type EntityList = Extract<NonNullable<DataSourceOptions['entities']>, unknown[]>;

export interface DataSourceParams {
  /** postgres://user@host:port/database */
  url: string;
  /** The schema everything lives in; set as search_path so SQL stays unqualified. */
  schema: string;
  migrations: MigrationList;
  entities?: EntityList;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export class SchemaNameError extends Error {
  constructor(schema: string) {
    super(`schema "${schema}" must match ${SCHEMA_NAME} (lower-case letters, digits and _)`);
    this.name = 'SchemaNameError';
  }
}

export function assertSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new SchemaNameError(schema);
  return schema;
}

export function quoteIdent(name: string): string {
  return `"${assertSchemaName(name)}"`;
}

/**
 * The event-log's own tables, created in the service's schema next to its projection tables:
 * the consumer position, the applied event IDs, the outbox and the dead letters.
 */
export class EventLogTables1732300000000 implements MigrationInterface {
  name = 'EventLogTables1732300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table projection_checkpoint (
        topic text not null,
        partition int not null,
        next_offset bigint not null check (next_offset >= 0),
        updated_at timestamptz not null default now(),
        primary key (topic, partition)
      )`);
    await q.query(`
      create table applied_event (
        event_id text primary key,
        partition int,
        "offset" bigint,
        applied_at timestamptz not null default now()
      )`);
    await q.query(`
      create table outbox (
        id bigserial primary key,
        event_id text not null unique,
        person_key text not null,
        event jsonb not null,
        created_at timestamptz not null default now(),
        published_at timestamptz
      )`);
    await q.query(`create index outbox_unpublished on outbox (id) where published_at is null`);
    await q.query(`
      create table dead_letter (
        id bigserial primary key,
        event_id text,
        topic text not null,
        partition int not null,
        "offset" bigint not null,
        message_key text,
        reason text not null,
        raw bytea,
        attempts int not null default 0,
        failed_at timestamptz not null default now(),
        replayed_at timestamptz
      )`);
    await q.query(`create index dead_letter_pending on dead_letter (id) where replayed_at is null`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table dead_letter`);
    await q.query(`drop table outbox`);
    await q.query(`drop table applied_event`);
    await q.query(`drop table projection_checkpoint`);
  }
}

export function eventLogMigrations(): (new () => MigrationInterface)[] {
  return [EventLogTables1732300000000, OutboxNotify1732300000100];
}

export function dataSourceOptions(opts: DataSourceParams & { poolSize?: number; allowExitOnIdle?: boolean }): DataSourceOptions {
  assertSchemaName(opts.schema);
  return {
    type: 'postgres',
    url: opts.url,
    synchronize: false,
    migrationsRun: false,
    migrations: opts.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    entities: opts.entities ?? [],
    logging: false,
    extra: {
      options: `-c search_path=${opts.schema}`,
      max: opts.poolSize ?? 10,
      application_name: `qmcb:${opts.schema}`,
      ...(opts.allowExitOnIdle ? { allowExitOnIdle: true } : {}),
    },
  };
}

export async function createSchemaIfMissing(client: Client, schema: string): Promise<void> {
  try {
    await client.query(`create schema if not exists ${quoteIdent(schema)}`);
  } catch (e) {
    // Two processes creating the same schema at once: the loser sees a unique violation.
    if (!(e instanceof Error && 'code' in e && (e.code === '23505' || e.code === '42P06'))) throw e;
  }
}

/**
 * Creates the schema if missing, initialises the DataSource and (unless runMigrations is false)
 * runs the migrations under an advisory lock so replicas starting together do not race
 * (`beforeMigrations` first, under the same lock: the service's audit schema).
 */
export async function openDataSource(
  opts: DataSourceParams & { runMigrations?: boolean; poolSize?: number; allowExitOnIdle?: boolean; beforeMigrations?: (dataSource: DataSource) => Promise<void> },
): Promise<DataSource> {
  const client = new Client({ connectionString: opts.url });
  await client.connect();
  try {
    // A runtime role without CREATE on the database (migrations run by the owner) must not try.
    if (opts.runMigrations !== false) await createSchemaIfMissing(client, opts.schema);
    const dataSource = new DataSource(dataSourceOptions(opts));
    await dataSource.initialize();
    if (opts.runMigrations === false) return dataSource;
    const lockKey = `qmcb.migrate.${opts.schema}`;
    await client.query('select pg_advisory_lock(hashtext($1))', [lockKey]);
    try {
      await opts.beforeMigrations?.(dataSource);
      await dataSource.runMigrations({ transaction: 'each' });
    } catch (e) {
      await dataSource.destroy();
      throw e;
    } finally {
      await client.query('select pg_advisory_unlock(hashtext($1))', [lockKey]);
    }
    return dataSource;
  } finally {
    await client.end();
  }
}

/** The connection string of an initialised postgres DataSource (to open a sibling on another schema). */
export function dataSourceUrl(dataSource: DataSource): string {
  const options = dataSource.options;
  if (options.type !== 'postgres') throw new Error('the event log needs a postgres DataSource');
  if (options.url) return options.url;
  const user = encodeURIComponent(options.username ?? 'postgres');
  const password = typeof options.password === 'string' && options.password ? `:${encodeURIComponent(options.password)}` : '';
  return `postgres://${user}${password}@${options.host ?? '127.0.0.1'}:${options.port ?? 5432}/${options.database ?? 'postgres'}`;
}
