import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsString, IsUUID, Length, Matches, Min, ValidateNested } from 'class-validator';
import { DEPARTMENTS, DIVISION_PATTERNS } from '../vocabulary';
import type { Department } from '../vocabulary';

/**
 * Linking records sent under a mistyped citizen ID to the person they belong to (issue 10, docs/design/
 * identity-linking.md). Comparison proposes a link (keyed by the person it belongs to); review
 * confirms or rejects it (keyed the same): the township's initial review, then the county's final
 * approval, which confirms (docs/api/review.md). A proposed link already counts the records'
 * insurance for the person and flags the person INACCURATE_CITIZEN_ID until confirmed.
 */
export const LINK_PROPOSED = 'comparison.link-proposed';
export const LINK_INITIAL_APPROVED = 'review.link-initial-approved';
export const LINK_CONFIRMED = 'review.link-confirmed';
export const LINK_REJECTED = 'review.link-rejected';

/** The person key of the records under the mistyped ID: an `X-` surrogate, or an 18-digit key. */
const RECORD_KEY = /^(\d{17}[\dX]|X-[0-9a-f]{32})$/;
const RECORD_KEY_MESSAGE = 'recordKey must be an 18-digit citizen ID or an X- surrogate';

export const LINK_CRITERIA = [
  'CITIZEN_ID_CHECK_CHARACTER',
  'CITIZEN_ID_ONE_DIGIT',
  'CITIZEN_ID_TRANSPOSITION',
  'NAME',
  'BIRTH_DATE',
  'SEX',
  'ADDRESS',
] as const;
export type LinkCriterionName = (typeof LINK_CRITERIA)[number];

/** One criterion of the documented scoring and the points it gave (negative when the two disagree). */
export class LinkCriterion {
  @IsIn(LINK_CRITERIA)
  criterion: LinkCriterionName;

  @IsInt()
  points: number;

  /** In words, masked: never a full citizen ID. */
  @IsString() @Length(0, 256)
  detail: string;
}

/** A department record held under the mistyped ID: where the correction has to go back to. */
export class LinkedSource {
  @IsIn(DEPARTMENTS)
  department: Department;

  @IsString() @Length(1, 128)
  sourceRecordId: string;
}

/**
 * `comparison.link-proposed` v1, keyed by the person the records belong to. The correction to
 * confirm: the records under `recordKey`, sent with `citizenIdAsSent`, are this person's.
 */
export class LinkProposedV1 {
  @IsUUID()
  linkId: string;

  @Matches(RECORD_KEY, { message: RECORD_KEY_MESSAGE })
  recordKey: string;

  /** The mistyped ID as the departments sent it. */
  @IsString() @Length(1, 32)
  citizenIdAsSent: string;

  /** The newest record of each department under the mistyped ID. */
  @IsArray() @ArrayMaxSize(16) @ValidateNested({ each: true }) @Type(() => LinkedSource)
  sources: LinkedSource[];

  /** The scoring that proposed it (`id-link`) and its version. */
  @IsString() @Length(1, 64)
  scoring: string;

  @IsInt() @Min(0)
  scoringVersion: number;

  @IsInt()
  score: number;

  /** The score a link needs (strong candidate). */
  @IsInt()
  threshold: number;

  @IsArray() @ArrayMaxSize(16) @ValidateNested({ each: true }) @Type(() => LinkCriterion)
  criteria: LinkCriterion[];
}

/**
 * `review.link-initial-approved` v1, keyed by the person: the township's initial review (初审) found
 * the link right and passes it on to the county. The link stays proposed until the final approval.
 */
export class LinkInitialApprovedV1 {
  @IsUUID()
  linkId: string;

  @Matches(RECORD_KEY, { message: RECORD_KEY_MESSAGE })
  recordKey: string;

  @IsString() @Length(1, 128)
  reviewerId: string;

  @Matches(DIVISION_PATTERNS.township, { message: 'townshipCode must be a 9-digit township/street code' })
  townshipCode: string;

  @IsString() @Length(0, 512)
  comment: string;
}

/** `review.link-confirmed` v1, keyed by the person: the correction is confirmed (the county's final approval in review). */
export class LinkConfirmedV1 {
  @IsUUID()
  linkId: string;

  @Matches(RECORD_KEY, { message: RECORD_KEY_MESSAGE })
  recordKey: string;

  @IsString() @Length(1, 128)
  reviewerId: string;

  @IsString() @Length(0, 512)
  comment: string;
}

/** `review.link-rejected` v1, keyed by the person: the records are not this person's. */
export class LinkRejectedV1 {
  @IsUUID()
  linkId: string;

  @Matches(RECORD_KEY, { message: RECORD_KEY_MESSAGE })
  recordKey: string;

  @IsString() @Length(1, 128)
  reviewerId: string;

  @IsString() @Length(1, 512)
  reason: string;
}
