import {
  REVIEW_FINAL_APPROVED,
  REVIEW_INITIAL_APPROVED,
  REVIEW_RETURNED,
  SURVEY_FORM_SUBMITTED,
  deterministicId,
  newEvent,
} from '@qmcb/contracts';
import type { CollectedForm, EventOrigin, RegistrationEvent } from '@qmcb/contracts';
import { DomainError } from '@qmcb/platform';

/**
 * A review item (审核, procedure §19, §21): a submission on its way through the township's initial
 * review (初审) and the county's final approval (审定). Its state is the fold of its events (evolve);
 * who may do what, at which stage and with which result is `decide`, a pure function.
 */
export const REVIEW_ITEM_STAGES = ['initial', 'final', 'done'] as const;
export type ItemStage = (typeof REVIEW_ITEM_STAGES)[number];
export const REVIEW_ITEM_STATUSES = ['pending', 'approved', 'returned'] as const;
export type ItemStatus = (typeof REVIEW_ITEM_STATUSES)[number];

export interface ReviewItem {
  reviewId: string;
  submissionId: string;
  taskId: string;
  personKey: string;
  villageCode: string;
  townshipCode: string;
  countyCode: string;
  stage: ItemStage;
  status: ItemStatus;
  form: CollectedForm;
  surveyorId: string;
  submittedAt: string;
  /** The person's record version the submission was based on. */
  basedOnVersion: number | null;
  initialReviewer: string | null;
  initialComment: string | null;
  finalReviewer: string | null;
  returnReason: string | null;
  updatedAt: string;
  /** Number of changes; a reviewer sends back the version they saw. */
  version: number;
}

export const REVIEW_SERVICE = 'svc:review';

export function reviewIdFor(submissionId: string): string {
  return deterministicId('review', 'item', submissionId);
}

/** The person deciding: who, in which role. Division scope is checked where the item is loaded. */
export interface Reviewer {
  id: string;
  role: string;
  /** `user:<id>`. */
  actor: string;
}

interface DecisionBase {
  reviewer: Reviewer;
  /** The item version the reviewer saw. */
  expectedVersion: number;
  /** The person's current record version. */
  recordVersion: number | null;
  correlationId: string;
  now: string;
}

export type ReviewCommand =
  | (DecisionBase & { kind: 'initial-approval'; comment: string })
  | (DecisionBase & { kind: 'final-approval' })
  | (DecisionBase & { kind: 'return'; reason: string });

/** The stage each reviewing role decides at. */
const STAGE_OF_ROLE: Readonly<Record<string, Exclude<ItemStage, 'done'>>> = { 'grassroots-reviewer': 'initial', 'county-approver': 'final' };

function check(c: ReviewCommand, item: ReviewItem): void {
  const myStage = STAGE_OF_ROLE[c.reviewer.role];
  if (!myStage) throw new DomainError('FORBIDDEN', `role ${c.reviewer.role} does not review`);
  if (c.kind === 'initial-approval' && myStage !== 'initial') throw new DomainError('FORBIDDEN', 'initial review is done by a grassroots reviewer');
  if (c.kind === 'final-approval' && myStage !== 'final') throw new DomainError('FORBIDDEN', 'final approval is done by a county approver');
  if (item.status !== 'pending') throw new DomainError('CONFLICT', `review ${item.reviewId} is ${item.status}, not pending`);
  if (item.stage !== myStage) throw new DomainError('CONFLICT', `review ${item.reviewId} is at the ${item.stage} stage, not ${myStage}`);
  if (item.version !== c.expectedVersion) {
    throw new DomainError('CONFLICT', `review ${item.reviewId} is at version ${item.version}, not ${c.expectedVersion}: reload it and decide again`);
  }
  // Four eyes: nobody reviews what they submitted, and the final approval is someone else's than the initial review.
  if (c.reviewer.id === item.surveyorId) throw new DomainError('FORBIDDEN', 'you submitted this item: someone else must review it');
  if (myStage === 'final' && c.reviewer.id === item.initialReviewer) {
    throw new DomainError('FORBIDDEN', 'you gave this item its initial review: someone else must give the final approval');
  }
}

export function decide(c: ReviewCommand, item: ReviewItem): RegistrationEvent[] {
  check(c, item);
  const { reviewId, submissionId } = item;
  const id = (kind: string): string => deterministicId('review', kind, reviewId, String(item.version));
  const origin: EventOrigin = { source: REVIEW_SERVICE, actor: c.reviewer.actor, occurredAt: c.now, correlationId: c.correlationId, basedOnVersion: c.recordVersion };
  switch (c.kind) {
    case 'initial-approval':
      return [newEvent(REVIEW_INITIAL_APPROVED, id('initial-approved'), item.personKey, { reviewId, submissionId, reviewerId: c.reviewer.id, townshipCode: item.townshipCode, comment: c.comment }, origin)];
    case 'final-approval':
      return [newEvent(REVIEW_FINAL_APPROVED, id('final-approved'), item.personKey, { reviewId, submissionId, reviewerId: c.reviewer.id, countyCode: item.countyCode, form: item.form }, origin)];
    case 'return':
      return [newEvent(REVIEW_RETURNED, id('returned'), item.personKey, { reviewId, submissionId, stage: item.stage === 'final' ? 'final' : 'initial', reviewerId: c.reviewer.id, reason: c.reason }, origin)];
  }
}

function changed(item: ReviewItem, at: string, patch: Partial<ReviewItem>): ReviewItem {
  return { ...item, ...patch, updatedAt: at, version: item.version + 1 };
}

/**
 * The item after one event. A submission opens an item in `villageCode` (where the person is
 * surveyed); a review event changes its own item only. Pure.
 */
export function evolve(item: ReviewItem | null, event: RegistrationEvent, villageCode: string | null = null): ReviewItem | null {
  const at = event.occurredAt;
  switch (event.type) {
    case SURVEY_FORM_SUBMITTED: {
      if (item) return item;
      if (!villageCode) throw new Error(`submission ${event.payload.submissionId} has no village to review it in`);
      return {
        reviewId: reviewIdFor(event.payload.submissionId),
        submissionId: event.payload.submissionId,
        taskId: event.payload.taskId,
        personKey: event.personKey,
        villageCode,
        townshipCode: villageCode.slice(0, 9),
        countyCode: villageCode.slice(0, 6),
        stage: 'initial',
        status: 'pending',
        form: event.payload.form,
        surveyorId: event.payload.surveyorId,
        submittedAt: at,
        basedOnVersion: event.basedOnVersion,
        initialReviewer: null,
        initialComment: null,
        finalReviewer: null,
        returnReason: null,
        updatedAt: at,
        version: 1,
      };
    }
    case REVIEW_INITIAL_APPROVED:
      if (item?.reviewId !== event.payload.reviewId) return item;
      return changed(item, at, { stage: 'final', status: 'pending', initialReviewer: event.payload.reviewerId, initialComment: event.payload.comment });
    case REVIEW_FINAL_APPROVED:
      if (item?.reviewId !== event.payload.reviewId) return item;
      return changed(item, at, { stage: 'done', status: 'approved', finalReviewer: event.payload.reviewerId });
    case REVIEW_RETURNED:
      if (item?.reviewId !== event.payload.reviewId) return item;
      return changed(item, at, { status: 'returned', returnReason: event.payload.reason });
    default:
      return item;
  }
}

/** The item an event concerns, if any. */
export function reviewIdOf(event: RegistrationEvent): string | null {
  switch (event.type) {
    case SURVEY_FORM_SUBMITTED:
      return reviewIdFor(event.payload.submissionId);
    case REVIEW_INITIAL_APPROVED:
    case REVIEW_FINAL_APPROVED:
    case REVIEW_RETURNED:
      return event.payload.reviewId;
    default:
      return null;
  }
}
