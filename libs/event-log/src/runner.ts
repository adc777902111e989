import type { Admin, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { ProjectionHandler } from './apply';
import { BatchProcessor } from './batch';
import type { DeadLetter } from './batch';
import { backoff, CheckpointedConsumer, readCheckpoints, withDefaults } from './consumer';
import type { ConsumerTuning } from './consumer';
import { assertSchemaName } from './database';
import { errorInfo, jsonLogger } from './logger';
import type { Logger } from './logger';
import { metrics } from './metrics';
import { connectProducer, HEADER, sendAcked } from './producer';
import { sealerFor } from './seal';
import { createKafka, deadLetterTopic, ensureTopics, topicOffsets } from './settings';
import type { KafkaSettings } from './settings';
import { sleep } from './sql';

export interface ProjectionRunnerOptions {
  /** Projection name, metrics label and (unless groupId is given) consumer group id, e.g. 'comparison'. */
  name: string;
  dataSource: DataSource;
  /** The schema the DataSource's search_path points at. */
  schema: string;
  handler: ProjectionHandler;
  settings: KafkaSettings;
  groupId?: string;
  /** Attempts of a failing handler before the event is dead-lettered; default 5, with backoff. */
  maxAttempts?: number;
  logger?: Logger;
  /** Where a partition without a checkpoint starts: the earliest offset (default) or the latest. */
  fromBeginning?: boolean;
  consumer?: ConsumerTuning;
  /** How often the lag gauge is refreshed besides after every batch; default 15 s. */
  lagIntervalMs?: number;
  /**
   * Batches commit without waiting for the WAL flush unless they wrote to the outbox (BatchProcessor,
   * sql.ts commitAsynchronously). Default **false**: a PostgreSQL crash loses the last asynchronous
   * commits with their checkpoints while the consumer, which did not restart, goes on from its own
   * position; it seeks back to the checkpoint only when the next message of that partition arrives, so
   * a quiet partition keeps the gap (the fault suite's PostgreSQL crash found it). Only for a process
   * that restarts with its database.
   */
  asyncCommit?: boolean;
}

export const DEAD_LETTER_HEADER = {
  reason: 'reason',
  topic: 'original-topic',
  partition: 'original-partition',
  offset: 'original-offset',
  eventId: HEADER.eventId,
  projection: 'projection',
  attempts: 'attempts',
} as const;

/**
 * Consumes the log into one projection: batches are applied in one PostgreSQL transaction with the
 * checkpoint; duplicates are skipped by event ID; failures are retried in savepoints and then
 * dead-lettered (to the DLQ topic, acknowledged before the commit); positions come from PostgreSQL.
 */
export class ProjectionRunner {
  readonly groupId: string;
  readonly deadLetterTopic: string;
  private readonly logger: Logger;
  private readonly tuning: Required<ConsumerTuning>;
  private admin: Admin | null = null;
  private dlqProducer: Producer | null = null;
  private consumer: CheckpointedConsumer | null = null;
  private lagTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: ProjectionRunnerOptions) {
    assertSchemaName(opts.schema);
    this.groupId = opts.groupId ?? opts.name;
    this.deadLetterTopic = deadLetterTopic(opts.settings, this.groupId);
    this.logger = opts.logger ?? jsonLogger(`event-log.${opts.name}`);
    this.tuning = withDefaults(opts.consumer);
  }

  async start(): Promise<void> {
    if (this.consumer) return;
    const { settings, name } = this.opts;
    try {
      await this.connect();
    } catch (e) {
      await this.stop().catch(() => undefined);
      throw e;
    }
    const refreshLag = (): void => {
      this.lag().catch((e: unknown) => this.logger.warn('lag refresh failed', { projection: name, ...errorInfo(e) }));
    };
    refreshLag();
    this.lagTimer = setInterval(refreshLag, this.opts.lagIntervalMs ?? 15_000);
    this.lagTimer.unref();
    this.logger.log('projection runner started', { projection: name, groupId: this.groupId, topic: settings.topic, schema: this.opts.schema });
  }

  private async connect(): Promise<void> {
    const { settings, name } = this.opts;
    const sealer = await sealerFor(settings);
    await ensureTopics(settings, [{ topic: this.deadLetterTopic, partitions: 1 }]);
    const kafka = createKafka(settings, this.logger);
    const admin = kafka.admin();
    this.admin = admin;
    await admin.connect();
    this.dlqProducer = await connectProducer(kafka);
    const processor = new BatchProcessor({
      projection: name,
      dataSource: this.opts.dataSource,
      schema: this.opts.schema,
      handler: this.opts.handler,
      topic: settings.topic,
      rebuilding: false,
      asyncCommit: this.opts.asyncCommit ?? false,
      maxAttempts: this.opts.maxAttempts ?? 5,
      backoffMs: backoff(this.tuning),
      heartbeatIntervalMs: this.tuning.heartbeatIntervalMs,
      applyBatchSize: this.tuning.applyBatchSize,
      startOffset: async (partition) => (this.opts.fromBeginning === false ? null : this.lowWatermark(partition)),
      lowWatermark: (partition) => this.lowWatermark(partition),
      publishDeadLetter: (d) => this.publishDeadLetter(d),
      sealer,
      logger: this.logger,
    });
    this.consumer = new CheckpointedConsumer({
      kafka,
      admin,
      groupId: this.groupId,
      topic: settings.topic,
      fromBeginning: this.opts.fromBeginning ?? true,
      dataSource: this.opts.dataSource,
      processor,
      commitToKafka: true,
      tuning: this.tuning,
      logger: this.logger,
      projection: name,
      onBatch: (partition, outcome, highWatermark) => {
        if (outcome.kind === 'done') {
          const lag = BigInt(highWatermark) - outcome.nextOffset;
          metrics.lag.set({ projection: name, partition: String(partition) }, Number(lag > 0n ? lag : 0n));
        }
      },
    });
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    if (this.lagTimer) clearInterval(this.lagTimer);
    this.lagTimer = null;
    const consumer = this.consumer;
    this.consumer = null;
    await consumer?.stop();
    await this.dlqProducer?.disconnect();
    this.dlqProducer = null;
    await this.admin?.disconnect();
    this.admin = null;
    this.logger.log('projection runner stopped', { projection: this.opts.name });
  }

  /** Group joins since start (a rebalance shows as more than one). */
  get groupJoins(): number {
    return this.consumer?.joins ?? 0;
  }

  /** Resolves when the stored positions reach the high watermarks taken when it is called. */
  async waitUntilCaughtUp(timeoutMs = 60_000): Promise<void> {
    const admin = this.requireAdmin();
    const topic = this.opts.settings.topic;
    const targets = await topicOffsets(admin, topic);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const stored = await readCheckpoints(this.opts.dataSource, topic);
      const behind = targets.filter((t) => t.high > t.low && (stored.get(t.partition) ?? t.low) < t.high);
      if (behind.length === 0) return;
      if (Date.now() > deadline) {
        const detail = behind.map((t) => `${t.partition}: ${stored.get(t.partition) ?? 'none'}/${t.high}`).join(', ');
        throw new Error(`projection ${this.opts.name} did not catch up within ${timeoutMs} ms (${detail})`);
      }
      await sleep(100);
    }
  }

  /** High watermark minus checkpoint, per partition; also sets the lag gauge. */
  async lag(): Promise<Record<number, number>> {
    const admin = this.requireAdmin();
    const topic = this.opts.settings.topic;
    const [offsets, stored] = await Promise.all([topicOffsets(admin, topic), readCheckpoints(this.opts.dataSource, topic)]);
    const out: Record<number, number> = {};
    for (const o of offsets) {
      const next = stored.get(o.partition) ?? o.low;
      const lag = o.high > next ? Number(o.high - next) : 0;
      out[o.partition] = lag;
      metrics.lag.set({ projection: this.opts.name, partition: String(o.partition) }, lag);
    }
    return out;
  }

  private requireAdmin(): Admin {
    if (!this.admin) throw new Error(`projection runner ${this.opts.name} is not started`);
    return this.admin;
  }

  private async lowWatermark(partition: number): Promise<bigint> {
    const offsets = await topicOffsets(this.requireAdmin(), this.opts.settings.topic);
    return offsets.find((o) => o.partition === partition)?.low ?? 0n;
  }

  private async publishDeadLetter(d: DeadLetter): Promise<void> {
    if (!this.dlqProducer) throw new Error('dead-letter producer is not connected');
    const headers: Record<string, string> = {
      [DEAD_LETTER_HEADER.reason]: d.reason,
      [DEAD_LETTER_HEADER.topic]: d.topic,
      [DEAD_LETTER_HEADER.partition]: String(d.partition),
      [DEAD_LETTER_HEADER.offset]: d.message.offset,
      [DEAD_LETTER_HEADER.projection]: this.opts.name,
      [DEAD_LETTER_HEADER.attempts]: String(d.attempts),
    };
    if (d.eventId) headers[DEAD_LETTER_HEADER.eventId] = d.eventId;
    await sendAcked(this.dlqProducer, this.deadLetterTopic, [{ key: d.message.key, value: d.message.value, headers }]);
  }
}
