import { Type } from 'class-transformer';
import { IsIn, IsString, IsUUID, Length, Matches, ValidateNested } from 'class-validator';
import { DIVISION_PATTERNS, REVIEW_STAGES } from '../vocabulary';
import type { ReviewStage } from '../vocabulary';
import { CollectedForm } from './collected-form';

export const REVIEW_INITIAL_APPROVED = 'review.initial-approved';
export const REVIEW_FINAL_APPROVED = 'review.final-approved';
export const REVIEW_RETURNED = 'review.returned';

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

/** County final approval (审定): the collected information enters the registry (procedure §19, §21). */
export class ReviewFinalApprovedV1 {
  @IsUUID()
  reviewId: string;

  @IsUUID()
  submissionId: string;

  @IsString() @Length(1, 128)
  reviewerId: string;

  @Matches(DIVISION_PATTERNS.county, { message: 'countyCode must be a 6-digit county code' })
  countyCode: string;

  @ValidateNested() @Type(() => CollectedForm)
  form: CollectedForm;
}

/** Returned to the submitter with a reason, at either stage. */
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
