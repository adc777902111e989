import type { RegistrationEvent } from '@qmcb/contracts';
import { applyOnce, enqueueOutbox } from '@qmcb/event-log';
import type { ProjectionHandler } from '@qmcb/event-log';
import type { EntityManager } from 'typeorm';

/**
 * Commits decisions made while serving a request: into the outbox (the relay appends them to the
 * log in order) and into this service's own state, in the caller's transaction. The state write
 * marks each event applied, so when the event comes back from the log it is skipped.
 */
export async function commitDecisions(manager: EntityManager, handler: ProjectionHandler, events: RegistrationEvent[]): Promise<void> {
  await enqueueOutbox(manager, events);
  for (const event of events) await applyOnce(manager, handler, event);
}

export async function alreadyApplied(manager: EntityManager, eventId: string): Promise<boolean> {
  const rows: unknown[] = await manager.query(`SELECT 1 FROM applied_event WHERE event_id = $1`, [eventId]);
  return rows.length > 0;
}
