import type { RegistrationEvent } from '@qmcb/contracts';
import type { EntityManager } from 'typeorm';
import { insertOutbox } from './outbox';
import { holdSwapLockShared, sql } from './sql';

export interface ApplyContext {
  manager: EntityManager;
  rebuilding: boolean;
  /** Partition and offset of the message being applied; -1 / '-1' outside the consumer. */
  partition: number;
  offset: string;
  /**
   * live: enqueue to the outbox in this same transaction, then apply each emitted event through the
   * same handler (recursively) and mark it applied; rebuilding: no-op (those events are already
   * further down the log).
   */
  emit(events: RegistrationEvent[]): Promise<void>;
}

/**
 * The context of `applyBatch`: one call for many events of one partition, in one savepoint of the
 * consumer batch's transaction.
 */
export interface BatchApplyContext {
  manager: EntityManager;
  rebuilding: boolean;
  /** The partition the events come from; -1 outside the consumer. */
  partition: number;
  /**
   * Batch mode's emit (the contract differs from ApplyContext.emit):
   * - live: validates the events, enqueues them to the outbox in one multi-row insert and marks them
   *   applied (so they are skipped when they come back from the log), in this same transaction; it
   *   returns the events that were newly marked, as they will be read back from the log. The runtime
   *   does NOT apply them: the handler must apply exactly the returned events to its own projection
   *   itself, in the order returned, before applyBatch returns (typically with the same multi-row
   *   statements it uses for the batch), and its writes must equal what `apply` would have written
   *   for them. Events it emits while applying those are emitted with another call.
   * - rebuilding: does nothing and returns [] (those events are further down the log and arrive
   *   through applyBatch like any other).
   */
  emit(events: RegistrationEvent[]): Promise<RegistrationEvent[]>;
}

export interface ProjectionHandler {
  apply(event: RegistrationEvent, ctx: ApplyContext): Promise<void>;
  /**
   * Optional: applies many events at once (ADR 0001, "Batch apply"). The runner passes the events of
   * a consumer batch not applied before (already deduplicated by event ID and marked applied), in
   * log order, all of one partition. The result must equal applying them one by one with `apply`
   * (same rows), except that of several decisions one by one would emit for one item within the
   * call, only the last need be (the intermediate ones no one saw committed). If it throws, the
   * runner rolls the whole call back and applies the same events one by one with `apply`, so a
   * poison event is still isolated, retried and dead-lettered on its own.
   */
  applyBatch?(events: RegistrationEvent[], ctx: BatchApplyContext): Promise<void>;
}

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

/**
 * Records many events as applied in one statement; returns the IDs that were not applied before
 * (the first occurrence of an ID repeated in `marks` counts, the rest are duplicates).
 */
export async function markAppliedMany(manager: EntityManager, marks: AppliedMark[]): Promise<Set<string>> {
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

/** The events not applied before, in their order, each ID once: marks them applied in one statement. */
export async function freshEvents<T extends { event: RegistrationEvent }>(manager: EntityManager, items: T[], at: (item: T) => Position): Promise<T[]> {
  const fresh = await markAppliedMany(
    manager,
    items.map((i) => ({ eventId: i.event.eventId, ...at(i) })),
  );
  const out: T[] = [];
  for (const item of items) {
    if (fresh.delete(item.event.eventId)) out.push(item);
  }
  return out;
}

/** The batch-mode context (see BatchApplyContext.emit for the contract). */
export function batchApplyContext(manager: EntityManager, base: { rebuilding: boolean; partition: number }): BatchApplyContext {
  return {
    manager,
    rebuilding: base.rebuilding,
    partition: base.partition,
    emit: async (events) => {
      if (base.rebuilding || events.length === 0) return [];
      const parsed = await insertOutbox(manager, events, { swapLockHeld: true });
      const fresh = await freshEvents(
        manager,
        parsed.map((event) => ({ event })),
        () => ({ partition: null, offset: null }),
      );
      return fresh.map((f) => f.event);
    },
  };
}

/** Records the event as applied; false when it already was ("already applied" is success). */
async function markApplied(manager: EntityManager, eventId: string, at: Position): Promise<boolean> {
  const { rows } = await sql(
    manager,
    `insert into applied_event (event_id, partition, "offset") values ($1, $2, $3)
     on conflict (event_id) do nothing returning event_id`,
    [eventId, at.partition, at.offset],
  );
  return rows.length > 0;
}

/** Marks and applies one event in the manager's transaction; the caller owns the transaction. */
export async function applyEvent(
  manager: EntityManager,
  handler: ProjectionHandler,
  event: RegistrationEvent,
  base: { rebuilding: boolean; partition: number; offset: string },
  at: Position,
  depth = 0,
): Promise<boolean> {
  if (!(await markApplied(manager, event.eventId, at))) return false;
  const ctx: ApplyContext = {
    manager,
    rebuilding: base.rebuilding,
    partition: base.partition,
    offset: base.offset,
    emit: async (events) => {
      if (base.rebuilding || events.length === 0) return;
      if (depth >= MAX_EMIT_DEPTH) throw new EmitDepthError();
      // Both callers (the runner's batch, applyOnce) hold the schema's swap lock already.
      const emitted = await insertOutbox(manager, events, { swapLockHeld: true });
      for (const next of emitted) {
        await applyEvent(manager, handler, next, base, { partition: null, offset: null }, depth + 1);
      }
    },
  };
  await handler.apply(event, ctx);
  return true;
}

/**
 * Applies one event outside the consumer (HTTP decision paths), in the caller's transaction:
 * skipped (false) if already applied, else handler.apply and marked applied (true). When the event
 * later arrives from the log, the consumer skips it by event ID.
 */
export async function applyOnce(
  manager: EntityManager,
  handler: ProjectionHandler,
  event: RegistrationEvent,
  ctx: Partial<ApplyContext> = {},
): Promise<boolean> {
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error('applyOnce needs a transactional EntityManager (dataSource.transaction(manager => ...))');
  }
  await holdSwapLockShared(manager);
  const base = { rebuilding: ctx.rebuilding ?? false, partition: ctx.partition ?? -1, offset: ctx.offset ?? '-1' };
  const at: Position = base.partition >= 0 ? { partition: base.partition, offset: base.offset } : { partition: null, offset: null };
  if (!ctx.emit) return applyEvent(manager, handler, event, base, at);
  // A caller-supplied emit replaces the outbox behaviour (e.g. to collect emitted events).
  const custom = ctx.emit;
  if (!(await markApplied(manager, event.eventId, at))) return false;
  await handler.apply(event, { manager, ...base, emit: custom });
  return true;
}
