import { REGISTRY_CHANGE_PROPOSED, deterministicId, newEvent } from '@qmcb/contracts';
import type { EventOf, RegistrationEvent } from '@qmcb/contracts';
import { policyRegion } from '@qmcb/domain';
import type { RegionPolicy, RegistrationRecord } from '@qmcb/domain';
import type { BusinessEvent } from './business-event-admission';

export const DYNAMIC_UPDATE_SERVICE = 'svc:dynamic-update';

/** Where an event's policy is looked up: the person's policy region, else the place the event names. */
export function regionOf(event: BusinessEvent, record: RegistrationRecord | null): string | null {
  if (record) {
    const region = policyRegion(record);
    if (region) return region;
  }
  const p = event.payload as unknown as Record<string, unknown>;
  for (const field of ['villageCode', 'region', 'issuingRegion']) {
    const value = p[field];
    if (typeof value === 'string') return value;
  }
  return null;
}

export interface Routed {
  /** What goes on the log: the business event itself, or its proposal for review. */
  event: RegistrationEvent;
  status: 'applied' | 'pending-review';
  proposalId: string | null;
}

/**
 * Procedure §21-§22: a business event updates the registry at once, unless the region policy of the
 * person routes its type to review; then it is held as a proposal for the county's decision
 * (registry.change-proposed). Pure; the proposal's IDs come from the business event's, so a re-sent
 * event proposes nothing new.
 */
export function route(event: BusinessEvent, policy: RegionPolicy, region: string | null): Routed {
  if (!policy.reviewBusinessEvents.includes(event.type)) return { event, status: 'applied', proposalId: null };
  const proposalId = deterministicId('registry', 'proposal', event.eventId);
  const proposed: EventOf<typeof REGISTRY_CHANGE_PROPOSED> = newEvent(
    REGISTRY_CHANGE_PROPOSED,
    deterministicId('registry', 'change-proposed', event.eventId),
    event.personKey,
    {
      proposalId,
      reason: `region policy ${region ?? '(default)'}: ${event.type} enters the registry after the county's approval`,
      change: { type: event.type, occurredAt: event.occurredAt, source: event.source, actor: event.actor, eventId: event.eventId, payload: event.payload },
    },
    { source: DYNAMIC_UPDATE_SERVICE, actor: event.actor, occurredAt: event.recordedAt, recordedAt: event.recordedAt, correlationId: event.correlationId },
  );
  return { event: proposed, status: 'pending-review', proposalId };
}
