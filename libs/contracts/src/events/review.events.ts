import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsObject, IsString, IsUUID, Length, Matches, ValidateNested } from 'class-validator';
import { CHANGE_FIELDS, CHANNELS, CLOSE_REASONS, DIVISION_PATTERNS, REJECT_REASONS, REVIEW_STAGES } from '../vocabulary';
import type { ChangeField, Channel, CloseReason, RejectReason, ReviewStage } from '../vocabulary';
import { ChangeRequest } from './change-request';
import { CollectedForm } from './collected-form';
import { formFields } from './survey.events';

export const REVIEW_CHANGE_SUBMITTED = 'review.change-submitted';
export const REVIEW_INITIAL_APPROVED = 'review.initial-approved';
export const REVIEW_FINAL_APPROVED = 'review.final-approved';
export const REVIEW_RETURNED = 'review.returned';
export const REVIEW_REJECTED = 'review.rejected';
export const REVIEW_CLOSED = 'review.closed';
export const REVIEW_REBASED = 'review.rebased';

/**
 * A change submitted for review through a channel other than a survey visit (which is
 * `survey.form-submitted`): a window collection (§13), a self-service correction (§14, §23), a
 * grassroots change request (§21), a department change routed to review. The envelope's
 * `basedOnVersion` is the version of the record the submitter saw.
 */
export class ReviewChangeSubmittedV1 {
  @IsUUID()
  reviewId: string;

  /** The channel's own ID of the submission (client-generated where the channel retries). */
  @IsUUID()
  submissionId: string;

  @IsIn(CHANNELS.filter((c) => c !== 'survey'))
  channel: Exclude<Channel, 'survey'>;

  /** Who submitted it: a user's sub, an API key's ID, or a citizen's own subject. */
  @IsString() @Length(1, 128)
  submitterId: string;

  /** The division the item is reviewed in (the person's survey village, or the window's own). */
  @Matches(DIVISION_PATTERNS.village, { message: 'villageCode must be a 12-digit village/community code' })
  villageCode: string;

  /** Region policy let it skip the township's initial review: it waits for the county's final approval. */
  @IsBoolean()
  skipInitial: boolean;

  @IsObject() @ValidateNested() @Type(() => ChangeRequest)
  request: ChangeRequest;
}

/** Grassroots platform (township) initial review passed (初审, procedure §19). */
export class ReviewInitialApprovedV1 {
  @IsUUID()
  reviewId: string;

  @IsUUID()
  submissionId: string;

  @IsString() @Length(1, 128)
  reviewerId: string;

  @Matches(DIVISION_PATTERNS.township, { message: 'townshipCode must be a 9-digit township/street code' })
  townshipCode: string;

  @IsString() @Length(0, 512)
  comment: string;
}

/** v1: the approved survey form (read as v2 through the upcaster). */
export class ReviewFinalApprovedV1 {
  @IsUUID()
  reviewId: string;

  @IsUUID()
  submissionId: string;

  @IsString() @Length(1, 128)
  reviewerId: string;

  @Matches(DIVISION_PATTERNS.county, { message: 'countyCode must be a 6-digit county code' })
  countyCode: string;

  @IsObject() @ValidateNested() @Type(() => CollectedForm)
  form: CollectedForm;
}

/** County final approval (审定): the approved change enters the registry (procedure §19, §21). */
export class ReviewFinalApprovedV2 {
  @IsUUID()
  reviewId: string;

  @IsUUID()
  submissionId: string;

  @IsIn(CHANNELS)
  channel: Channel;

  @IsString() @Length(1, 128)
  reviewerId: string;

  @Matches(DIVISION_PATTERNS.county, { message: 'countyCode must be a 6-digit county code' })
  countyCode: string;

  @IsObject() @ValidateNested() @Type(() => ChangeRequest)
  request: ChangeRequest;
}

export function upcastReviewFinalApprovedV1(v1: ReviewFinalApprovedV1): ReviewFinalApprovedV2 {
  return {
    reviewId: v1.reviewId,
    submissionId: v1.submissionId,
    channel: 'survey',
    reviewerId: v1.reviewerId,
    countyCode: v1.countyCode,
    request: { kind: 'registration-form', fields: formFields(v1.form), evidence: [], unknown: [] },
  };
}

/** v1: returned with a reason (read as v2 with no fields named). */
export class ReviewReturnedV1 {
  @IsUUID()
  reviewId: string;

  @IsUUID()
  submissionId: string;

  @IsIn(REVIEW_STAGES)
  stage: ReviewStage;

  @IsString() @Length(1, 128)
  reviewerId: string;

  @IsString() @Length(1, 512)
  reason: string;
}

/** Returned to the submitter for correction, at either stage, naming the fields to fix. */
export class ReviewReturnedV2 {
  @IsUUID()
  reviewId: string;

  @IsUUID()
  submissionId: string;

  @IsIn(REVIEW_STAGES)
  stage: ReviewStage;

  @IsString() @Length(1, 128)
  reviewerId: string;

  @IsString() @Length(1, 512)
  reason: string;

  @IsArray() @ArrayMaxSize(CHANGE_FIELDS.length) @IsIn(CHANGE_FIELDS, { each: true })
  fieldsToFix: ChangeField[];
}

export function upcastReviewReturnedV1(v1: ReviewReturnedV1): ReviewReturnedV2 {
  return { ...v1, fieldsToFix: [] };
}

/** Refused at either stage, with a coded reason and a text: the change does not enter the registry. */
export class ReviewRejectedV1 {
  @IsUUID()
  reviewId: string;

  @IsUUID()
  submissionId: string;

  @IsIn(REVIEW_STAGES)
  stage: ReviewStage;

  @IsString() @Length(1, 128)
  reviewerId: string;

  @IsIn(REJECT_REASONS)
  reasonCode: RejectReason;

  @IsString() @Length(1, 512)
  reason: string;
}

/** Closed without a decision: a duplicate of another item, or withdrawn by its submitter. */
export class ReviewClosedV1 {
  @IsUUID()
  reviewId: string;

  @IsUUID()
  submissionId: string;

  @IsString() @Length(1, 128)
  reviewerId: string;

  @IsIn(CLOSE_REASONS)
  closeReason: CloseReason;

  @IsString() @Length(1, 512)
  reason: string;
}

/**
 * A reviewer looked at an item whose fields changed in the record since it was submitted and
 * confirmed it still applies: it is now based on the record version in the envelope.
 */
export class ReviewRebasedV1 {
  @IsUUID()
  reviewId: string;

  @IsUUID()
  submissionId: string;

  @IsString() @Length(1, 128)
  reviewerId: string;
}
