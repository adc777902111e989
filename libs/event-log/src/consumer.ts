import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { BatchOutcome, BatchProcessor } from './batch';
import { errorInfo } from './logger';
import type { Logger } from './logger';
import { CLIENT_RETRY, topicOffsets } from './settings';
import { big, int, sql } from './sql';

/**
 * Consumer timings and sizes; the defaults suit production, tests pin shorter ones. The sizes were
 * chosen with bench/comparison-scale.bench.ts on a 2-core machine (ADR 0001, "Batch apply"): every
 * consumer batch costs one PostgreSQL transaction and, in batch mode, a handful of statements per
 * chunk, so bigger fetches mean fewer round trips per event.
 */
export interface ConsumerTuning {
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  rebalanceTimeoutMs?: number;
  /** How long the broker holds a fetch waiting for minBytes (when there is less than that). */
  maxWaitTimeMs?: number;
  /**
   * The broker answers a fetch once it has this many bytes (or maxWaitTimeMs passed): under a
   * steady trickle, batches of a few dozen events instead of one each, for at most maxWaitTimeMs of
   * extra latency.
   */
  minBytes?: number;
  /** Per partition and fetch; a consumer batch is at most this big (plus one message). */
  maxBytesPerPartition?: number;
  /** Per fetch, all partitions together. */
  maxBytes?: number;
  /** Events per handler call (a consumer batch is cut into chunks of this size). */
  applyBatchSize?: number;
  /** First retry delay of a failing handler; doubles per attempt, capped at 5 s. */
  retryBackoffMs?: number;
  /**
   * Partitions whose batches are applied at the same time, each in its own transaction and
   * connection. Order holds (one partition's batches are still one after another); with 2, one
   * batch's SQL runs in PostgreSQL while the next is decoded and folded in Node.
   */
  partitionsConsumedConcurrently?: number;
}

export const DEFAULT_TUNING: Required<ConsumerTuning> = {
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  rebalanceTimeoutMs: 60_000,
  maxWaitTimeMs: 250,
  minBytes: 16_384,
  maxBytesPerPartition: 2_097_152,
  maxBytes: 12_582_912,
  applyBatchSize: 1_000,
  retryBackoffMs: 200,
  partitionsConsumedConcurrently: 2,
};

/** The defaults with the given values over them; an undefined value keeps the default. */
export function withDefaults(tuning: ConsumerTuning = {}): Required<ConsumerTuning> {
  const out: Required<ConsumerTuning> = { ...DEFAULT_TUNING };
  for (const [key, value] of Object.entries(tuning) as [keyof ConsumerTuning, number | undefined][]) {
    if (value !== undefined) out[key] = value;
  }
  return out;
}

export function backoff(tuning: Required<ConsumerTuning>): (attempt: number) => number {
  return (attempt) => Math.min(tuning.retryBackoffMs * 2 ** (attempt - 1), 5_000);
}

export async function readCheckpoints(dataSource: DataSource, topic: string): Promise<Map<number, bigint>> {
  const { rows } = await sql(dataSource.manager, `select partition, next_offset from projection_checkpoint where topic = $1`, [topic]);
  return new Map(rows.map((r) => [int(r, 'partition'), big(r, 'next_offset')]));
}

export interface CheckpointedConsumerOptions {
  kafka: Kafka;
  admin: Admin;
  groupId: string;
  topic: string;
  fromBeginning: boolean;
  dataSource: DataSource;
  processor: BatchProcessor;
  /** Live runners also commit to Kafka (best effort, for tooling); a rebuild never does. */
  commitToKafka: boolean;
  tuning: Required<ConsumerTuning>;
  logger: Logger;
  projection: string;
  onBatch?: (partition: number, outcome: BatchOutcome, highWatermark: string) => void;
}

/**
 * A kafkajs consumer whose position lives in PostgreSQL: it seeks every assigned partition to the
 * stored checkpoint when it joins the group, and each batch goes through the BatchProcessor.
 */
export class CheckpointedConsumer {
  private consumer: Consumer | null = null;
  private running = false;
  private restartTimer: NodeJS.Timeout | null = null;
  joins = 0;

  constructor(private readonly o: CheckpointedConsumerOptions) {}

  async start(): Promise<void> {
    this.running = true;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const consumer = this.consumer;
    this.consumer = null;
    if (consumer) await consumer.disconnect();
  }

  private async connect(): Promise<void> {
    const { kafka, groupId, topic, tuning } = this.o;
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: tuning.sessionTimeoutMs,
      heartbeatInterval: tuning.heartbeatIntervalMs,
      rebalanceTimeout: tuning.rebalanceTimeoutMs,
      maxWaitTimeInMs: tuning.maxWaitTimeMs,
      minBytes: tuning.minBytes,
      maxBytesPerPartition: tuning.maxBytesPerPartition,
      maxBytes: tuning.maxBytes,
      allowAutoTopicCreation: false,
      retry: CLIENT_RETRY,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.joins += 1;
      const partitions = e.payload.memberAssignment[topic] ?? [];
      this.o.logger.log('joined consumer group', { projection: this.o.projection, groupId, partitions });
      this.seekToCheckpoints(consumer, partitions).catch((err: unknown) =>
        // The per-batch check still finds the right position; this seek only saves a round trip.
        this.o.logger.warn('seek to checkpoints failed', { projection: this.o.projection, ...errorInfo(err) }),
      );
    });
    consumer.on(consumer.events.CRASH, (e) => {
      this.o.logger.error('consumer crashed', { projection: this.o.projection, groupId, restart: e.payload.restart, ...errorInfo(e.payload.error) });
      if (!e.payload.restart && this.running && this.consumer === consumer) this.scheduleRestart(consumer);
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: this.o.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: tuning.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.eachBatch(consumer, payload),
    });
  }

  private scheduleRestart(old: Consumer): void {
    this.restartTimer = setTimeout(() => {
      void (async () => {
        await old.disconnect().catch(() => undefined);
        if (!this.running) return;
        try {
          await this.connect();
        } catch (e) {
          this.o.logger.error('consumer restart failed', { projection: this.o.projection, ...errorInfo(e) });
          if (this.running && this.consumer) this.scheduleRestart(this.consumer);
        }
      })();
    }, 2_000);
    this.restartTimer.unref();
  }

  private async seekToCheckpoints(consumer: Consumer, partitions: number[]): Promise<void> {
    if (partitions.length === 0) return;
    const { topic } = this.o;
    const stored = await readCheckpoints(this.o.dataSource, topic);
    const missing = partitions.filter((p) => !stored.has(p));
    const lows = new Map<number, bigint>();
    if (missing.length && this.o.fromBeginning) {
      for (const o of await topicOffsets(this.o.admin, topic)) lows.set(o.partition, o.low);
    }
    for (const partition of partitions) {
      const offset = stored.get(partition) ?? lows.get(partition);
      if (offset !== undefined) consumer.seek({ topic, partition, offset: String(offset) });
    }
  }

  private async eachBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.isEmpty()) return;
    const outcome = await this.o.processor.process(batch, {
      heartbeat: () => payload.heartbeat(),
      shouldStop: () => !payload.isRunning() || payload.isStale(),
    });
    this.o.onBatch?.(batch.partition, outcome, batch.highWatermark);
    switch (outcome.kind) {
      case 'nothing':
        return;
      case 'gap':
        consumer.seek({ topic: batch.topic, partition: batch.partition, offset: String(outcome.seekTo) });
        return;
      case 'done': {
        payload.resolveOffset(String(outcome.nextOffset - 1n));
        if (this.o.commitToKafka) {
          try {
            await payload.commitOffsetsIfNecessary({
              topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(outcome.nextOffset) }] }],
            });
          } catch (e) {
            // The checkpoint in PostgreSQL is the truth; the group offset is informational.
            this.o.logger.warn('kafka offset commit failed', { projection: this.o.projection, partition: batch.partition, ...errorInfo(e) });
          }
        }
        if (outcome.interrupted !== null) throw outcome.interrupted;
        return;
      }
    }
  }
}
