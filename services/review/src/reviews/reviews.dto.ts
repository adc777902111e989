import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CHANGE_FIELDS, CHANNELS, CLOSE_REASONS, REJECT_REASONS } from '@qmcb/contracts';
import type { ChangeField, Channel, CloseReason, RejectReason } from '@qmcb/contracts';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsInt, IsOptional, IsString, IsUUID, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { PageLimit, PageOffset } from '@qmcb/platform';
import { REVIEW_ITEM_STAGES, REVIEW_ITEM_STATUSES } from '../items/review-item.decider';
import type { ItemStage, ItemStatus } from '../items/review-item.decider';
import { QUEUE_SORTS } from '../items/review-item.repository';
import type { QueueSort } from '../items/review-item.repository';

class VersionedDto {
  @ApiProperty({ description: 'The item version the reviewer saw; another one means someone else acted first (409)' })
  @IsInt() @Min(1) @Max(1_000_000)
  expectedVersion: number;
}

export class ApproveDto extends VersionedDto {
  @ApiPropertyOptional({ description: 'Reviewer comment', maxLength: 512 })
  @IsOptional() @IsString() @Length(0, 512)
  comment?: string;
}

export class FinalApproveDto extends VersionedDto {}

export class ReturnDto extends VersionedDto {
  @ApiProperty({ description: 'Why the change goes back to its submitter', minLength: 1, maxLength: 512 })
  @IsString() @Length(1, 512)
  reason: string;

  @ApiPropertyOptional({ description: 'The items the submitter must fix', enum: CHANGE_FIELDS, isArray: true })
  @IsOptional() @IsArray() @ArrayUnique() @IsIn(CHANGE_FIELDS, { each: true })
  fieldsToFix?: ChangeField[];
}

export class RejectDto extends VersionedDto {
  @ApiProperty({ enum: REJECT_REASONS })
  @IsIn(REJECT_REASONS)
  reasonCode: RejectReason;

  @ApiProperty({ minLength: 1, maxLength: 512 })
  @IsString() @Length(1, 512)
  reason: string;
}

export class CloseDto extends VersionedDto {
  @ApiProperty({ enum: CLOSE_REASONS, description: 'duplicate of another item, or withdrawn by its submitter' })
  @IsIn(CLOSE_REASONS)
  closeReason: CloseReason;

  @ApiProperty({ minLength: 1, maxLength: 512 })
  @IsString() @Length(1, 512)
  reason: string;
}

export class RebaseDto extends VersionedDto {}

export class BulkItemDto {
  @ApiProperty()
  @IsUUID()
  reviewId: string;

  @ApiProperty()
  @IsInt() @Min(1) @Max(1_000_000)
  expectedVersion: number;
}

export const MAX_BULK = 500;

export class BulkApproveDto {
  @ApiProperty({ enum: ['initial', 'final'], description: 'initial review (grassroots reviewers) or final approval (county approvers)' })
  @IsIn(['initial', 'final'])
  stage: 'initial' | 'final';

  @ApiProperty({ type: [BulkItemDto], minItems: 1, maxItems: MAX_BULK })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_BULK) @ValidateNested({ each: true }) @Type(() => BulkItemDto)
  items: BulkItemDto[];

  @ApiPropertyOptional({ maxLength: 512 })
  @IsOptional() @IsString() @Length(0, 512)
  comment?: string;
}

export class ListReviewsQuery {
  @ApiPropertyOptional({ enum: REVIEW_ITEM_STAGES })
  @IsOptional() @IsIn(REVIEW_ITEM_STAGES)
  stage?: ItemStage;

  @ApiPropertyOptional({ enum: REVIEW_ITEM_STATUSES })
  @IsOptional() @IsIn(REVIEW_ITEM_STATUSES)
  status?: ItemStatus;

  @ApiPropertyOptional({ enum: CHANNELS })
  @IsOptional() @IsIn(CHANNELS)
  channel?: Channel;

  @ApiPropertyOptional({ description: 'Items of people flagged for this reason code, e.g. UNINSURED' })
  @IsOptional() @Matches(/^[A-Z0-9_]{1,64}$/, { message: 'reason must be a reason code' })
  reason?: string;

  @ApiPropertyOptional({ description: 'Only items waiting at least this many days' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(3650)
  waitingDays?: number;

  @ApiPropertyOptional({ description: 'Division code within the caller’s own' })
  @IsOptional() @Matches(/^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/, { message: 'division must be a 2, 4, 6, 9 or 12-digit division code' })
  division?: string;

  @ApiPropertyOptional({ enum: QUEUE_SORTS, default: 'submittedAt', description: 'oldest first (default) or newest first' })
  @IsOptional() @IsIn(QUEUE_SORTS)
  sort: QueueSort = 'submittedAt';

  @PageLimit()
  limit = 50;

  @PageOffset()
  offset = 0;
}

export class QueueFiguresQuery {
  @ApiPropertyOptional({ description: 'Division code within the caller’s own' })
  @IsOptional() @Matches(/^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/, { message: 'division must be a 2, 4, 6, 9 or 12-digit division code' })
  division?: string;
}
