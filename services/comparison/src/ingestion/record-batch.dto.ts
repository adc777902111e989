import { ApiProperty } from '@nestjs/swagger';
import { SOURCE_FACT_SUBTYPES, SOURCE_MODES, IsCalendarDateTime } from '@qmcb/contracts';
import type { SourceFacts, SourceMode } from '@qmcb/contracts';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsISO8601, IsObject, IsString, Length, Matches, ValidateNested } from 'class-validator';

export const MAX_BATCH = 5000;
/** The JSON body of a batch: 5,000 records of up to about 3 KiB each. */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024;

/** What a department may send as a citizen ID: the shape of one (15–18 digits, X last), valid or not. */
export const CITIZEN_ID_SHAPE = /^\s*[0-9\uff10-\uff19]{14,17}[0-9\uff10-\uff19XxＸｘ]\s*$/;

export class SourceRecordDto {
  @ApiProperty({ description: "The department's own ID of this record", example: 'HR-2026-000123' })
  @IsString() @Length(1, 128)
  sourceRecordId: string;

  @ApiProperty({
    description:
      'Citizen ID as held by the department: 15 to 18 digits, the last may be X (full-width forms and surrounding spaces allowed). One that fails GB 11643 (a typo, a wrong check character) is kept and flagged; text that is no ID at all is refused.',
    example: '440981199001011239',
  })
  @IsString()
  @Matches(CITIZEN_ID_SHAPE, { message: 'citizenId must be 15 to 18 digits, the last may be X (a mistyped ID is kept and flagged; text that is no ID is refused)' })
  citizenId: string;

  @ApiProperty({ enum: SOURCE_MODES })
  @IsIn(SOURCE_MODES)
  mode: SourceMode;

  @ApiProperty({ description: 'When the department recorded this state (ISO 8601)', example: '2026-11-01T00:00:00Z' })
  @IsISO8601() @IsCalendarDateTime()
  asOf: string;

  @ApiProperty({ description: 'The facts, by `kind`: household (public security), insurance (social-insurance systems, higher registry), tax, welfare and death (civil affairs), enrolment (education), custody (justice)' })
  @IsObject()
  @ValidateNested()
  @Type(() => Object, {
    discriminator: { property: 'kind', subTypes: SOURCE_FACT_SUBTYPES },
    keepDiscriminatorProperty: true,
  })
  facts: SourceFacts;
}

/**
 * The body of `POST /records`. Only the batch's shape is checked here; each record goes through the
 * one admission check of department records (record-admission.ts), which bulk loads use too.
 */
export class RecordBatchDto {
  @ApiProperty({ type: [SourceRecordDto], minItems: 1, maxItems: MAX_BATCH })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_BATCH)
  records: unknown[];
}

export class AcceptedRecordDto {
  @ApiProperty() sourceRecordId: string;
  @ApiProperty({ description: 'Deterministic: re-sending the same record yields the same ID and changes nothing' }) eventId: string;
  @ApiProperty({ description: 'Whether the citizen ID passed GB 11643 validation' }) citizenIdValid: boolean;
}

export class BatchAcceptedDto {
  @ApiProperty() accepted: number;
  @ApiProperty({ type: [AcceptedRecordDto] }) records: AcceptedRecordDto[];
}
