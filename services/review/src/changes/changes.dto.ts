import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ChangeFields, Evidence } from '@qmcb/contracts';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';

const CITIZEN_ID = /^(\d{17}[\dXx]|\d{15})$/;

/** A change as a submitter sends it (the request's kind follows from the channel). */
export class ChangeBodyDto {
  @ApiProperty({ description: 'Client-generated ID of this submission: a retry with the same ID submits nothing twice' })
  @IsUUID()
  submissionId: string;

  @ApiProperty({ description: 'The items proposed for the record, each optional (at least one)', type: ChangeFields })
  @ValidateNested() @Type(() => ChangeFields)
  fields: ChangeFields;

  @ApiProperty({ description: 'Documents the change rests on; required for corrections of citizen ID, name, sex or birth date, and for a death', type: [Evidence] })
  @IsArray() @ArrayMaxSize(20) @ValidateNested({ each: true }) @Type(() => Evidence)
  evidence: Evidence[];

  @ApiPropertyOptional({ maxLength: 512 })
  @IsOptional() @IsString() @MaxLength(512)
  note?: string;
}

/** A change about a person named by citizen ID (in the body, never in a URL). */
export class PersonChangeDto extends ChangeBodyDto {
  @ApiProperty({ description: 'The citizen ID of the person (18 characters, or an old 15-digit one)' })
  @Matches(CITIZEN_ID, { message: 'citizenId must be an 18-character (or old 15-digit) citizen ID' })
  citizenId: string;
}

export class CitizenIdDto {
  @ApiProperty({ description: 'The citizen ID of the person at the counter' })
  @Matches(CITIZEN_ID, { message: 'citizenId must be an 18-character (or old 15-digit) citizen ID' })
  citizenId: string;
}

export class WithdrawDto {
  @ApiProperty({ description: 'The version of the request the citizen saw' })
  @IsInt() @Min(1) @Max(1_000_000)
  expectedVersion: number;
}
