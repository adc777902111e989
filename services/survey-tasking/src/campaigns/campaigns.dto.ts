import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, IsUUID, Length, Matches, MaxLength, ValidateNested } from 'class-validator';
import { DIVISION_PATTERNS, TeamMember, IsCalendarDate } from '@qmcb/contracts';
import { PageLimit, PageOffset } from '@qmcb/platform';
import { PROGRESS_GROUPS } from '../targets/survey-task.repository';
import type { ProgressGroup } from '../targets/survey-task.repository';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export class OpenCampaignDto {
  @ApiProperty({ format: 'uuid', description: 'Chosen by the caller: opening again with the same ID and details is a no-op' }) @IsUUID()
  campaignId: string;

  @ApiProperty({ example: '440981' }) @Matches(DIVISION_PATTERNS.county, { message: 'countyCode must be a 6-digit county code' })
  countyCode: string;

  @ApiProperty({ example: '2017年全民参保登记入户调查' }) @IsString() @Length(1, 128)
  name: string;

  @ApiProperty({ example: '2017-08-20' }) @Matches(DATE, { message: 'startsOn must be YYYY-MM-DD' }) @IsCalendarDate()
  startsOn: string;

  @ApiProperty({ example: '2017-09-25' }) @Matches(DATE, { message: 'deadline must be YYYY-MM-DD' }) @IsCalendarDate()
  deadline: string;
}

export class CloseCampaignDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(512)
  note?: string;
}

export class TeamDto {
  @ApiProperty({ format: 'uuid' }) @IsUUID()
  teamId: string;

  @ApiProperty({ example: '440981002' }) @Matches(DIVISION_PATTERNS.township, { message: 'townshipCode must be a 9-digit township/street code' })
  townshipCode: string;

  @ApiProperty({ example: '石仔岭第一组' }) @IsString() @Length(1, 64)
  name: string;

  @ApiProperty({ type: [TeamMember] }) @IsArray() @ArrayMinSize(1) @ArrayMaxSize(10) @ValidateNested({ each: true }) @Type(() => TeamMember)
  members: TeamMember[];
}

export class TeamMembersDto {
  @ApiProperty({ type: [TeamMember] }) @IsArray() @ArrayMinSize(1) @ArrayMaxSize(10) @ValidateNested({ each: true }) @Type(() => TeamMember)
  members: TeamMember[];
}

/** Give villages, households or single targets to a team (and optionally to one of its surveyors). */
export class AssignDto {
  @ApiProperty({ format: 'uuid' }) @IsUUID()
  teamId: string;

  @ApiPropertyOptional({ description: 'Villages the team works from now on (their targets are distributed among its surveyors)' })
  @IsOptional() @IsArray() @ArrayMaxSize(500) @Matches(DIVISION_PATTERNS.village, { each: true, message: 'villageCodes must be 12-digit village/community codes' })
  villageCodes?: string[];

  @ApiPropertyOptional({ description: 'Households (householdKey of a target)' })
  @IsOptional() @IsArray() @ArrayMaxSize(2000) @IsString({ each: true }) @Length(1, 64, { each: true })
  householdKeys?: string[];

  @ApiPropertyOptional() @IsOptional() @IsArray() @ArrayMaxSize(2000) @IsUUID('all', { each: true })
  taskIds?: string[];

  @ApiPropertyOptional({ description: 'One surveyor of the team takes them all; absent: balanced among its surveyors' })
  @IsOptional() @IsString() @Length(1, 128)
  surveyorId?: string;

  @ApiPropertyOptional({ description: 'Why (kept in the assignment history)' }) @IsOptional() @IsString() @MaxLength(256)
  reason?: string;
}

export class AutoAssignDto {
  @ApiProperty({ example: '440981002' }) @Matches(DIVISION_PATTERNS.township, { message: 'townshipCode must be a 9-digit township/street code' })
  townshipCode: string;
}

export class ProgressQuery {
  @ApiPropertyOptional({ enum: PROGRESS_GROUPS, default: 'township' }) @IsOptional() @IsIn(PROGRESS_GROUPS)
  groupBy: ProgressGroup = 'township';

  @ApiPropertyOptional({ description: 'A division within the campaign’s county (and the caller’s)' })
  @IsOptional() @Matches(DIVISION_PATTERNS.any, { message: 'division must be a 2, 4, 6, 9 or 12-digit division code' })
  division?: string;
}

export class OverdueQuery {
  @ApiPropertyOptional() @IsOptional() @Matches(DIVISION_PATTERNS.any, { message: 'division must be a 2, 4, 6, 9 or 12-digit division code' })
  division?: string;

  @PageLimit()
  limit = 50;

  @PageOffset()
  offset = 0;
}

export const LEDGER_FORMATS = ['csv', 'xlsx'] as const;
export type LedgerFormat = (typeof LEDGER_FORMATS)[number];

export class LedgerQuery {
  @ApiPropertyOptional({ enum: LEDGER_FORMATS, default: 'csv' }) @IsOptional() @IsIn(LEDGER_FORMATS)
  format: LedgerFormat = 'csv';

  @ApiPropertyOptional({ description: 'A village (the summary ledger is per village), township or the county' })
  @IsOptional() @Matches(DIVISION_PATTERNS.any, { message: 'division must be a 2, 4, 6, 9 or 12-digit division code' })
  division?: string;
}
