import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsCalendarDateTime } from '@qmcb/contracts';
import { PageLimit, PageOffset } from '@qmcb/platform';
import { IsIn, IsISO8601, IsOptional, Matches } from 'class-validator';

const DIVISION = /^(\d{6}|\d{9}|\d{12})$/;
const DIVISION_MESSAGE = 'division must be a 6-digit county, 9-digit township or 12-digit village code';

export class StatisticsQuery {
  @ApiProperty({ description: "County (6 digits), township (9) or village (12) within the caller's division", example: '440981' })
  @Matches(DIVISION, { message: DIVISION_MESSAGE })
  division: string;

  @ApiPropertyOptional({ description: 'The figures as the registry stood at this time (ISO 8601); default now', example: '2026-11-30T16:00:00Z' })
  @IsOptional() @IsISO8601() @IsCalendarDateTime()
  asOf?: string;
}

export class ChangesQuery {
  @ApiProperty({ description: "County, township or village within the caller's division", example: '440981' })
  @Matches(DIVISION, { message: DIVISION_MESSAGE })
  division: string;

  @ApiProperty({ description: 'Start of the period (ISO 8601)', example: '2026-11-01T00:00:00Z' })
  @IsISO8601() @IsCalendarDateTime()
  from: string;

  @ApiPropertyOptional({ description: 'End of the period (ISO 8601); default now', example: '2026-12-01T00:00:00Z' })
  @IsOptional() @IsISO8601() @IsCalendarDateTime()
  to?: string;
}

export class DetailsQuery extends StatisticsQuery {
  @ApiProperty({
    description:
      'The figure whose people to list: population, registered, not-registered, aged-without-pension, <type>:<status>[:<REASON>] ' +
      '(status due, insured, insured-here, insured-elsewhere, not-insured, not-due, exempt), <type>:newly-covered or <type>:newly-uncovered (with from, to)',
    example: 'pension:not-insured:NEVER_ENROLLED',
  })
  @Matches(/^[a-z][a-z-]*(:[a-z-]+(:[A-Z_]+)?)?$/, { message: 'figure must be a figure name such as population or pension:not-insured:LAPSED' })
  figure: string;

  @ApiPropertyOptional({ description: 'Start of the period, for newly covered or uncovered (ISO 8601)' })
  @IsOptional() @IsISO8601() @IsCalendarDateTime()
  from?: string;

  @ApiPropertyOptional({ description: 'End of the period, for newly covered or uncovered (ISO 8601); default now' })
  @IsOptional() @IsISO8601() @IsCalendarDateTime()
  to?: string;
}

export class DetailPageQuery extends DetailsQuery {
  @PageLimit()
  limit = 50;

  @PageOffset()
  offset = 0;
}

export class DetailExportQuery extends DetailsQuery {
  @ApiPropertyOptional({ enum: ['csv', 'ndjson', 'xlsx'], default: 'csv' })
  @IsOptional() @IsIn(['csv', 'ndjson', 'xlsx'])
  format: 'csv' | 'ndjson' | 'xlsx' = 'csv';
}

export class ReportQuery extends StatisticsQuery {
  @ApiPropertyOptional({ enum: ['csv', 'xlsx'], default: 'xlsx' })
  @IsOptional() @IsIn(['csv', 'xlsx'])
  format: 'csv' | 'xlsx' = 'xlsx';
}
