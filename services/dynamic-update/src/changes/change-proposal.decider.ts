import { REGISTRY_CHANGE_APPROVED, REGISTRY_CHANGE_PROPOSED, REGISTRY_CHANGE_REJECTED, deterministicId, newEvent } from '@qmcb/contracts';
import type { BusinessEventType, EventOf, RegistrationEvent } from '@qmcb/contracts';

/**
 * A business event that region policy routes to review (procedure §21), as the county's queue sees
 * it: waiting, approved or rejected. Pure `decide` and `evolve` (docs/adr/0004).
 */
export interface ChangeProposal {
  proposalId: string;
  personKey: string;
  /** Where the person is filed: whose county decides. */
  division: string | null;
  type: BusinessEventType;
  changeEventId: string;
  occurredAt: string;
  proposedAt: string;
  reason: string;
  status: 'pending' | 'approved' | 'rejected';
  decidedBy: string | null;
  decidedAt: string | null;
  decisionEventId: string | null;
}

export type ProposalEvent = EventOf<typeof REGISTRY_CHANGE_PROPOSED> | EventOf<typeof REGISTRY_CHANGE_APPROVED> | EventOf<typeof REGISTRY_CHANGE_REJECTED>;

export function isProposalEvent(event: RegistrationEvent): event is ProposalEvent {
  return event.type === REGISTRY_CHANGE_PROPOSED || event.type === REGISTRY_CHANGE_APPROVED || event.type === REGISTRY_CHANGE_REJECTED;
}

/** The proposal after an event; `division` is where the person is filed after it. */
export function evolve(state: ChangeProposal | null, event: ProposalEvent, division: string | null): ChangeProposal | null {
  switch (event.type) {
    case REGISTRY_CHANGE_PROPOSED: {
      if (state) return state;
      const { proposalId, change, reason } = event.payload;
      return {
        proposalId,
        personKey: event.personKey,
        division,
        type: change.type,
        changeEventId: change.eventId,
        occurredAt: change.occurredAt,
        proposedAt: event.occurredAt,
        reason,
        status: 'pending',
        decidedBy: null,
        decidedAt: null,
        decisionEventId: null,
      };
    }
    case REGISTRY_CHANGE_APPROVED:
    case REGISTRY_CHANGE_REJECTED: {
      // A decision on a proposal already decided (or never seen) changes nothing: the first one stands.
      if (!state || state.status !== 'pending') return state;
      return {
        ...state,
        status: event.type === REGISTRY_CHANGE_APPROVED ? 'approved' : 'rejected',
        decidedBy: event.payload.reviewerId,
        decidedAt: event.occurredAt,
        decisionEventId: event.eventId,
      };
    }
  }
}

export type ProposalCommand =
  | { kind: 'approve'; reviewerId: string; countyCode: string; comment: string; at: string; correlationId: string }
  | { kind: 'reject'; reviewerId: string; countyCode: string; reason: string; at: string; correlationId: string };

export class ProposalDecisionError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'CONFLICT',
    message: string,
  ) {
    super(message);
    this.name = 'ProposalDecisionError';
  }
}

/** The ID of the county's decision on a proposal: one decision per proposal, so a retried request decides nothing new. */
export function decisionEventId(proposalId: string): string {
  return deterministicId('registry', 'change-decision', proposalId);
}

/** The county's decision (审定) on a waiting proposal: approved or rejected, once. */
export function decide(command: ProposalCommand, state: ChangeProposal | null): RegistrationEvent[] {
  if (!state) throw new ProposalDecisionError('NOT_FOUND', 'no such proposed change');
  if (state.status !== 'pending') throw new ProposalDecisionError('CONFLICT', `this change was already ${state.status}`);
  const origin = { source: 'svc:dynamic-update', actor: `user:${command.reviewerId}`, occurredAt: command.at, correlationId: command.correlationId, causationId: state.decisionEventId };
  const id = decisionEventId(state.proposalId);
  if (command.kind === 'approve') {
    return [newEvent(REGISTRY_CHANGE_APPROVED, id, state.personKey, { proposalId: state.proposalId, reviewerId: command.reviewerId, countyCode: command.countyCode, comment: command.comment }, origin)];
  }
  return [newEvent(REGISTRY_CHANGE_REJECTED, id, state.personKey, { proposalId: state.proposalId, reviewerId: command.reviewerId, countyCode: command.countyCode, reason: command.reason }, origin)];
}
