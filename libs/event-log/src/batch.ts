import { ContractViolationError, decodeEvent } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import type { Batch, KafkaMessage } from 'kafkajs';
import type { DataSource, QueryRunner } from 'typeorm';
import { applyEvent, batchApplyContext, freshEvents } from './apply';
import type { ProjectionHandler } from './apply';
import { errorInfo } from './logger';
import type { Logger } from './logger';
import { metrics } from './metrics';
import { HEADER } from './producer';
import { big, holdSwapLockShared, sleep, sql } from './sql';

export interface DeadLetter {
  message: KafkaMessage;
  topic: string;
  partition: number;
  reason: string;
  eventId: string | null;
  attempts: number;
}

export interface BatchProcessorOptions {
  projection: string;
  dataSource: DataSource;
  schema: string;
  handler: ProjectionHandler;
  topic: string;
  rebuilding: boolean;
  maxAttempts: number;
  /** Delay before retry number `attempt` (1-based) of a failing handler. */
  backoffMs: (attempt: number) => number;
  heartbeatEvery: number;
  /**
   * Events per applyBatch call when the handler has one (a consumer batch is cut into chunks of this
   * size; the runner heartbeats between chunks). Default 1,000.
   */
  applyBatchSize?: number;
  /** Where to start a partition that has no checkpoint yet; null: wherever the consumer fetched from. */
  startOffset: (partition: number) => Promise<bigint | null>;
  /** Lowest offset still in the log, to tell a real gap from lost data. */
  lowWatermark: (partition: number) => Promise<bigint>;
  /** Publishes a dead letter (to the DLQ topic); awaited before the transaction commits. */
  publishDeadLetter?: (d: DeadLetter) => Promise<void>;
  logger: Logger;
}

export interface BatchControl {
  heartbeat(): Promise<void>;
  /** True when the batch must not go on (consumer stopping, or the partition was sought). */
  shouldStop(): boolean;
}

export type BatchOutcome =
  | { kind: 'nothing' }
  | { kind: 'gap'; seekTo: bigint }
  | { kind: 'done'; nextOffset: bigint; applied: number; skipped: number; deadLettered: number; interrupted: unknown };

type MessageOutcome = 'applied' | 'skipped' | 'dead' | { interrupted: unknown };

/** A message of a chunk: decoded, or refused by its contract. */
type Decoded = { message: KafkaMessage; event: RegistrationEvent; violation: null } | { message: KafkaMessage; event: null; violation: ContractViolationError };

interface ChunkOutcome {
  applied: number;
  skipped: number;
  deadLettered: number;
  /** Offset of the last message of the chunk that is done (applied, skipped or dead-lettered). */
  lastDone: bigint | null;
  /** Set when a heartbeat failed: the chunk stopped after lastDone. */
  interrupted: unknown;
}

function headerText(message: KafkaMessage, name: string): string | null {
  const value = message.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return null;
  return Buffer.isBuffer(first) ? first.toString() : String(first);
}

function fetchedOffset(batch: Batch): bigint {
  // The offset the consumer asked for; kafkajs keeps it on the batch without typing it.
  const raw: unknown = Reflect.get(batch, 'fetchedOffset');
  if (typeof raw === 'string' || typeof raw === 'number') return BigInt(raw);
  return BigInt(batch.firstOffset() ?? batch.lastOffset());
}

/**
 * One consumer batch in one PostgreSQL transaction: the projection's writes, the applied event
 * IDs, the dead letters and the checkpoint commit together, so a crash anywhere leaves either all
 * of the batch or none of it (ARCHITECTURE.md: The log; ADR 0001).
 */
export class BatchProcessor {
  constructor(private readonly o: BatchProcessorOptions) {}

  async process(batch: Batch, control: BatchControl): Promise<BatchOutcome> {
    const { topic, partition } = batch;
    const qr = this.o.dataSource.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      await holdSwapLockShared(qr, this.o.schema);
      const stored = await this.lockCheckpoint(qr, topic, partition);
      const fetched = fetchedOffset(batch);
      let next: bigint;
      if (stored === null) {
        const start = await this.o.startOffset(partition);
        next = start ?? fetched;
        await sql(qr, `insert into projection_checkpoint (topic, partition, next_offset) values ($1, $2, $3)`, [topic, partition, String(next)]);
      } else {
        next = stored;
      }
      if (fetched > next) {
        const low = await this.o.lowWatermark(partition);
        if (low <= next) {
          await qr.rollbackTransaction();
          this.o.logger.warn('consumer is ahead of the checkpoint; seeking back', { projection: this.o.projection, partition, fetched: String(fetched), checkpoint: String(next) });
          return { kind: 'gap', seekTo: next };
        }
        this.o.logger.error('offsets below the low watermark are gone from the log; continuing from it', {
          projection: this.o.projection,
          partition,
          checkpoint: String(next),
          lowWatermark: String(low),
        });
        next = fetched;
      }

      let applied = 0;
      let skipped = 0;
      let deadLettered = 0;
      let interrupted: unknown = null;
      let lastDone: bigint | null = null;
      let completed = true;
      if (this.o.handler.applyBatch) {
        // Batch apply: chunks of applyBatchSize, each deduplicated in one statement and applied in
        // one handler call inside a savepoint, falling back to one by one if that call fails.
        const runnable: KafkaMessage[] = [];
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          if (offset < next) lastDone = offset;
          else runnable.push(message);
        }
        const size = Math.max(1, this.o.applyBatchSize ?? 1_000);
        for (let i = 0; i < runnable.length; i += size) {
          if (control.shouldStop()) {
            completed = false;
            break;
          }
          const chunk = await this.processChunk(qr, runnable.slice(i, i + size), topic, partition, control);
          applied += chunk.applied;
          skipped += chunk.skipped;
          deadLettered += chunk.deadLettered;
          if (chunk.lastDone !== null) lastDone = chunk.lastDone;
          if (chunk.interrupted !== null) {
            interrupted = chunk.interrupted;
            completed = false;
            break;
          }
          try {
            await control.heartbeat();
          } catch (e) {
            interrupted = e;
            completed = false;
            break;
          }
        }
      } else {
        let sinceHeartbeat = 0;
        for (const message of batch.messages) {
          if (control.shouldStop()) {
            completed = false;
            break;
          }
          const offset = BigInt(message.offset);
          if (offset < next) {
            lastDone = offset;
            continue;
          }
          const outcome = await this.processMessage(qr, message, topic, partition, control);
          if (typeof outcome === 'object') {
            interrupted = outcome.interrupted;
            completed = false;
            break;
          }
          if (outcome === 'applied') applied += 1;
          else if (outcome === 'skipped') skipped += 1;
          else deadLettered += 1;
          lastDone = offset;
          sinceHeartbeat += 1;
          if (sinceHeartbeat >= this.o.heartbeatEvery) {
            sinceHeartbeat = 0;
            try {
              await control.heartbeat();
            } catch (e) {
              interrupted = e;
              completed = false;
              break;
            }
          }
        }
      }
      if (lastDone === null) {
        await qr.rollbackTransaction();
        if (interrupted !== null) throw interrupted;
        return { kind: 'nothing' };
      }
      // A whole batch moves past its trailing control records too.
      const reached = completed ? BigInt(batch.lastOffset()) + 1n : lastDone + 1n;
      const nextOffset = reached > next ? reached : next;
      await sql(qr, `update projection_checkpoint set next_offset = $3, updated_at = now() where topic = $1 and partition = $2`, [topic, partition, String(nextOffset)]);
      await qr.commitTransaction();
      if (applied) metrics.applied.inc({ projection: this.o.projection }, applied);
      if (skipped) metrics.skipped.inc({ projection: this.o.projection }, skipped);
      return { kind: 'done', nextOffset, applied, skipped, deadLettered, interrupted };
    } catch (e) {
      if (qr.isTransactionActive) {
        await qr.query('rollback').catch(() => undefined);
      }
      throw e;
    } finally {
      await qr.release();
    }
  }

  private async lockCheckpoint(qr: QueryRunner, topic: string, partition: number): Promise<bigint | null> {
    const { rows } = await sql(qr, `select next_offset from projection_checkpoint where topic = $1 and partition = $2 for update`, [topic, partition]);
    return rows[0] ? big(rows[0], 'next_offset') : null;
  }

  private async processMessage(qr: QueryRunner, message: KafkaMessage, topic: string, partition: number, control: BatchControl): Promise<MessageOutcome> {
    let event: RegistrationEvent;
    try {
      event = decodeEvent(message.value);
    } catch (e) {
      if (!(e instanceof ContractViolationError)) throw e;
      await this.contractDeadLetter(qr, message, topic, partition, e);
      return 'dead';
    }
    return this.applyWithRetries(qr, message, event, topic, partition, control);
  }

  private async contractDeadLetter(qr: QueryRunner, message: KafkaMessage, topic: string, partition: number, e: ContractViolationError): Promise<void> {
    await this.deadLetter(qr, { message, topic, partition, reason: `contract: ${e.message}`, eventId: headerText(message, HEADER.eventId), attempts: 0 });
  }

  /** One event in its own savepoint, retried with backoff, dead-lettered after maxAttempts. */
  private async applyWithRetries(qr: QueryRunner, message: KafkaMessage, event: RegistrationEvent, topic: string, partition: number, control: BatchControl): Promise<MessageOutcome> {
    const { projection } = this.o;
    const base = { rebuilding: this.o.rebuilding, partition, offset: message.offset };
    let lastError: unknown = null;
    for (let attempt = 1; attempt <= this.o.maxAttempts; attempt += 1) {
      await qr.startTransaction(); // a savepoint inside the batch transaction
      try {
        const fresh = await applyEvent(qr.manager, this.o.handler, event, base, { partition, offset: message.offset });
        await qr.commitTransaction();
        return fresh ? 'applied' : 'skipped';
      } catch (e) {
        // If the connection itself is gone this throws too, and the whole batch is abandoned.
        await qr.rollbackTransaction();
        lastError = e;
        this.o.logger.warn('handler failed', { projection, partition, offset: message.offset, eventId: event.eventId, type: event.type, attempt, ...errorInfo(e) });
        if (attempt < this.o.maxAttempts) {
          try {
            await control.heartbeat();
            await sleep(this.o.backoffMs(attempt));
            await control.heartbeat();
          } catch (hb) {
            return { interrupted: hb };
          }
        }
      }
    }
    const { error, message: text } = errorInfo(lastError);
    await this.deadLetter(qr, {
      message,
      topic,
      partition,
      reason: `handler: ${error}: ${text}`,
      eventId: event.eventId,
      attempts: this.o.maxAttempts,
    });
    return 'dead';
  }

  /**
   * A chunk in batch mode: decode every message, mark the decodable ones applied in one statement
   * (those already applied are skipped), and hand the new ones to applyBatch in log order, all in one
   * savepoint. If anything in that savepoint fails, it is rolled back and the chunk goes through the
   * one-by-one path, where a poison event is retried and dead-lettered on its own.
   */
  private async processChunk(qr: QueryRunner, messages: KafkaMessage[], topic: string, partition: number, control: BatchControl): Promise<ChunkOutcome> {
    const applyBatch = this.o.handler.applyBatch?.bind(this.o.handler);
    const decoded: Decoded[] = messages.map((message) => {
      try {
        return { message, event: decodeEvent(message.value), violation: null };
      } catch (e) {
        if (!(e instanceof ContractViolationError)) throw e;
        return { message, event: null, violation: e };
      }
    });
    const valid = decoded.filter((d): d is Extract<Decoded, { violation: null }> => d.violation === null);
    let fresh = valid;
    await qr.startTransaction(); // a savepoint inside the batch transaction
    try {
      fresh = await freshEvents(qr.manager, valid, (d) => ({ partition, offset: d.message.offset }));
      if (fresh.length > 0 && applyBatch) {
        await applyBatch(
          fresh.map((d) => d.event),
          batchApplyContext(qr.manager, { rebuilding: this.o.rebuilding, partition }),
        );
      }
      await qr.commitTransaction();
    } catch (e) {
      // If the connection itself is gone this throws too, and the whole batch is abandoned.
      await qr.rollbackTransaction();
      metrics.batchFallbacks.inc({ projection: this.o.projection });
      this.o.logger.warn('batch apply failed; applying its events one by one', {
        projection: this.o.projection,
        partition,
        firstOffset: messages[0]?.offset,
        lastOffset: messages[messages.length - 1]?.offset,
        events: valid.length,
        ...errorInfo(e),
      });
      return this.processOneByOne(qr, decoded, topic, partition, control);
    }
    for (const d of decoded) {
      if (d.violation) await this.contractDeadLetter(qr, d.message, topic, partition, d.violation);
    }
    const last = messages[messages.length - 1];
    return {
      applied: fresh.length,
      skipped: valid.length - fresh.length,
      deadLettered: decoded.length - valid.length,
      lastDone: last ? BigInt(last.offset) : null,
      interrupted: null,
    };
  }

  /** The fallback of a chunk: exactly the per-message path, in log order. */
  private async processOneByOne(qr: QueryRunner, decoded: Decoded[], topic: string, partition: number, control: BatchControl): Promise<ChunkOutcome> {
    const out: ChunkOutcome = { applied: 0, skipped: 0, deadLettered: 0, lastDone: null, interrupted: null };
    let sinceHeartbeat = 0;
    for (const d of decoded) {
      let outcome: MessageOutcome;
      if (d.violation) {
        await this.contractDeadLetter(qr, d.message, topic, partition, d.violation);
        outcome = 'dead';
      } else {
        outcome = await this.applyWithRetries(qr, d.message, d.event, topic, partition, control);
      }
      if (typeof outcome === 'object') {
        out.interrupted = outcome.interrupted;
        return out;
      }
      if (outcome === 'applied') out.applied += 1;
      else if (outcome === 'skipped') out.skipped += 1;
      else out.deadLettered += 1;
      out.lastDone = BigInt(d.message.offset);
      sinceHeartbeat += 1;
      if (sinceHeartbeat >= this.o.heartbeatEvery) {
        sinceHeartbeat = 0;
        try {
          await control.heartbeat();
        } catch (e) {
          out.interrupted = e;
          return out;
        }
      }
    }
    return out;
  }

  private async deadLetter(qr: QueryRunner, d: DeadLetter): Promise<void> {
    await sql(
      qr,
      `insert into dead_letter (event_id, topic, partition, "offset", message_key, reason, raw, attempts)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [d.eventId, d.topic, d.partition, d.message.offset, d.message.key?.toString() ?? null, d.reason, d.message.value, d.attempts],
    );
    if (this.o.publishDeadLetter) await this.o.publishDeadLetter(d);
    metrics.deadLetters.inc({ projection: this.o.projection });
    this.o.logger.error('dead-lettered', { projection: this.o.projection, partition: d.partition, offset: d.message.offset, eventId: d.eventId, attempts: d.attempts, rebuilding: this.o.rebuilding });
  }
}
