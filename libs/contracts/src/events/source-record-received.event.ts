import { Type } from 'class-transformer';
import { IsCalendarDateTime } from '../calendar-date';
import { IsBoolean, IsIn, IsISO8601, IsString, Length, ValidateNested } from 'class-validator';
import { DEPARTMENTS, SOURCE_MODES } from '../vocabulary';
import type { Department, SourceMode } from '../vocabulary';
import { SOURCE_FACT_SUBTYPES } from './source-facts';
import type { SourceFacts } from './source-facts';

export const SOURCE_RECORD_RECEIVED = 'source.record-received';

export class SourceRecordReceivedV1 {
  @IsIn(DEPARTMENTS)
  department: Department;

  /** The department's own ID of this record; with the department it makes the event ID. */
  @IsString() @Length(1, 128)
  sourceRecordId: string;

  @IsIn(SOURCE_MODES)
  mode: SourceMode;

  /** The citizen ID exactly as the department sent it (kept even when invalid). */
  @IsString() @Length(1, 32)
  citizenIdAsSent: string;

  /** Whether the ID passed GB 11643 validation; an invalid one is inaccurate information, never dropped. */
  @IsBoolean()
  citizenIdValid: boolean;

  @IsISO8601() @IsCalendarDateTime()
  asOf: string;

  @ValidateNested()
  @Type(() => Object, {
    discriminator: { property: 'kind', subTypes: SOURCE_FACT_SUBTYPES },
    keepDiscriminatorProperty: true,
  })
  facts: SourceFacts;
}
