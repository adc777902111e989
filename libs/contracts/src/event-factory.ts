import type { EventOf, EventType } from './registry';
import { currentVersion } from './registry';

/** Who or what an event comes from, and why: the envelope fields that are not the payload. */
export interface EventOrigin {
  /** Department code (`dept:public-security`) or service (`svc:review`). */
  source: string;
  /** `user:<sub>`, `key:<keyId>` or a service. */
  actor: string;
  /** When it happened (ISO 8601). */
  occurredAt: string;
  /** When it was recorded; defaults to occurredAt. */
  recordedAt?: string;
  correlationId: string;
  causationId?: string | null;
  /** Version of the person's record the decision was based on; null for facts from outside. */
  basedOnVersion?: number | null;
}

/**
 * The one way an event envelope is made: the current schema version of its type, every field set,
 * nothing left undefined (so the event compares equal after a round trip through JSON).
 */
export function newEvent<K extends EventType>(type: K, eventId: string, personKey: string, payload: EventOf<K>['payload'], origin: EventOrigin): EventOf<K> {
  return {
    eventId,
    type,
    schemaVersion: currentVersion(type),
    personKey,
    occurredAt: origin.occurredAt,
    recordedAt: origin.recordedAt ?? origin.occurredAt,
    source: origin.source,
    actor: origin.actor,
    correlationId: origin.correlationId,
    causationId: origin.causationId ?? null,
    basedOnVersion: origin.basedOnVersion ?? null,
    payload,
  } as EventOf<K>;
}

/** The origin of an event a service decides because of another event (same correlation, caused by it). */
export function causedBy(cause: { eventId: string; correlationId: string }, service: string, occurredAt: string, basedOnVersion: number | null = null): EventOrigin {
  return { source: service, actor: service, occurredAt, correlationId: cause.correlationId, causationId: cause.eventId, basedOnVersion };
}
