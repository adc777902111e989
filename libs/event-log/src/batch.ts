import type { ContractViolationError } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import type { Batch, KafkaMessage } from 'kafkajs';
import type { DataSource, QueryRunner } from 'typeorm';
import { applyEvents, emittedHere } from './apply';
import type { ProjectionHandler } from './apply';
import { errorInfo } from './logger';
import type { Logger } from './logger';
import { metrics } from './metrics';
import { HEADER } from './producer';
import { SealedEnvelopeError } from './seal';
import type { LogSealer } from './seal';
import { big, commitAsynchronously, holdSwapLockShared, sleep, sql } from './sql';

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
  /**
   * Commit batches without waiting for the WAL flush (`synchronous_commit = off` for the batch's
   * transaction only, sql.ts commitAsynchronously), unless the batch wrote to the outbox. A
   * PostgreSQL crash then loses at most the last batches together with their checkpoint, and they
   * are applied again from the log.
   */
  asyncCommit?: boolean;
  maxAttempts: number;
  /** Delay before retry number `attempt` (1-based) of a failing handler. */
  backoffMs: (attempt: number) => number;
  /** How often a heartbeat is sent while a chunk is being applied; default 3 s. */
  heartbeatIntervalMs?: number;
  /**
   * Events per handler call: a consumer batch is cut into chunks of this size, each applied in one
   * call (the runner heartbeats between chunks and while one runs). Default 1,000.
   */
  applyBatchSize?: number;
  /** Where to start a partition that has no checkpoint yet; null: wherever the consumer fetched from. */
  startOffset: (partition: number) => Promise<bigint | null>;
  /** Lowest offset still in the log, to tell a real gap from lost data. */
  lowWatermark: (partition: number) => Promise<bigint>;
  /** Publishes a dead letter (to the DLQ topic); awaited before the transaction commits. */
  publishDeadLetter?: (d: DeadLetter) => Promise<void>;
  /** Opens sealed events (ADR 0009). */
  sealer: LogSealer;
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
  | { kind: 'done'; nextOffset: bigint; applied: number; skipped: number; deadLettered: number; shredded: number; interrupted: unknown };

/**
 * A message of a chunk: decoded, refused by its contract, of an erased person (its key shredded), or
 * this process's own event already applied here (not opened: ownEventsApplied).
 */
type Decoded =
  | { message: KafkaMessage; event: RegistrationEvent; violation: null; shredded: null }
  | { message: KafkaMessage; event: null; violation: ContractViolationError; shredded: null }
  | { message: KafkaMessage; event: null; violation: null; shredded: string }
  | { message: KafkaMessage; event: null; violation: null; shredded: null };
type Valid = Extract<Decoded, { event: RegistrationEvent }>;

interface ChunkOutcome {
  applied: number;
  skipped: number;
  deadLettered: number;
  /** Events of erased persons passed over. */
  shredded: number;
  /** Offset of the last message of the chunk that is done (applied, skipped or dead-lettered). */
  lastDone: bigint | null;
  /** Set when a heartbeat failed: the chunk stopped after lastDone. */
  interrupted: unknown;
}

/** Events of a chunk applied from its start: how many are done, and how. */
interface RangeOutcome {
  applied: number;
  skipped: number;
  deadLettered: number;
  /** How many items from the start of the range are done. */
  done: number;
  interrupted: unknown;
}

function headerText(message: KafkaMessage, name: string): string | null {
  const value = message.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return null;
  return Buffer.isBuffer(first) ? first.toString() : String(first);
}

/** The `eventId` at the top of a message value (a sealed envelope's outer part, or a plain event); null when there is none. */
function valueEventId(value: Buffer | null): string | null {
  if (value === null) return null;
  try {
    const raw: unknown = JSON.parse(value.toString());
    const id = raw && typeof raw === 'object' ? (raw as Record<string, unknown>)['eventId'] : undefined;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
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
 * of the batch or none of it (ARCHITECTURE.md: The log; ADR 0001, ADR 0003).
 */
export class BatchProcessor {
  constructor(private readonly o: BatchProcessorOptions) {}

  async process(batch: Batch, control: BatchControl): Promise<BatchOutcome> {
    const { topic, partition } = batch;
    const qr = this.o.dataSource.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      if (this.o.asyncCommit) await commitAsynchronously(qr);
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
      let shredded = 0;
      let interrupted: unknown = null;
      let lastDone: bigint | null = null;
      let completed = true;
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
        shredded += chunk.shredded;
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
          completed = i + size >= runnable.length;
          break;
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
      if (shredded) metrics.shreddedSkipped.inc({ projection: this.o.projection }, shredded);
      return { kind: 'done', nextOffset, applied, skipped, deadLettered, shredded, interrupted };
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

  /**
   * A chunk: open and decode every message (a contract violation, a sealed part that does not open,
   * is dead-lettered in its place; an event of an erased person is passed over), then apply
   * the valid events in one handler call inside a savepoint; if that fails, the halves are applied
   * the same way, down to one event, which is retried with backoff and dead-lettered after
   * maxAttempts. A heartbeat is sent every heartbeatIntervalMs while the chunk runs.
   */
  private async processChunk(qr: QueryRunner, messages: KafkaMessage[], topic: string, partition: number, control: BatchControl): Promise<ChunkOutcome> {
    const own = await this.ownEventsApplied(qr, messages);
    const toOpen = own.size === 0 ? messages : messages.filter((m) => !own.has(m));
    const opened = await this.o.sealer.open(toOpen.map((m) => m.value));
    let next = 0;
    const decoded: Decoded[] = messages.map((message): Decoded => {
      if (own.has(message)) return { message, event: null, violation: null, shredded: null };
      const o = opened[next++];
      if (!o) throw new Error('the sealer opened fewer messages than it was given');
      if (o.kind === 'event') return { message, event: o.event, violation: null, shredded: null };
      if (o.kind === 'violation') return { message, event: null, violation: o.violation, shredded: null };
      return { message, event: null, violation: null, shredded: o.personRef };
    });
    const valid = decoded.filter((d): d is Valid => d.event !== null);
    const deadLetters: DeadLetter[] = [];
    let pumpFailure: unknown = null;
    const pump = setInterval(() => {
      control.heartbeat().catch((e: unknown) => {
        pumpFailure ??= e;
      });
    }, this.o.heartbeatIntervalMs ?? 3_000);
    let range: RangeOutcome;
    try {
      range = await this.applyRange(qr, valid, topic, partition, control, deadLetters, () => pumpFailure);
    } finally {
      clearInterval(pump);
    }
    if (range.interrupted === null && pumpFailure !== null) range.interrupted = pumpFailure;
    // Done: every message up to the last valid event done (all of them when nothing was interrupted).
    const complete = range.done === valid.length && range.interrupted === null;
    const firstUndone = complete ? null : BigInt((valid[range.done] as Valid).message.offset);
    for (const d of decoded) {
      if (d.violation && (firstUndone === null || BigInt(d.message.offset) < firstUndone)) {
        const reason = d.violation instanceof SealedEnvelopeError ? `sealed: ${d.violation.message}` : `contract: ${d.violation.message}`;
        deadLetters.push({ message: d.message, topic, partition, reason, eventId: headerText(d.message, HEADER.eventId), attempts: 0 });
      }
    }
    let ownSkipped = 0;
    for (const d of decoded) {
      if (own.has(d.message) && (firstUndone === null || BigInt(d.message.offset) < firstUndone)) ownSkipped += 1;
    }
    let shredded = 0;
    for (const d of decoded) {
      if (d.shredded !== null && (firstUndone === null || BigInt(d.message.offset) < firstUndone)) {
        shredded += 1;
        this.o.logger.log('event of an erased person skipped', {
          projection: this.o.projection,
          partition,
          offset: d.message.offset,
          eventId: headerText(d.message, HEADER.eventId),
          personRef: d.shredded,
        });
      }
    }
    deadLetters.sort((a, b) => (BigInt(a.message.offset) < BigInt(b.message.offset) ? -1 : 1));
    for (const d of deadLetters) await this.deadLetter(qr, d);
    let lastDone: bigint | null = null;
    for (const d of decoded) {
      const offset = BigInt(d.message.offset);
      if (firstUndone === null || offset < firstUndone) lastDone = offset;
    }
    return {
      applied: range.applied,
      skipped: range.skipped + ownSkipped,
      deadLettered: deadLetters.length,
      shredded,
      lastDone,
      interrupted: range.interrupted,
    };
  }

  /**
   * The messages of a chunk that are events this process emitted (apply.ts: handleWithEmits,
   * commitDecisions) coming back from the log as the outbox relay published them, and that this
   * schema has applied already: they are skipped without being opened or checked again.
   *
   * Why that is safe: such an event was checked against its contract when it was emitted, before it
   * went into this service's own outbox and was applied, in one transaction; its row in applied_event
   * says so. A message is skipped only when the schema's applied_event holds the ID that both its
   * `event-id` header and its value's own `eventId` carry: any message carrying an applied ID is a
   * duplicate that freshEvents would skip after opening it anyway, so nothing that would have been
   * applied is passed over. The one difference: a message that reuses an applied ID but would not
   * open or would fail its contract is counted as skipped instead of dead-lettered (it is applied in
   * neither case). Everything else, every event of another process above all, is opened and checked
   * as before: emittedHere is only the hint that decides whether the query is worth a round trip.
   */
  private async ownEventsApplied(qr: QueryRunner, messages: readonly KafkaMessage[]): Promise<Set<KafkaMessage>> {
    const candidates = new Map<KafkaMessage, string>();
    for (const message of messages) {
      const hinted = headerText(message, HEADER.eventId);
      if (hinted === null || !emittedHere.has(hinted)) continue;
      if (valueEventId(message.value) === hinted) candidates.set(message, hinted);
    }
    const own = new Set<KafkaMessage>();
    if (candidates.size === 0) return own;
    const { rows } = await sql(qr, `select event_id from applied_event where event_id = any($1::text[])`, [[...new Set(candidates.values())]]);
    const applied = new Set(rows.map((r) => String(r['event_id'])));
    for (const [message, eventId] of candidates) {
      if (applied.has(eventId)) own.add(message);
    }
    // Back from the log: it will not come again (unless re-sent after a relay crash, and then it is opened).
    for (const eventId of applied) emittedHere.delete(eventId);
    return own;
  }

  /** Applies items (in log order) in one savepoint, or else its halves, down to one event. */
  private async applyRange(
    qr: QueryRunner,
    items: readonly Valid[],
    topic: string,
    partition: number,
    control: BatchControl,
    deadLetters: DeadLetter[],
    pumpFailure: () => unknown,
  ): Promise<RangeOutcome> {
    const none: RangeOutcome = { applied: 0, skipped: 0, deadLettered: 0, done: 0, interrupted: null };
    if (items.length === 0) return none;
    if (items.length === 1) return this.applyOne(qr, items[0] as Valid, topic, partition, control, deadLetters);
    await qr.startTransaction(); // a savepoint inside the batch transaction
    try {
      const fresh = await applyEvents(
        qr.manager,
        this.o.handler,
        items.map((d) => ({ event: d.event, partition, offset: d.message.offset })),
        { rebuilding: this.o.rebuilding, partition, sealer: this.o.sealer },
      );
      await qr.commitTransaction();
      return { applied: fresh.length, skipped: items.length - fresh.length, deadLettered: 0, done: items.length, interrupted: null };
    } catch (e) {
      // If the connection itself is gone this throws too, and the whole batch is abandoned.
      await qr.rollbackTransaction();
      metrics.chunkSplits.inc({ projection: this.o.projection });
      this.o.logger.warn('applying a chunk failed; applying its halves', {
        projection: this.o.projection,
        partition,
        firstOffset: items[0]?.message.offset,
        lastOffset: items[items.length - 1]?.message.offset,
        events: items.length,
        ...errorInfo(e),
      });
    }
    const mid = Math.ceil(items.length / 2);
    const left = await this.applyRange(qr, items.slice(0, mid), topic, partition, control, deadLetters, pumpFailure);
    if (left.interrupted !== null || pumpFailure() !== null) return left;
    const right = await this.applyRange(qr, items.slice(mid), topic, partition, control, deadLetters, pumpFailure);
    return {
      applied: left.applied + right.applied,
      skipped: left.skipped + right.skipped,
      deadLettered: left.deadLettered + right.deadLettered,
      done: left.done + right.done,
      interrupted: right.interrupted,
    };
  }

  /** One event in its own savepoint, retried with backoff, dead-lettered after maxAttempts. */
  private async applyOne(qr: QueryRunner, item: Valid, topic: string, partition: number, control: BatchControl, deadLetters: DeadLetter[]): Promise<RangeOutcome> {
    const { projection } = this.o;
    const { message, event } = item;
    let lastError: unknown = null;
    for (let attempt = 1; attempt <= this.o.maxAttempts; attempt += 1) {
      await qr.startTransaction(); // a savepoint inside the batch transaction
      try {
        const fresh = await applyEvents(qr.manager, this.o.handler, [{ event, partition, offset: message.offset }], { rebuilding: this.o.rebuilding, partition, sealer: this.o.sealer });
        await qr.commitTransaction();
        return { applied: fresh.length, skipped: 1 - fresh.length, deadLettered: 0, done: 1, interrupted: null };
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
            return { applied: 0, skipped: 0, deadLettered: 0, done: 0, interrupted: hb };
          }
        }
      }
    }
    const { error, message: text } = errorInfo(lastError);
    deadLetters.push({ message, topic, partition, reason: `handler: ${error}: ${text}`, eventId: event.eventId, attempts: this.o.maxAttempts });
    return { applied: 0, skipped: 0, deadLettered: 1, done: 1, interrupted: null };
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
