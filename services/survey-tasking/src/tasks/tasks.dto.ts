import { ApiPropertyOptional } from '@nestjs/swagger';
import { PageLimit, PageOffset } from '@qmcb/platform';
import { IsIn, IsOptional, Matches } from 'class-validator';

import { TARGET_STATUSES } from '../targets/survey-target.decider';

export const TASK_STATUSES = TARGET_STATUSES;

export class ListTasksQuery {
  @ApiPropertyOptional({ description: 'Division code (2-12 digits) within the caller’s own' })
  @IsOptional() @Matches(/^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/, { message: 'division must be a 2, 4, 6, 9 or 12-digit division code' })
  division?: string;

  @ApiPropertyOptional({ enum: TASK_STATUSES })
  @IsOptional() @IsIn(TASK_STATUSES)
  status?: string;

  @PageLimit()
  limit = 50;

  @PageOffset()
  offset = 0;
}
