import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { OUTCOMES } from '@qmcb/contracts';
import type { Outcome } from '@qmcb/contracts';
import { PageLimit, PageOffset } from '@qmcb/platform';
import { IsIn, IsOptional, Matches } from 'class-validator';

const DIVISION = /^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/;
const DIVISION_MESSAGE = 'division must be a 2, 4, 6, 9 or 12-digit division code';

export class FlagSummaryQuery {
  @ApiPropertyOptional({ description: "Division code (2-12 digits) within the caller's own; default: the caller's whole division", example: '440981002' })
  @IsOptional() @Matches(DIVISION, { message: DIVISION_MESSAGE })
  division?: string;
}

export class ListFlagsQuery extends FlagSummaryQuery {
  @ApiPropertyOptional({ enum: OUTCOMES, description: 'Only people with this current outcome' })
  @IsOptional() @IsIn(OUTCOMES)
  outcome?: Outcome;

  @ApiPropertyOptional({ description: 'Only people whose current outcome carries this reason code', example: 'UNINSURED' })
  @IsOptional() @Matches(/^[A-Z][A-Z0-9_]{0,63}$/, { message: 'reason must be a reason code such as UNINSURED' })
  reason?: string;

  @PageLimit()
  limit = 50;

  @PageOffset()
  offset = 0;
}

export class FlaggedPersonDto {
  @ApiProperty({ description: 'The person ID of `GET /persons/:personId` (opaque; never the citizen ID)', example: 'kq3…' })
  personId: string;

  @ApiProperty({ nullable: true, description: 'The citizen ID as last sent, masked for display (first 6 and last 4 kept)', example: '440981********123X' })
  citizenIdMasked: string | null;

  @ApiProperty({ nullable: true, example: '李明', description: 'Masked (李**) unless a grassroots reviewer or county approver states comparison-check or survey' })
  name: string | null;

  @ApiProperty({ description: 'The division the person is filed under (household village, else residence)', example: '440981002001' })
  division: string;

  @ApiProperty({ enum: OUTCOMES })
  outcome: Outcome;

  @ApiProperty({ type: [String], example: ['UNINSURED'] })
  reasonCodes: string[];

  @ApiProperty({ description: 'When the current outcome was decided (ISO 8601)' })
  decidedAt: string;
}

export class FlagListDto {
  @ApiProperty({ description: 'People matching the filters in the division, all pages' })
  total: number;

  @ApiProperty() limit: number;
  @ApiProperty() offset: number;

  @ApiProperty({ type: [FlaggedPersonDto], description: 'Ordered by division, then person key' })
  items: FlaggedPersonDto[];
}

export class FlagSummaryDto {
  @ApiProperty({ example: '440981' }) division: string;
  @ApiProperty({ description: 'People compared in the division (with any outcome)' }) total: number;

  @ApiProperty({ description: 'People by current outcome; every outcome present, 0 when none', example: { registered: 120, duplicate: 3, 'needs-survey': 17, exempt: 5 } })
  byOutcome: Record<Outcome, number>;

  @ApiProperty({ description: 'People whose current outcome carries each reason code, by code (codes with none left out)', example: { COMPLETE: 120, UNINSURED: 12 } })
  byReason: Record<string, number>;
}
