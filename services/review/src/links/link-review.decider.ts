import { LINK_CONFIRMED, LINK_INITIAL_APPROVED, LINK_PROPOSED, LINK_REJECTED, deterministicId, newEvent } from '@qmcb/contracts';
import type { EventOf, EventOrigin, LinkCriterion, LinkedSource, RegistrationEvent } from '@qmcb/contracts';
import { DomainError } from '@qmcb/platform';
import { REVIEW_SERVICE } from '../items/review-item.decider';
import type { Reviewer } from '../items/review-item.decider';

/**
 * The review of a proposed identity link (docs/design/identity-linking.md, docs/api/review.md):
 * comparison proposes that records sent under a mistyped citizen ID are a person's
 * (`comparison.link-proposed`); the township's initial review (初审) passes it on
 * (`review.link-initial-approved`), the county's final approval (审定) confirms it
 * (`review.link-confirmed`), and the reviewer of either stage may reject it (`review.link-rejected`).
 * The same four eyes as every other review: the final approval is someone else's than the initial
 * review. Its state is the fold of those events (`evolve`); `decide` is pure.
 */
export const LINK_REVIEW_STAGES = ['initial', 'final', 'done'] as const;
export type LinkReviewStage = (typeof LINK_REVIEW_STAGES)[number];
export const LINK_REVIEW_STATUSES = ['pending', 'confirmed', 'rejected'] as const;
export type LinkReviewStatus = (typeof LINK_REVIEW_STATUSES)[number];

export type LinkEvent =
  | EventOf<typeof LINK_PROPOSED>
  | EventOf<typeof LINK_INITIAL_APPROVED>
  | EventOf<typeof LINK_CONFIRMED>
  | EventOf<typeof LINK_REJECTED>;

const LINK_EVENT_TYPES: ReadonlySet<string> = new Set<string>([LINK_PROPOSED, LINK_INITIAL_APPROVED, LINK_CONFIRMED, LINK_REJECTED]);

export function isLinkEvent(event: RegistrationEvent): event is LinkEvent {
  return LINK_EVENT_TYPES.has(event.type);
}

export interface LinkReview {
  linkId: string;
  /** The person the records are proposed to belong to (the events' key). */
  personKey: string;
  /** The person key of the records under the mistyped ID. */
  recordKey: string;
  citizenIdAsSent: string;
  /** The department records held under the mistyped ID: where the correction goes back to. */
  sources: LinkedSource[];
  score: number;
  threshold: number;
  criteria: LinkCriterion[];
  /** Where it is reviewed: the person's survey village (household, else residence). */
  villageCode: string;
  townshipCode: string;
  countyCode: string;
  stage: LinkReviewStage;
  status: LinkReviewStatus;
  proposedAt: string;
  initialReviewer: string | null;
  initialComment: string | null;
  /** Who confirmed or rejected it (a reviewer, or whoever sent the decision on the log). */
  decidedBy: string | null;
  /** The confirmation's comment or the rejection's reason. */
  decisionNote: string | null;
  decidedAt: string | null;
  updatedAt: string;
  /** Number of changes; a reviewer sends back the version they saw. */
  version: number;
}

interface LinkDecisionBase {
  reviewer: Reviewer;
  /** The version the reviewer saw. */
  expectedVersion: number;
  /** The person's record version now (basedOnVersion of the event). */
  recordVersion: number | null;
  correlationId: string;
  now: string;
}

export type LinkDecision =
  | (LinkDecisionBase & { kind: 'initial-approval'; comment: string })
  | (LinkDecisionBase & { kind: 'final-approval'; comment: string })
  | (LinkDecisionBase & { kind: 'reject'; reason: string });

/** The stage each reviewing role decides at. */
const STAGE_OF_ROLE: Readonly<Record<string, 'initial' | 'final'>> = { 'grassroots-reviewer': 'initial', 'county-approver': 'final' };

function check(c: LinkDecision, review: LinkReview): void {
  if (review.status !== 'pending') throw new DomainError('CONFLICT', `link ${review.linkId} is ${review.status}, not pending`);
  if (review.version !== c.expectedVersion) {
    throw new DomainError('CONFLICT', `link ${review.linkId} is at version ${review.version}, not ${c.expectedVersion}: reload it and decide again`);
  }
  const myStage = STAGE_OF_ROLE[c.reviewer.role];
  if (!myStage) throw new DomainError('FORBIDDEN', `role ${c.reviewer.role} does not review`);
  if (c.kind === 'initial-approval' && myStage !== 'initial') throw new DomainError('FORBIDDEN', 'initial review is done by a grassroots reviewer');
  if (c.kind === 'final-approval' && myStage !== 'final') throw new DomainError('FORBIDDEN', 'final approval is done by a county approver');
  if (review.stage !== myStage) throw new DomainError('CONFLICT', `link ${review.linkId} is at the ${review.stage} stage, not ${myStage}`);
  const inDivision = review.villageCode.startsWith(c.reviewer.division) && (myStage === 'initial' ? c.reviewer.division.length >= 9 : c.reviewer.division.length === 6);
  if (!inDivision) {
    throw new DomainError('FORBIDDEN', myStage === 'initial' ? 'initial review is done at the township of the person' : 'final approval is done at the county of the person');
  }
  // Four eyes: the final decision is someone else's than the initial review.
  if (myStage === 'final' && c.reviewer.id === review.initialReviewer) {
    throw new DomainError('FORBIDDEN', 'you gave this item its initial review: someone else must give the final approval');
  }
}

export function decide(c: LinkDecision, review: LinkReview | null): LinkEvent[] {
  if (review === null) throw new DomainError('NOT_FOUND', 'not found');
  check(c, review);
  const { linkId, recordKey } = review;
  const id = (kind: string): string => deterministicId('review', kind, linkId, String(review.version));
  const origin: EventOrigin = { source: REVIEW_SERVICE, actor: c.reviewer.actor, occurredAt: c.now, correlationId: c.correlationId, basedOnVersion: c.recordVersion };
  switch (c.kind) {
    case 'initial-approval':
      return [newEvent(LINK_INITIAL_APPROVED, id('link-initial-approved'), review.personKey, { linkId, recordKey, reviewerId: c.reviewer.id, townshipCode: review.townshipCode, comment: c.comment }, origin)];
    case 'final-approval':
      return [newEvent(LINK_CONFIRMED, id('link-confirmed'), review.personKey, { linkId, recordKey, reviewerId: c.reviewer.id, comment: c.comment }, origin)];
    case 'reject':
      // Rejected at either stage, by the reviewer of that stage.
      return [newEvent(LINK_REJECTED, id('link-rejected'), review.personKey, { linkId, recordKey, reviewerId: c.reviewer.id, reason: c.reason }, origin)];
  }
}

function changed(review: LinkReview, at: string, patch: Partial<LinkReview>): LinkReview {
  return { ...review, ...patch, updatedAt: at, version: review.version + 1 };
}

/**
 * The review after one link event. A proposal opens it where the person is reviewed (`villageCode`:
 * null when the person has no village here, then nothing is opened); a proposal of a link already
 * under review changes nothing; a decision changes a pending review only (a decision sent again, or
 * after another, is ignored). Pure.
 */
export function evolve(review: LinkReview | null, event: LinkEvent, villageCode: string | null): LinkReview | null {
  const at = event.occurredAt;
  switch (event.type) {
    case LINK_PROPOSED: {
      if (review || villageCode === null) return review;
      const p = event.payload;
      return {
        linkId: p.linkId,
        personKey: event.personKey,
        recordKey: p.recordKey,
        citizenIdAsSent: p.citizenIdAsSent,
        sources: p.sources.map((s) => ({ department: s.department, sourceRecordId: s.sourceRecordId })),
        score: p.score,
        threshold: p.threshold,
        criteria: p.criteria.map((c) => ({ criterion: c.criterion, points: c.points, detail: c.detail })),
        villageCode,
        townshipCode: villageCode.slice(0, 9),
        countyCode: villageCode.slice(0, 6),
        stage: 'initial',
        status: 'pending',
        proposedAt: at,
        initialReviewer: null,
        initialComment: null,
        decidedBy: null,
        decisionNote: null,
        decidedAt: null,
        updatedAt: at,
        version: 1,
      };
    }
    case LINK_INITIAL_APPROVED:
      if (review?.status !== 'pending' || review.stage !== 'initial') return review;
      return changed(review, at, { stage: 'final', initialReviewer: event.payload.reviewerId, initialComment: event.payload.comment });
    case LINK_CONFIRMED:
      if (review?.status !== 'pending') return review;
      return changed(review, at, { stage: 'done', status: 'confirmed', decidedBy: event.payload.reviewerId, decisionNote: event.payload.comment, decidedAt: at });
    case LINK_REJECTED:
      if (review?.status !== 'pending') return review;
      return changed(review, at, { stage: 'done', status: 'rejected', decidedBy: event.payload.reviewerId, decisionNote: event.payload.reason, decidedAt: at });
  }
}
