import {
  IDENTITY_CORRECTION_FIELDS,
  REVIEW_CHANGE_SUBMITTED,
  REVIEW_CLOSED,
  REVIEW_FINAL_APPROVED,
  REVIEW_INITIAL_APPROVED,
  REVIEW_REBASED,
  REVIEW_REJECTED,
  REVIEW_RETURNED,
  SURVEY_FORM_SUBMITTED,
  SURVEY_VISIT_RECORDED,
  deterministicId,
  newEvent,
} from '@qmcb/contracts';
import type { ChangeField, ChangeKind, ChangeRequest, Channel, CloseReason, EventOrigin, RegistrationEvent, RejectReason } from '@qmcb/contracts';
import { proposedFields, proposedValue, sameValue } from '@qmcb/domain';
import type { FieldValue } from '@qmcb/domain';
import { DomainError } from '@qmcb/platform';

/**
 * A review item (审核, procedure §13, §14, §19, §21, §23): a change from any channel (a survey form or
 * death claim, a window collection, a self-service or grassroots correction, a department change) on
 * its way through the township's initial review (初审) and the county's final approval (审定). Its
 * state is the fold of its events (`evolve`); who may do what, at which stage, with which result is
 * `decide`, a pure function the HTTP path calls under a row lock.
 */
export const REVIEW_ITEM_STAGES = ['initial', 'final', 'done'] as const;
export type ItemStage = (typeof REVIEW_ITEM_STAGES)[number];
export const REVIEW_ITEM_STATUSES = ['pending', 'approved', 'returned', 'rejected', 'closed'] as const;
export type ItemStatus = (typeof REVIEW_ITEM_STATUSES)[number];

export interface ReviewItem {
  reviewId: string;
  /** The channel's ID of the submission (the survey submission, the visit of a death claim, the window's or citizen's request). */
  submissionId: string;
  channel: Channel;
  kind: ChangeKind;
  /** The survey target it came from, for the survey channel. */
  taskId: string | null;
  personKey: string;
  villageCode: string;
  townshipCode: string;
  countyCode: string;
  stage: ItemStage;
  status: ItemStatus;
  request: ChangeRequest;
  /** The record's values of the proposed fields when it was submitted (or last rebased): what "stale" is measured against. */
  before: Partial<Record<ChangeField, FieldValue>>;
  /** The reason codes the person was flagged for when it was submitted (queues filter by them). */
  reasons: string[];
  /** Who submitted it: a user's sub, an API key's ID, a citizen's subject. */
  submitterId: string;
  submittedAt: string;
  /** The record version the submitter saw. */
  basedOnVersion: number | null;
  /** Region policy let it skip the initial review. */
  skipInitial: boolean;
  initialReviewer: string | null;
  initialComment: string | null;
  finalReviewer: string | null;
  returnReason: string | null;
  fieldsToFix: ChangeField[];
  rejectCode: RejectReason | null;
  rejectReason: string | null;
  closeCode: CloseReason | null;
  closeReason: string | null;
  /** When it left the queue (approved, returned, rejected, closed). */
  decidedAt: string | null;
  updatedAt: string;
  /** Number of changes; a reviewer sends back the version they saw. */
  version: number;
}

export const REVIEW_SERVICE = 'svc:review';

export function reviewIdFor(submissionId: string): string {
  return deterministicId('review', 'item', submissionId);
}

/** The person deciding. */
export interface Reviewer {
  id: string;
  role: string;
  /** Their division code: a township's (or its village's) for initial review, a county's for final approval. */
  division: string;
  /** `user:<id>`. */
  actor: string;
}

interface DecisionBase {
  reviewer: Reviewer;
  /** The item version the reviewer saw. */
  expectedVersion: number;
  /** The person's record now: its version, and its values of every field (to tell a stale item). */
  record: { version: number | null; values: Partial<Record<ChangeField, FieldValue>> };
  correlationId: string;
  now: string;
}

export type ReviewDecision =
  | (DecisionBase & { kind: 'initial-approval'; comment: string })
  | (DecisionBase & { kind: 'final-approval' })
  | (DecisionBase & { kind: 'return'; reason: string; fieldsToFix: ChangeField[] })
  | (DecisionBase & { kind: 'reject'; reasonCode: RejectReason; reason: string })
  | (DecisionBase & { kind: 'close'; closeReason: CloseReason; reason: string })
  | (DecisionBase & { kind: 'rebase' });

/** A change submitted through a channel other than a survey visit. */
export interface SubmitChange {
  kind: 'submit-change';
  channel: Exclude<Channel, 'survey'>;
  /** The person the change is about (resolved from the citizen ID the submitter gave). */
  personKey: string;
  submissionId: string;
  submitter: { id: string; actor: string };
  request: ChangeRequest;
  /** Where it is reviewed: the person's survey village. */
  villageCode: string;
  skipInitial: boolean;
  recordVersion: number | null;
  correlationId: string;
  now: string;
}

export type ReviewCommand = SubmitChange | ReviewDecision;

/** The stage each reviewing role decides at. */
const STAGE_OF_ROLE: Readonly<Record<string, Exclude<ItemStage, 'done'>>> = { 'grassroots-reviewer': 'initial', 'county-approver': 'final' };

/** What a change must carry to be reviewable at all (the same rules for every channel). */
export function checkRequest(request: ChangeRequest): void {
  const fields = proposedFields(request.fields);
  if (fields.length === 0) {
    throw new DomainError('VALIDATION_FAILED', 'a change must propose at least one field', {
      violations: [{ field: 'fields', rule: 'notEmpty', message: 'fields must propose at least one item of the record' }],
    });
  }
  const identity = fields.filter((f) => (IDENTITY_CORRECTION_FIELDS as readonly string[]).includes(f));
  const needsEvidence = request.kind === 'death-claim' || (request.kind !== 'registration-form' && identity.length > 0);
  if (needsEvidence && request.evidence.length === 0) {
    const what = request.kind === 'death-claim' ? 'a death claim' : `a correction of ${identity.join(', ')}`;
    throw new DomainError('VALIDATION_FAILED', `${what} needs evidence`, {
      violations: [{ field: 'evidence', rule: 'arrayNotEmpty', message: `evidence must name at least one document for ${what}` }],
    });
  }
  if (request.kind === 'death-claim' && request.fields.deathDate === undefined) {
    throw new DomainError('VALIDATION_FAILED', 'a death claim needs the date of death', {
      violations: [{ field: 'fields.deathDate', rule: 'isDefined', message: 'fields.deathDate must be given for a death claim' }],
    });
  }
}

/** The proposed fields whose record value changed since the item was submitted (or rebased). */
export function staleFields(item: Pick<ReviewItem, 'request' | 'before'>, values: Partial<Record<ChangeField, FieldValue>>): ChangeField[] {
  return proposedFields(item.request.fields).filter((f) => f in item.before && !sameValue(item.before[f], values[f]));
}

/** The proposed fields that would change the record (the others propose what it already holds). */
export function changingFields(item: Pick<ReviewItem, 'request'>, values: Partial<Record<ChangeField, FieldValue>>): ChangeField[] {
  return proposedFields(item.request.fields).filter((f) => !sameValue(proposedValue(item.request.fields, f), values[f]));
}

function inStageDivision(reviewer: Reviewer, item: ReviewItem, stage: Exclude<ItemStage, 'done'>): boolean {
  if (!item.villageCode.startsWith(reviewer.division)) return false;
  // Initial review at the township (or one of its villages' service points), final approval at the county.
  return stage === 'initial' ? reviewer.division.length >= 9 : reviewer.division.length === 6;
}

function checkDecision(c: ReviewDecision, item: ReviewItem): void {
  const withdrawal = c.kind === 'close' && c.closeReason === 'withdrawn' && c.reviewer.id === item.submitterId;
  if (item.status !== 'pending') throw new DomainError('CONFLICT', `review ${item.reviewId} is ${item.status}, not pending`);
  if (item.version !== c.expectedVersion) {
    throw new DomainError('CONFLICT', `review ${item.reviewId} is at version ${item.version}, not ${c.expectedVersion}: reload it and decide again`);
  }
  // The submitter may withdraw what they submitted; every other decision is a reviewer's.
  if (withdrawal) return;
  const myStage = STAGE_OF_ROLE[c.reviewer.role];
  if (!myStage) throw new DomainError('FORBIDDEN', `role ${c.reviewer.role} does not review`);
  if (c.kind === 'initial-approval' && myStage !== 'initial') throw new DomainError('FORBIDDEN', 'initial review is done by a grassroots reviewer');
  if (c.kind === 'final-approval' && myStage !== 'final') throw new DomainError('FORBIDDEN', 'final approval is done by a county approver');
  if (item.stage !== myStage) throw new DomainError('CONFLICT', `review ${item.reviewId} is at the ${item.stage} stage, not ${myStage}`);
  if (!inStageDivision(c.reviewer, item, myStage)) {
    throw new DomainError('FORBIDDEN', myStage === 'initial' ? 'initial review is done at the township of the person' : 'final approval is done at the county of the person');
  }
  // Four eyes: nobody reviews what they submitted, and the final approval is someone else's than the initial review.
  if (c.reviewer.id === item.submitterId) throw new DomainError('FORBIDDEN', 'you submitted this item: someone else must review it');
  if (myStage === 'final' && c.reviewer.id === item.initialReviewer) {
    throw new DomainError('FORBIDDEN', 'you gave this item its initial review: someone else must give the final approval');
  }
  if (c.kind === 'initial-approval' || c.kind === 'final-approval') {
    const stale = staleFields(item, c.record.values);
    if (stale.length > 0) {
      throw new DomainError(
        'CONFLICT',
        `review ${item.reviewId} is stale: since it was submitted the record changed in ${stale.join(', ')}; check it and rebase it (POST /reviews/${item.reviewId}/rebase), or return it`,
      );
    }
  }
  if (c.kind === 'rebase' && staleFields(item, c.record.values).length === 0) {
    throw new DomainError('CONFLICT', `review ${item.reviewId} is not stale: nothing to rebase`);
  }
}

export function decide(c: ReviewCommand, item: ReviewItem | null): RegistrationEvent[] {
  if (c.kind === 'submit-change') return submitChange(c, item);
  if (item === null) throw new DomainError('NOT_FOUND', 'review item not found');
  checkDecision(c, item);
  const { reviewId, submissionId } = item;
  const id = (kind: string): string => deterministicId('review', kind, reviewId, String(item.version));
  const origin: EventOrigin = { source: REVIEW_SERVICE, actor: c.reviewer.actor, occurredAt: c.now, correlationId: c.correlationId, basedOnVersion: c.record.version };
  const stage = item.stage === 'final' ? 'final' : 'initial';
  switch (c.kind) {
    case 'initial-approval':
      return [newEvent(REVIEW_INITIAL_APPROVED, id('initial-approved'), item.personKey, { reviewId, submissionId, reviewerId: c.reviewer.id, townshipCode: item.townshipCode, comment: c.comment }, origin)];
    case 'final-approval':
      return [
        newEvent(REVIEW_FINAL_APPROVED, id('final-approved'), item.personKey, { reviewId, submissionId, channel: item.channel, reviewerId: c.reviewer.id, countyCode: item.countyCode, request: item.request }, origin),
      ];
    case 'return':
      return [newEvent(REVIEW_RETURNED, id('returned'), item.personKey, { reviewId, submissionId, stage, reviewerId: c.reviewer.id, reason: c.reason, fieldsToFix: c.fieldsToFix }, origin)];
    case 'reject':
      return [newEvent(REVIEW_REJECTED, id('rejected'), item.personKey, { reviewId, submissionId, stage, reviewerId: c.reviewer.id, reasonCode: c.reasonCode, reason: c.reason }, origin)];
    case 'close':
      return [newEvent(REVIEW_CLOSED, id('closed'), item.personKey, { reviewId, submissionId, reviewerId: c.reviewer.id, closeReason: c.closeReason, reason: c.reason }, origin)];
    case 'rebase':
      return [newEvent(REVIEW_REBASED, id('rebased'), item.personKey, { reviewId, submissionId, reviewerId: c.reviewer.id }, origin)];
  }
}

function submitChange(c: SubmitChange, existing: ReviewItem | null): RegistrationEvent[] {
  if (existing) return []; // the same submission again: already submitted
  checkRequest(c.request);
  const reviewId = reviewIdFor(c.submissionId);
  return [
    newEvent(
      REVIEW_CHANGE_SUBMITTED,
      deterministicId('review', 'change-submitted', c.submissionId),
      c.personKey,
      { reviewId, submissionId: c.submissionId, channel: c.channel, submitterId: c.submitter.id, villageCode: c.villageCode, skipInitial: c.skipInitial, request: c.request },
      { source: REVIEW_SERVICE, actor: c.submitter.actor, occurredAt: c.now, correlationId: c.correlationId, basedOnVersion: c.recordVersion },
    ),
  ];
}

/** What an item is opened with besides its event: where it is reviewed and what the record held then. */
export interface OpeningContext {
  villageCode: string | null;
  skipInitial: boolean;
  before: Partial<Record<ChangeField, FieldValue>>;
  reasons: string[];
}

function changed(item: ReviewItem, at: string, patch: Partial<ReviewItem>): ReviewItem {
  return { ...item, ...patch, updatedAt: at, version: item.version + 1 };
}

function opened(
  base: Pick<ReviewItem, 'reviewId' | 'submissionId' | 'channel' | 'taskId' | 'personKey' | 'request' | 'submitterId'>,
  at: string,
  basedOnVersion: number | null,
  ctx: OpeningContext,
): ReviewItem {
  if (!ctx.villageCode) throw new Error(`submission ${base.submissionId} has no village to review it in`);
  return {
    ...base,
    kind: base.request.kind,
    villageCode: ctx.villageCode,
    townshipCode: ctx.villageCode.slice(0, 9),
    countyCode: ctx.villageCode.slice(0, 6),
    stage: ctx.skipInitial ? 'final' : 'initial',
    status: 'pending',
    before: ctx.before,
    reasons: ctx.reasons,
    submittedAt: at,
    basedOnVersion,
    skipInitial: ctx.skipInitial,
    initialReviewer: null,
    initialComment: null,
    finalReviewer: null,
    returnReason: null,
    fieldsToFix: [],
    rejectCode: null,
    rejectReason: null,
    closeCode: null,
    closeReason: null,
    decidedAt: null,
    updatedAt: at,
    version: 1,
  };
}

/**
 * The item after one event. A submission (survey form, death claim at a visit, a change from another
 * channel) opens an item with its opening context; a review event changes its own item only; a rebase
 * takes the record's values now (`ctx.before`). Pure.
 */
export function evolve(item: ReviewItem | null, event: RegistrationEvent, ctx: OpeningContext | null = null): ReviewItem | null {
  const at = event.occurredAt;
  const need = (): OpeningContext => {
    if (!ctx) throw new Error(`opening review item of ${event.type} needs its context`);
    return ctx;
  };
  switch (event.type) {
    case SURVEY_FORM_SUBMITTED: {
      if (item) return item;
      const p = event.payload;
      return opened(
        { reviewId: reviewIdFor(p.submissionId), submissionId: p.submissionId, channel: 'survey', taskId: p.taskId, personKey: event.personKey, request: p.request, submitterId: p.surveyorId },
        at,
        event.basedOnVersion,
        need(),
      );
    }
    case SURVEY_VISIT_RECORDED: {
      const p = event.payload;
      if (item || p.outcome !== 'deceased' || p.deathDate === undefined) return item;
      const request: ChangeRequest = { kind: 'death-claim', fields: { deathDate: p.deathDate }, evidence: p.evidence, unknown: [], ...(p.reason ? { note: p.reason } : {}) };
      return opened(
        { reviewId: reviewIdFor(p.visitId), submissionId: p.visitId, channel: 'survey', taskId: p.taskId, personKey: event.personKey, request, submitterId: p.surveyorId },
        at,
        event.basedOnVersion,
        need(),
      );
    }
    case REVIEW_CHANGE_SUBMITTED: {
      if (item) return item;
      const p = event.payload;
      return opened(
        { reviewId: p.reviewId, submissionId: p.submissionId, channel: p.channel, taskId: null, personKey: event.personKey, request: p.request, submitterId: p.submitterId },
        at,
        event.basedOnVersion,
        { ...need(), villageCode: p.villageCode, skipInitial: p.skipInitial },
      );
    }
    case REVIEW_INITIAL_APPROVED:
      if (item?.reviewId !== event.payload.reviewId) return item;
      return changed(item, at, { stage: 'final', status: 'pending', initialReviewer: event.payload.reviewerId, initialComment: event.payload.comment });
    case REVIEW_FINAL_APPROVED:
      if (item?.reviewId !== event.payload.reviewId) return item;
      return changed(item, at, { stage: 'done', status: 'approved', finalReviewer: event.payload.reviewerId, decidedAt: at });
    case REVIEW_RETURNED:
      if (item?.reviewId !== event.payload.reviewId) return item;
      return changed(item, at, { status: 'returned', returnReason: event.payload.reason, fieldsToFix: [...event.payload.fieldsToFix], decidedAt: at });
    case REVIEW_REJECTED:
      if (item?.reviewId !== event.payload.reviewId) return item;
      return changed(item, at, { status: 'rejected', rejectCode: event.payload.reasonCode, rejectReason: event.payload.reason, decidedAt: at });
    case REVIEW_CLOSED:
      if (item?.reviewId !== event.payload.reviewId) return item;
      return changed(item, at, { status: 'closed', closeCode: event.payload.closeReason, closeReason: event.payload.reason, decidedAt: at });
    case REVIEW_REBASED:
      if (item?.reviewId !== event.payload.reviewId) return item;
      return changed(item, at, { before: need().before, basedOnVersion: event.basedOnVersion });
    default:
      return item;
  }
}

/** The item an event concerns, if any. */
export function reviewIdOf(event: RegistrationEvent): string | null {
  switch (event.type) {
    case SURVEY_FORM_SUBMITTED:
      return reviewIdFor(event.payload.submissionId);
    case SURVEY_VISIT_RECORDED:
      return event.payload.outcome === 'deceased' ? reviewIdFor(event.payload.visitId) : null;
    case REVIEW_CHANGE_SUBMITTED:
    case REVIEW_INITIAL_APPROVED:
    case REVIEW_FINAL_APPROVED:
    case REVIEW_RETURNED:
    case REVIEW_REJECTED:
    case REVIEW_CLOSED:
    case REVIEW_REBASED:
      return event.payload.reviewId;
    default:
      return null;
  }
}
