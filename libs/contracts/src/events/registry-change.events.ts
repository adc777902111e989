import { plainToInstance } from 'class-transformer';
import { IsCalendarDateTime } from '../calendar-date';
import { IsIn, IsISO8601, IsObject, IsString, IsUUID, Length, Matches, ValidateNested, ValidatorConstraint, Validate, validateSync } from 'class-validator';
import type { ValidationArguments, ValidatorConstraintInterface } from 'class-validator';
import { Type } from 'class-transformer';
import { BUSINESS_EVENTS, BUSINESS_EVENT_TYPES, isBusinessEventType } from '../business-events';
import type { BusinessEventType } from '../business-events';
import { DEPARTMENTS, DIVISION_PATTERNS, FACT_KINDS } from '../vocabulary';
import type { Department, FactKind } from '../vocabulary';

export const REGISTRY_CHANGE_PROPOSED = 'registry.change-proposed';
export const REGISTRY_CHANGE_APPROVED = 'registry.change-approved';
export const REGISTRY_CHANGE_REJECTED = 'registry.change-rejected';
export const REGISTRY_ABSENT_FROM_ROSTER = 'registry.absent-from-roster';

/** The payload of a proposed change is the payload of its business event type: checked against that type's class. */
@ValidatorConstraint({ name: 'businessPayload' })
export class BusinessPayloadConstraint implements ValidatorConstraintInterface {
  validate(payload: unknown, args?: ValidationArguments): boolean {
    const type = (args?.object as { type?: unknown } | undefined)?.type;
    if (!isBusinessEventType(type) || typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
    const errors = validateSync(plainToInstance(BUSINESS_EVENTS[type].payload as new () => object, payload), { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
    return errors.length === 0;
  }

  defaultMessage(): string {
    return 'change.payload must be a valid payload of change.type';
  }
}

/** A business event held for review: its type, its envelope's facts and its payload, exactly as posted. */
export class ProposedChange {
  @IsIn(BUSINESS_EVENT_TYPES)
  type: BusinessEventType;

  /** The business event's own `occurredAt`. */
  @IsISO8601() @IsCalendarDateTime()
  occurredAt: string;

  /** The business event's `source` and `actor`: who posted it. */
  @IsString() @Length(1, 128)
  source: string;

  @IsString() @Length(1, 128)
  actor: string;

  /** The ID the business event would have had: re-posting it proposes nothing new. */
  @IsString() @Length(1, 128)
  eventId: string;

  @IsObject() @Validate(BusinessPayloadConstraint)
  payload: object;
}

/** A business event that region policy routes to review (procedure §21) waits for the county's decision. */
export class RegistryChangeProposedV1 {
  @IsUUID()
  proposalId: string;

  @ValidateNested() @Type(() => ProposedChange)
  change: ProposedChange;

  /** Why it waits, e.g. `region policy 440981: household.moved-out is reviewed`. */
  @IsString() @Length(1, 256)
  reason: string;
}

/** The county approved a proposed change (审定): it enters the registry as if posted now. */
export class RegistryChangeApprovedV1 {
  @IsUUID()
  proposalId: string;

  @IsString() @Length(1, 128)
  reviewerId: string;

  @Matches(DIVISION_PATTERNS.county, { message: 'countyCode must be a 6-digit county code' })
  countyCode: string;

  @IsString() @Length(0, 512)
  comment: string;
}

/** The county rejected a proposed change: the registry stays as it was. */
export class RegistryChangeRejectedV1 {
  @IsUUID()
  proposalId: string;

  @IsString() @Length(1, 128)
  reviewerId: string;

  @Matches(DIVISION_PATTERNS.county, { message: 'countyCode must be a 6-digit county code' })
  countyCode: string;

  @IsString() @Length(1, 512)
  reason: string;
}

/**
 * A department's full roster (procedure §24) left out a record we hold from it: the record is flagged,
 * never deleted; the flag is lifted by the next record of that slot from the department.
 */
export class RegistryAbsentFromRosterV1 {
  @IsUUID()
  snapshotId: string;

  @IsIn(DEPARTMENTS)
  department: Department;

  @IsIn(FACT_KINDS)
  kind: FactKind;

  /** The slot held (`household`, `insurance:pension:resident:440981`, `welfare:extreme-poverty`, …). */
  @IsString() @Length(1, 128)
  slot: string;

  /** The division prefix the roster covers. */
  @Matches(DIVISION_PATTERNS.any, { message: 'scope must be a division code of 2, 4, 6, 9 or 12 digits' })
  scope: string;

  @IsISO8601() @IsCalendarDateTime()
  rosterAsOf: string;
}
