import { LINK_CONFIRMED, LINK_PROPOSED, LINK_REJECTED, deterministicId, newEvent } from '@qmcb/contracts';
import type { EventOf, EventOrigin, LinkedSource } from '@qmcb/contracts';
import type { LinkStatus } from '@qmcb/domain';
import { LINK_SCORING, LINK_THRESHOLD } from './link-scoring';
import type { CandidateScore } from './link-scoring';

export type LinkEvent = EventOf<typeof LINK_PROPOSED> | EventOf<typeof LINK_CONFIRMED> | EventOf<typeof LINK_REJECTED>;

/** One link of the records under a mistyped ID (`recordKey`) to a person. */
export interface LinkRow {
  recordKey: string;
  personKey: string;
  linkId: string;
  status: LinkStatus;
  score: number | null;
  citizenIdAsSent: string | null;
}

/** Every link of one record key: at most one proposed or confirmed, any number rejected. */
export interface LinkState {
  recordKey: string;
  links: LinkRow[];
}

export interface ProposeLink {
  type: 'propose';
  citizenIdAsSent: string;
  sources: LinkedSource[];
  candidate: CandidateScore;
  origin: EventOrigin;
}

export type LinkCommand = ProposeLink;

/** The link ID of a record key and a person: the same proposal always has the same ID (and event). */
export function linkIdOf(recordKey: string, personKey: string): string {
  return deterministicId('identity-link', recordKey, personKey);
}

/** The proposed or confirmed link of the records, if any. */
export function activeLink(state: LinkState): LinkRow | null {
  return state.links.find((l) => l.status === 'proposed' || l.status === 'confirmed') ?? null;
}

/** Whether a person was rejected for these records before (never proposed again). */
export function wasRejected(state: LinkState, personKey: string): boolean {
  return state.links.some((l) => l.personKey === personKey && l.status === 'rejected');
}

/**
 * Proposes a link of the records to a strong candidate (docs/design/identity-linking.md), keyed by
 * the person: nothing while the records are linked already, for a candidate rejected before, or
 * below the threshold. Pure.
 */
export function decide(command: LinkCommand, state: LinkState): LinkEvent[] {
  const { candidate } = command;
  if (activeLink(state) || wasRejected(state, candidate.personKey) || candidate.score < LINK_THRESHOLD) return [];
  const linkId = linkIdOf(state.recordKey, candidate.personKey);
  return [
    newEvent(
      LINK_PROPOSED,
      deterministicId('comparison', 'link-proposed', linkId),
      candidate.personKey,
      {
        linkId,
        recordKey: state.recordKey,
        citizenIdAsSent: command.citizenIdAsSent,
        sources: command.sources,
        scoring: LINK_SCORING.name,
        scoringVersion: LINK_SCORING.version,
        score: candidate.score,
        threshold: LINK_THRESHOLD,
        criteria: candidate.criteria,
      },
      command.origin,
    ),
  ];
}

/** The links of a record key after a link event about it. Pure. */
export function evolve(state: LinkState, event: LinkEvent): LinkState {
  if (event.payload.recordKey !== state.recordKey) return state;
  const { linkId } = event.payload;
  const previous = state.links.find((l) => l.linkId === linkId);
  let row: LinkRow;
  switch (event.type) {
    case LINK_PROPOSED:
      if (previous && previous.status !== 'proposed') return state;
      row = { recordKey: state.recordKey, personKey: event.personKey, linkId, status: 'proposed', score: event.payload.score, citizenIdAsSent: event.payload.citizenIdAsSent };
      break;
    case LINK_CONFIRMED:
    case LINK_REJECTED:
      row = {
        recordKey: state.recordKey,
        personKey: event.personKey,
        linkId,
        status: event.type === LINK_CONFIRMED ? 'confirmed' : 'rejected',
        score: previous?.score ?? null,
        citizenIdAsSent: previous?.citizenIdAsSent ?? null,
      };
      break;
  }
  // A confirmed link is the records' only one: another proposal still standing is withdrawn.
  const others = state.links.filter((l) => l.linkId !== linkId && !(row.status === 'confirmed' && l.status === 'proposed'));
  return { recordKey: state.recordKey, links: [...others, row].sort((a, b) => (a.personKey < b.personKey ? -1 : a.personKey > b.personKey ? 1 : 0)) };
}
