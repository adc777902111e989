import { parseEvent } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import type { EntityManager } from 'typeorm';
import { enqueueOutbox, insertParsedOutbox } from './outbox';
import type { LogSealer } from './seal';
import { holdSwapLockShared, sql } from './sql';

/**
 * What a projection handler gets with each batch of events (ADR 0003): the transaction, whether this
 * is a rebuild, and `emit` for the decisions it takes while applying them.
 */
export interface ProjectionContext {
  /** The batch's transaction (a savepoint of the consumer batch, or the caller's transaction). */
  readonly manager: EntityManager;
  /** True while the projection is rebuilt from offset zero: decisions are not taken again. */
  readonly rebuilding: boolean;
  /** The partition the events come from; -1 outside the consumer (HTTP decisions, replays). */
  readonly partition: number;
  /**
   * Records events this batch decided. After `handle` returns, the runtime puts them into the outbox
   * (validated) in this same transaction, marks them applied, and applies them through `handle` as
   * the next batch; when they come back from the log they are skipped. Of several events of one type
   * for one person emitted while handling one batch, only the last is kept: a decision superseded
   * within the batch was never committed, so nobody saw it. While rebuilding, `emit` does nothing
   * (those events are further down the log and arrive like any other).
   */
  emit(events: RegistrationEvent | readonly RegistrationEvent[]): void;
  /**
   * Puts events into the outbox (validated, sealed) in this same transaction without applying them
   * here: for decisions about others, applied by their own partition when they come back from the log.
   * While rebuilding it does nothing, like `emit`.
   */
  enqueue(events: readonly RegistrationEvent[]): Promise<void>;
}

/**
 * A projection: applies events, in log order, to its own tables. One method for one event and for a
 * thousand; it must be deterministic over (events, current rows) so that a rebuild equals the live
 * projection, and the result must not depend on how the log is cut into batches, except that
 * decisions superseded within a batch are not emitted.
 */
export interface ProjectionHandler {
  handle(events: readonly RegistrationEvent[], ctx: ProjectionContext): Promise<void>;
}

/**
 * IDs of the events this process emitted and applied (handleWithEmits, commitDecisions), newest
 * last, at most `max`: a hint for the consumer, which would otherwise open and check these events
 * again when the relay's copy comes back from the log, only to skip them as applied (batch.ts,
 * ownEventsApplied). Only a hint: an ID is added before its transaction commits and a rebuild swaps
 * in a schema that may not have applied it, so the consumer skips an event only when the schema's
 * applied_event holds its ID.
 */
export class RecentEventIds {
  private readonly ids = new Set<string>();

  constructor(private readonly max: number) {}

  add(eventId: string): void {
    this.ids.delete(eventId);
    this.ids.add(eventId);
    if (this.ids.size > this.max) {
      const oldest = this.ids.values().next();
      if (!oldest.done) this.ids.delete(oldest.value);
    }
  }

  has(eventId: string): boolean {
    return this.ids.has(eventId);
  }

  delete(eventId: string): void {
    this.ids.delete(eventId);
  }

  get size(): number {
    return this.ids.size;
  }
}

/** This process's emitted events (about 100 bytes an ID: at most ~10 MB; a relay further behind only costs the opening again). */
export const emittedHere = new RecentEventIds(100_000);

/** An emitted event that emits again, and again: a handler bug, stopped before it loops forever. */
const MAX_EMIT_DEPTH = 16;

export class EmitDepthError extends Error {
  constructor() {
    super(`events emitted more than ${MAX_EMIT_DEPTH} levels deep`);
    this.name = 'EmitDepthError';
  }
}

export interface Position {
  partition: number | null;
  offset: string | null;
}

export interface AppliedMark {
  eventId: string;
  partition: number | null;
  offset: string | null;
}

/** An event with where it was read from (null outside the consumer). */
export interface Positioned {
  event: RegistrationEvent;
  partition: number | null;
  offset: string | null;
}

/**
 * Records many events as applied in one statement; returns the IDs that were not applied before
 * (the first occurrence of an ID repeated in `marks` counts, the rest are duplicates).
 */
export async function markAppliedMany(manager: EntityManager, marks: readonly AppliedMark[]): Promise<Set<string>> {
  if (marks.length === 0) return new Set();
  const { rows } = await sql(
    manager,
    `insert into applied_event (event_id, partition, "offset")
     select e.event_id, e.partition, e."offset"
       from unnest($1::text[], $2::int[], $3::bigint[]) with ordinality as e(event_id, partition, "offset", ord)
      order by e.ord
     on conflict (event_id) do nothing returning event_id`,
    [marks.map((m) => m.eventId), marks.map((m) => m.partition), marks.map((m) => m.offset)],
  );
  return new Set(rows.map((r) => String(r['event_id'])));
}

/** The events not applied before, in their order, each ID once; marks them applied in one statement. */
export async function freshEvents(manager: EntityManager, items: readonly Positioned[]): Promise<RegistrationEvent[]> {
  const fresh = await markAppliedMany(
    manager,
    items.map((i) => ({ eventId: i.event.eventId, partition: i.partition, offset: i.offset })),
  );
  const out: RegistrationEvent[] = [];
  for (const item of items) {
    if (fresh.delete(item.event.eventId)) out.push(item.event);
  }
  return out;
}

/**
 * The emitted events that stand: per person and type the last one, each at the place of its last
 * emission (so a person's events keep their order).
 */
export function lastPerPersonAndType(events: readonly RegistrationEvent[]): RegistrationEvent[] {
  const lastIndex = new Map<string, number>();
  events.forEach((e, i) => lastIndex.set(`${e.personKey}\u0000${e.type}`, i));
  return events.filter((e, i) => lastIndex.get(`${e.personKey}\u0000${e.type}`) === i);
}

export interface ApplyBase {
  rebuilding: boolean;
  /** -1 outside the consumer. */
  partition: number;
  /** Seals what goes into the outbox (ADR 0009, amended: outbox rows are sealed when written). */
  sealer: LogSealer;
}

/**
 * Hands fresh events to the handler, then what it emitted (validated, into the outbox, marked
 * applied), and so on. The caller owns the transaction.
 */
async function handleWithEmits(manager: EntityManager, handler: ProjectionHandler, events: readonly RegistrationEvent[], base: ApplyBase, depth: number): Promise<void> {
  const emitted: RegistrationEvent[] = [];
  const ctx: ProjectionContext = {
    manager,
    rebuilding: base.rebuilding,
    partition: base.partition,
    emit: (more) => {
      if (base.rebuilding) return;
      if (Array.isArray(more)) emitted.push(...(more as readonly RegistrationEvent[]));
      else emitted.push(more as RegistrationEvent);
    },
    enqueue: async (more) => {
      if (!base.rebuilding) await enqueueOutbox(manager, base.sealer, more);
    },
  };
  await handler.handle(events, ctx);
  if (emitted.length === 0) return;
  if (depth >= MAX_EMIT_DEPTH) throw new EmitDepthError();
  const standing = lastPerPersonAndType(emitted).map((e) => parseEvent(e));
  // An emitted event applied before (it came back from the log already) is neither re-published nor re-applied.
  const fresh = await freshEvents(manager, standing.map((event) => ({ event, partition: null, offset: null })));
  if (fresh.length === 0) return;
  await insertParsedOutbox(manager, base.sealer, fresh);
  for (const e of fresh) emittedHere.add(e.eventId);
  await handleWithEmits(manager, handler, fresh, base, depth + 1);
}

/**
 * Applies events in the caller's transaction (which holds the schema's swap lock): those applied
 * before are skipped by event ID, the rest are marked applied and handed to the handler in one
 * batch, then whatever it emitted. Returns the events that were applied (not skipped).
 */
export async function applyEvents(manager: EntityManager, handler: ProjectionHandler, items: readonly Positioned[], base: ApplyBase): Promise<RegistrationEvent[]> {
  const fresh = await freshEvents(manager, items);
  if (fresh.length > 0) await handleWithEmits(manager, handler, fresh, base, 0);
  return fresh;
}

/**
 * Decisions taken while serving a request (HTTP), in the caller's transaction: validated, into the
 * outbox, sealed (the relay appends them to the log in order) and applied to this service's projection
 * through the same handler as the log path, marked applied so the consumer skips them when they come
 * back. A decision applied before (a retried request) changes nothing. Returns the events applied now.
 */
export async function commitDecisions(manager: EntityManager, handler: ProjectionHandler, events: readonly RegistrationEvent[], sealer: LogSealer): Promise<RegistrationEvent[]> {
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error('commitDecisions needs a transactional EntityManager (dataSource.transaction(manager => ...))');
  }
  const parsed = events.map((e) => parseEvent(e));
  await holdSwapLockShared(manager);
  const fresh = await freshEvents(manager, parsed.map((event) => ({ event, partition: null, offset: null })));
  if (fresh.length === 0) return [];
  await insertParsedOutbox(manager, sealer, fresh);
  for (const e of fresh) emittedHere.add(e.eventId);
  await handleWithEmits(manager, handler, fresh, { rebuilding: false, partition: -1, sealer }, 0);
  return fresh;
}
