import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { ProjectionHandler } from './apply';
import { BatchProcessor } from './batch';
import { backoff, CheckpointedConsumer, readCheckpoints, withDefaults } from './consumer';
import type { ConsumerTuning } from './consumer';
import { assertSchemaName, dataSourceUrl, openDataSource, quoteIdent } from './database';
import type { EntityList, MigrationList } from './database';
import { errorInfo, jsonLogger } from './logger';
import type { Logger } from './logger';
import { sealerFor } from './seal';
import { createKafka, topicOffsets } from './settings';
import type { KafkaSettings, PartitionOffsets } from './settings';
import { sleep, sql, swapLockKey, text } from './sql';

export interface RebuildOptions {
  /** The live DataSource (search_path = schema). */
  dataSource: DataSource;
  schema: string;
  /** The same migrations the live schema was built with (event-log's and the projection's). */
  migrations: MigrationList;
  handler: ProjectionHandler;
  settings: KafkaSettings;
  /** Projection name; the rebuild consumes in its own throw-away group `<name>.rebuild.<epoch>`. */
  name: string;
  logger?: Logger;
  /** applied: messages consumed so far; total: messages in the log when the rebuild started. */
  onProgress?: (p: { applied: number; total: number }) => void;
  consumer?: ConsumerTuning;
  maxAttempts?: number;
  timeoutMs?: number;
}

/**
 * A rebuild never waits for latency, so it reads and applies in bigger pieces than live apply: one
 * consumer batch of up to 8 MB per partition (some 6,000 sealed events) in chunks of 5,000 events per
 * handler call. A person's events that fall in one chunk are folded in memory and written once, and
 * every statement of the batch path is paid once per 5,000 events instead of per 1,000 (bench/README.md,
 * "rebuild.bench.ts"). The caller's `consumer` tuning overrides these.
 */
export const REBUILD_TUNING: ConsumerTuning = {
  applyBatchSize: 5_000,
  maxBytesPerPartition: 8 * 1_048_576,
  maxBytes: 32 * 1_048_576,
  minBytes: 1_048_576,
};

function entitiesOf(dataSource: DataSource): EntityList {
  const e = dataSource.options.entities;
  if (!e) return [];
  return Array.isArray(e) ? e : Object.values(e);
}

function definedOnly(tuning: ConsumerTuning = {}): ConsumerTuning {
  return Object.fromEntries(Object.entries(tuning).filter(([, v]) => v !== undefined));
}

async function waitReached(
  dataSource: DataSource,
  topic: string,
  targets: PartitionOffsets[],
  deadline: number,
): Promise<void> {
  for (;;) {
    const stored = await readCheckpoints(dataSource, topic);
    if (targets.every((t) => t.high <= t.low || (stored.get(t.partition) ?? t.low) >= t.high)) return;
    if (Date.now() > deadline) throw new Error(`rebuild of ${topic} did not reach the high watermarks in time`);
    await sleep(200);
  }
}

/**
 * Rebuilds a projection from offset zero into `<schema>__rebuild` while the live one keeps serving,
 * then swaps the schemas in one transaction (ADR 0001). Returns the number of events applied and
 * the name the old schema now has.
 */
export async function rebuildProjection(opts: RebuildOptions): Promise<{ applied: number; oldSchema: string }> {
  const schema = assertSchemaName(opts.schema);
  const rebuildSchema = assertSchemaName(`${schema}__rebuild`);
  const epoch = Date.now();
  const oldSchema = assertSchemaName(`${schema}__old_${epoch}`);
  const logger = opts.logger ?? jsonLogger(`event-log.${opts.name}.rebuild`);
  const url = dataSourceUrl(opts.dataSource);
  const topic = opts.settings.topic;
  const tuning = withDefaults({ ...REBUILD_TUNING, ...definedOnly(opts.consumer) });
  const deadline = Date.now() + (opts.timeoutMs ?? 24 * 3_600_000);
  const sealer = await sealerFor(opts.settings);

  const lock = new Client({ connectionString: url });
  await lock.connect();
  try {
    const got = await lock.query('select pg_try_advisory_lock(hashtext($1)) as ok', [`qmcb.rebuild.${schema}`]);
    if (got.rows[0]?.ok !== true) throw new Error(`a rebuild of ${schema} is already running`);
    await lock.query(`drop schema if exists ${quoteIdent(rebuildSchema)} cascade`);
    const target = await openDataSource({ url, schema: rebuildSchema, migrations: opts.migrations, entities: entitiesOf(opts.dataSource), poolSize: 4 });

    const kafka = createKafka(opts.settings, logger);
    const admin = kafka.admin();
    await admin.connect();
    const groupId = `${opts.name}.rebuild.${epoch}`;
    let applied = 0;
    try {
      const start = await topicOffsets(admin, topic);
      const total = start.reduce((n, o) => n + Number(o.high - o.low), 0);
      logger.log('rebuild started', { projection: opts.name, schema: rebuildSchema, total });
      let consumed = 0;
      const lowOf = (partition: number): bigint => start.find((o) => o.partition === partition)?.low ?? 0n;
      const processor = new BatchProcessor({
        projection: `${opts.name}__rebuild`,
        dataSource: target,
        schema: rebuildSchema,
        handler: opts.handler,
        topic,
        rebuilding: true,
        // The rebuild schema is dropped when a rebuild fails, and the swap commits synchronously.
        asyncCommit: true,
        maxAttempts: opts.maxAttempts ?? 5,
        backoffMs: backoff(tuning),
        heartbeatIntervalMs: tuning.heartbeatIntervalMs,
        applyBatchSize: tuning.applyBatchSize,
        startOffset: async (partition) => lowOf(partition),
        lowWatermark: async (partition) => (await topicOffsets(admin, topic)).find((o) => o.partition === partition)?.low ?? 0n,
        // The live runner already sent these to the DLQ topic; here they are only recorded.
        publishDeadLetter: undefined,
        sealer,
        logger,
      });
      const consumer = new CheckpointedConsumer({
        kafka,
        admin,
        groupId,
        topic,
        fromBeginning: true,
        dataSource: target,
        processor,
        commitToKafka: false,
        tuning,
        logger,
        projection: `${opts.name}__rebuild`,
        onBatch: (_partition, outcome) => {
          if (outcome.kind !== 'done') return;
          applied += outcome.applied;
          consumed += outcome.applied + outcome.skipped + outcome.deadLettered + outcome.shredded;
          opts.onProgress?.({ applied: consumed, total });
        },
      });
      await consumer.start();
      try {
        await waitReached(target, topic, start, deadline);
        // Close most of what arrived meanwhile; the live runner's gap check covers the rest.
        await waitReached(target, topic, await topicOffsets(admin, topic), deadline);
      } finally {
        await consumer.stop();
      }
      const partitions = (await topicOffsets(admin, topic)).map((o) => o.partition);
      // Every partition gets a checkpoint, so the live runner's gap check works after the swap.
      await sql(
        target.manager,
        `insert into projection_checkpoint (topic, partition, next_offset)
         select $1, p, 0 from unnest($2::int[]) as p on conflict do nothing`,
        [topic, partitions],
      );
    } finally {
      await admin.deleteGroups([groupId]).catch((e: unknown) => logger.warn('could not delete the rebuild group', { groupId, ...errorInfo(e) }));
      await admin.disconnect();
      await target.destroy();
    }

    await swapWithRetry(opts.dataSource, schema, rebuildSchema, oldSchema, logger);
    logger.log('rebuild swapped in', { projection: opts.name, schema, oldSchema, applied });
    return { applied, oldSchema };
  } finally {
    await lock.query('select pg_advisory_unlock(hashtext($1))', [`qmcb.rebuild.${schema}`]).catch(() => undefined);
    await lock.end();
  }
}

/** A reader that goes on to write can deadlock with the swap's locks; the swap then simply runs again. */
async function swapWithRetry(live: DataSource, schema: string, rebuildSchema: string, oldSchema: string, logger: Logger): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await swapSchemas(live, schema, rebuildSchema, oldSchema);
      return;
    } catch (e) {
      const code = e instanceof Error && 'driverError' in e ? Reflect.get(Object(e.driverError), 'code') : undefined;
      const retriable = code === '40P01' || code === '55P03';
      if (!retriable || attempt >= 5) throw e;
      logger.warn('schema swap collided with other transactions; retrying', { schema, attempt, code });
      await sleep(500 * attempt);
    }
  }
}

/**
 * In one transaction: wait for writers of the live schema to finish (exclusive swap lock, then
 * exclusive table locks, so statements waiting on them re-resolve their tables by name after the
 * rename), carry the unpublished outbox over, and rename the schemas.
 */
async function swapSchemas(live: DataSource, schema: string, rebuildSchema: string, oldSchema: string): Promise<void> {
  const qr = live.createQueryRunner();
  await qr.connect();
  try {
    await qr.startTransaction();
    await sql(qr, `set local lock_timeout = '60s'`);
    await sql(qr, 'select pg_advisory_xact_lock(hashtext($1))', [swapLockKey(schema)]);
    const exists = await sql(qr, `select 1 from pg_namespace where nspname = $1`, [schema]);
    if (exists.rows.length > 0) {
      const { rows } = await sql(qr, `select tablename, quote_ident(schemaname) || '.' || quote_ident(tablename) as name from pg_tables where schemaname = $1`, [schema]);
      if (rows.length > 0) await sql(qr, `lock table ${rows.map((r) => text(r, 'name')).join(', ')} in access exclusive mode`);
      if (rows.some((r) => r['tablename'] === 'outbox')) {
        await sql(
          qr,
          `insert into ${quoteIdent(rebuildSchema)}.outbox (event_id, person_key, event, created_at)
           select event_id, person_key, event, created_at from ${quoteIdent(schema)}.outbox
            where published_at is null order by id
           on conflict (event_id) do nothing`,
        );
      }
      await sql(qr, `alter schema ${quoteIdent(schema)} rename to ${quoteIdent(oldSchema)}`);
    }
    await sql(qr, `alter schema ${quoteIdent(rebuildSchema)} rename to ${quoteIdent(schema)}`);
    await qr.commitTransaction();
  } catch (e) {
    if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
    throw e;
  } finally {
    await qr.release();
  }
}
