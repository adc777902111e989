import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { BUSINESS_EVENT_TYPES } from '@qmcb/contracts';
import { ArrayMaxSize, ArrayMinSize, IsArray } from 'class-validator';

/** Events per request; the body is also bounded by the HTTP body limit (100 KB by default, about 300 events). */
export const MAX_BUSINESS_EVENTS = 500;

class BusinessEventInputDto {
  @ApiProperty({ enum: BUSINESS_EVENT_TYPES }) type: string;
  @ApiProperty({ description: "The business system's own transaction ID (业务流水号)", example: 'SI-2026-000123' }) businessId: string;
  @ApiProperty({ description: 'The valid 18-character citizen ID (social security number)', example: '440981197003151234' }) citizenId: string;
  @ApiProperty({ description: 'When it happened in the business system (ISO 8601 with offset)', example: '2026-03-01T09:30:00+08:00' }) occurredAt: string;
  @ApiProperty({ description: 'The fields of the type (docs/api/dynamic-update.md), without department and businessId', example: { insuranceType: 'pension', scheme: 'resident', region: '440981', since: '2026-03-01' } })
  payload: object;
}

/** `POST /business-events`: only the batch's shape here; each event goes through business-event-admission.ts. */
export class BusinessEventBatchDto {
  @ApiProperty({ type: [BusinessEventInputDto], minItems: 1, maxItems: MAX_BUSINESS_EVENTS })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_BUSINESS_EVENTS)
  events: unknown[];
}

export class AcceptedBusinessEventDto {
  @ApiProperty() businessId: string;
  @ApiProperty() type: string;
  @ApiProperty({ description: 'Deterministic: re-sending the same event yields the same ID and changes nothing' }) eventId: string;
  @ApiProperty({
    enum: ['applied', 'pending-review', 'already-applied'],
    description: 'applied: on the log as is; pending-review: the region policy holds it for the county (GET /changes); already-applied: sent before, nothing appended',
  })
  status: string;
  @ApiPropertyOptional({ nullable: true, type: String }) proposalId: string | null;
}

export class BusinessEventsAcceptedDto {
  @ApiProperty() accepted: number;
  @ApiProperty({ type: [AcceptedBusinessEventDto] }) events: AcceptedBusinessEventDto[];
}
