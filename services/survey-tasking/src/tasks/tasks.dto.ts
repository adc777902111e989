import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

import { TARGET_STATUSES } from '../targets/survey-target.decider';

export const TASK_STATUSES = TARGET_STATUSES;

export class ListTasksQuery {
  @ApiPropertyOptional({ description: 'Division code (2-12 digits) within the caller’s own' })
  @IsOptional() @Matches(/^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/, { message: 'division must be a 2, 4, 6, 9 or 12-digit division code' })
  division?: string;

  @ApiPropertyOptional({ enum: TASK_STATUSES })
  @IsOptional() @IsIn(TASK_STATUSES)
  status?: string;

  @ApiPropertyOptional({ default: 50, maximum: 500 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  limit = 50;

  @ApiPropertyOptional({ default: 0 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  offset = 0;
}
