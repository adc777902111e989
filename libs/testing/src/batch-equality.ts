import type { RegistrationEvent } from '@qmcb/contracts';
import { EventLogProducer, ProjectionRunner, metricValue, openDataSource, quietLogger } from '@qmcb/event-log';
import type { ApplyContext, MigrationList, ProjectionHandler } from '@qmcb/event-log';
import type { DataSource } from 'typeorm';
import { createTestDatabase } from './database';
import type { TestDatabase } from './database';
import { createTestTopic, deleteTestTopic, testKafkaSettings } from './kafka';

/** The handler with its applyBatch hidden: the runner applies every event one by one. */
export function oneByOne(handler: ProjectionHandler): ProjectionHandler {
  return { apply: (event: RegistrationEvent, ctx: ApplyContext) => handler.apply(event, ctx) };
}

export interface BothWays {
  /** The projection applied one event at a time (the reference). */
  oneByOne: DataSource;
  /** The same log applied through applyBatch. */
  batched: DataSource;
  /** Chunks the batched runner had to apply one by one because applyBatch threw (0 unless a test provokes it). */
  fallbacks: number;
  close(): Promise<void>;
}

export interface BothWaysOptions {
  handler: ProjectionHandler;
  /** The service's schema and every migration it runs (service-kit's allMigrations). */
  schema: string;
  migrations: MigrationList;
  events: RegistrationEvent[];
  partitions?: number;
  applyBatchSize?: number;
  /** How many of the events are on the log before the runners start (big batches); the rest follow in appends of 100. */
  beforeStart?: number;
}

/**
 * For tests that a handler's applyBatch leaves the same tables as its apply (ADR 0001, batch apply):
 * appends `events` to a fresh topic and consumes it into two fresh databases, one runner applying one
 * event at a time and one in batch mode; resolves once both caught up with the log.
 */
export async function applyBothWays(opts: BothWaysOptions): Promise<BothWays> {
  const partitions = opts.partitions ?? 2;
  const topic = await createTestTopic(partitions);
  const settings = testKafkaSettings(topic, partitions, 'batch-equality');
  const dbs: TestDatabase[] = [];
  const sources: DataSource[] = [];
  const close = async (): Promise<void> => {
    for (const ds of sources) if (ds.isInitialized) await ds.destroy();
    for (const db of dbs) await db.drop();
    await deleteTestTopic(topic);
  };
  try {
    for (let i = 0; i < 2; i++) {
      const db = await createTestDatabase();
      dbs.push(db);
      sources.push(await openDataSource({ url: db.url, schema: opts.schema, migrations: opts.migrations }));
    }
    const [one, batched] = sources as [DataSource, DataSource];
    const suffix = topic.slice(-8);
    const runners = [
      new ProjectionRunner({ name: 'one-by-one', groupId: `one-by-one-${suffix}`, dataSource: one, schema: opts.schema, handler: oneByOne(opts.handler), settings, logger: quietLogger() }),
      new ProjectionRunner({
        name: 'batched',
        groupId: `batched-${suffix}`,
        dataSource: batched,
        schema: opts.schema,
        handler: opts.handler,
        settings,
        logger: quietLogger(),
        consumer: { applyBatchSize: opts.applyBatchSize ?? 200 },
      }),
    ];
    const fallbacksBefore = await metricValue('qmcb_batch_fallbacks_total', { projection: 'batched' });
    const producer = await EventLogProducer.connect(settings, { logger: quietLogger() });
    try {
      const first = opts.beforeStart ?? Math.floor(opts.events.length * 0.7);
      for (let i = 0; i < first; i += 500) await producer.append(opts.events.slice(i, Math.min(first, i + 500)));
      for (const r of runners) await r.start();
      for (let i = first; i < opts.events.length; i += 100) await producer.append(opts.events.slice(i, i + 100));
      for (const r of runners) await r.waitUntilCaughtUp(180_000);
    } finally {
      for (const r of runners) await r.stop();
      await producer.disconnect();
    }
    const fallbacks = (await metricValue('qmcb_batch_fallbacks_total', { projection: 'batched' })) - fallbacksBefore;
    return { oneByOne: one, batched, fallbacks, close };
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
}
