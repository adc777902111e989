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

export interface ProjectionHandler {
  apply(event: RegistrationEvent, ctx: ApplyContext): Promise<void>;
}

/** An emitted event that emits again, and again: a handler bug, stopped before it loops forever. */
const MAX_EMIT_DEPTH = 16;

export class EmitDepthError extends Error {
  constructor() {
    super(`events emitted more than ${MAX_EMIT_DEPTH} levels deep`);
    this.name = 'EmitDepthError';
  }
}

interface Position {
  partition: number | null;
  offset: string | null;
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
      const emitted = await insertOutbox(manager, events);
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
