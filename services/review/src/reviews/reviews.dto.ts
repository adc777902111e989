import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageLimit, PageOffset } from '@qmcb/platform';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';

export class ApproveDto {
  @ApiPropertyOptional({ description: 'Reviewer comment', maxLength: 512 })
  @IsOptional() @IsString() @Length(0, 512)
  comment?: string;

  @ApiProperty({ description: 'The review item version the reviewer saw; a newer one means someone else acted first (409)' })
  @IsInt() @Min(1) @Max(2_147_483_647)
  expectedVersion: number;
}

export class ReturnDto {
  @ApiProperty({ description: 'Why the submission goes back to the surveyor', minLength: 1, maxLength: 512 })
  @IsString() @Length(1, 512)
  reason: string;

  @ApiProperty()
  @IsInt() @Min(1) @Max(2_147_483_647)
  expectedVersion: number;
}

export class ListReviewsQuery {
  @ApiPropertyOptional({ enum: ['initial', 'final', 'done'] })
  @IsOptional() @IsIn(['initial', 'final', 'done'])
  stage?: string;

  @ApiPropertyOptional({ enum: ['pending', 'approved', 'returned'] })
  @IsOptional() @IsIn(['pending', 'approved', 'returned'])
  status?: string;

  @ApiPropertyOptional({ description: 'Division code within the caller’s own' })
  @IsOptional() @Matches(/^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/, { message: 'division must be a 2, 4, 6, 9 or 12-digit division code' })
  division?: string;

  @PageLimit()
  limit = 50;

  @PageOffset()
  offset = 0;
}
