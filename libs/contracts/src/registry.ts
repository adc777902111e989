import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import type { ClassConstructor } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsObject, IsOptional, IsString, Length, Matches, Min, validateSync } from 'class-validator';
import type { ValidationError } from 'class-validator';
import { CALENDAR_DATE_RULE, CALENDAR_DATE_TIME_RULE, CALENDAR_MONTH_RULE, IsCalendarDateTime } from './calendar-date';
import type { EventEnvelope } from './envelope';
import { surelyValid } from './fast-validate';
import { FACT_KINDS } from './vocabulary';
import { LINK_CONFIRMED, LINK_INITIAL_APPROVED, LINK_PROPOSED, LINK_REJECTED, LinkConfirmedV1, LinkInitialApprovedV1, LinkProposedV1, LinkRejectedV1 } from './events/link.events';
import { RECOMPARE_REQUESTED, RecompareRequestedV1 } from './events/recompare-requested.event';
import {
  OUTCOME_DETERMINED,
  OutcomeDeterminedV1,
  OutcomeDeterminedV2,
  OutcomeDeterminedV3,
  upcastOutcomeDeterminedV1,
  upcastOutcomeDeterminedV2,
} from './events/outcome-determined.event';
import {
  REVIEW_CHANGE_SUBMITTED,
  REVIEW_CLOSED,
  REVIEW_FINAL_APPROVED,
  REVIEW_INITIAL_APPROVED,
  REVIEW_REBASED,
  REVIEW_REJECTED,
  REVIEW_RETURNED,
  ReviewChangeSubmittedV1,
  ReviewClosedV1,
  ReviewFinalApprovedV1,
  ReviewFinalApprovedV2,
  ReviewInitialApprovedV1,
  ReviewRebasedV1,
  ReviewRejectedV1,
  ReviewReturnedV1,
  ReviewReturnedV2,
  upcastReviewFinalApprovedV1,
  upcastReviewReturnedV1,
} from './events/review.events';
import { SOURCE_RECORD_RECEIVED, SourceRecordReceivedV1 } from './events/source-record-received.event';
import {
  SURVEY_CAMPAIGN_CLOSED,
  SURVEY_CAMPAIGN_OPENED,
  SURVEY_PERSON_FOUND,
  SURVEY_TARGET_ASSIGNED,
  SURVEY_TEAM_CHANGED,
  SURVEY_TEAM_FORMED,
  SURVEY_VILLAGES_ASSIGNED,
  SurveyCampaignClosedV1,
  SurveyCampaignOpenedV1,
  SurveyPersonFoundV1,
  SurveyTargetAssignedV1,
  SurveyTeamChangedV1,
  SurveyTeamFormedV1,
  SurveyVillagesAssignedV1,
} from './events/survey-campaign.events';
import {
  SURVEY_FORM_SUBMITTED,
  SURVEY_TASK_CLOSED,
  SURVEY_TASK_CREATED,
  SURVEY_TASK_REOPENED,
  SURVEY_VISIT_RECORDED,
  SurveyFormSubmittedV1,
  SurveyFormSubmittedV2,
  SurveyTaskClosedV1,
  SurveyTaskCreatedV1,
  SurveyTaskReopenedV1,
  SurveyVisitRecordedV1,
  upcastSurveyFormSubmittedV1,
} from './events/survey.events';
import { CARD_ISSUED, CARD_LOST, CARD_REPLACED, CardIssuedV1, CardLostV1, CardReplacedV1 } from './events/card.events';
import {
  DEATH_REGISTERED,
  EMPLOYER_CLOSED,
  EMPLOYER_OPENED,
  HOUSEHOLD_MOVED_IN,
  HOUSEHOLD_MOVED_OUT,
  DeathRegisteredV1,
  EmployerClosedV1,
  EmployerOpenedV1,
  HouseholdMovedInV1,
  HouseholdMovedOutV1,
} from './events/department-notice.events';
import {
  INSURANCE_BENEFIT_APPROVED,
  INSURANCE_CONTRIBUTION_PAID,
  INSURANCE_ENDED,
  INSURANCE_ENROLLED,
  INSURANCE_PAYMENT_STARTED,
  INSURANCE_PAYMENT_STOPPED,
  INSURANCE_SUSPENDED,
  InsuranceBenefitApprovedV1,
  InsuranceContributionPaidV1,
  InsuranceEndedV1,
  InsuranceEnrolledV1,
  InsurancePaymentStartedV1,
  InsurancePaymentStoppedV1,
  InsuranceSuspendedV1,
} from './events/insurance-business.events';
import { COMPARISON_RECOMPARE_DUE, ComparisonRecompareDueV1 } from './events/recompare-due.event';
import { PERSON_ERASED, PersonErasedV1 } from './events/person-erased.event';
import {
  REGISTRY_ABSENT_FROM_ROSTER,
  REGISTRY_CHANGE_APPROVED,
  REGISTRY_CHANGE_PROPOSED,
  REGISTRY_CHANGE_REJECTED,
  RegistryAbsentFromRosterV1,
  RegistryChangeApprovedV1,
  RegistryChangeProposedV1,
  RegistryChangeRejectedV1,
} from './events/registry-change.events';

interface VersionContract {
  payload: ClassConstructor<object>;
  /** Turns a payload of this version into the next version's shape. */
  upcast?: (payload: never) => unknown;
}

/**
 * The topic registry: every event type, each of its schema versions, and how an old version is
 * read as the current one. An old event is upcast when read, never rewritten.
 */
const CONTRACTS = {
  [SOURCE_RECORD_RECEIVED]: { 1: { payload: SourceRecordReceivedV1 } },
  [OUTCOME_DETERMINED]: {
    1: { payload: OutcomeDeterminedV1, upcast: upcastOutcomeDeterminedV1 },
    2: { payload: OutcomeDeterminedV2, upcast: upcastOutcomeDeterminedV2 },
    3: { payload: OutcomeDeterminedV3 },
  },
  [SURVEY_TASK_CREATED]: { 1: { payload: SurveyTaskCreatedV1 } },
  [SURVEY_TASK_CLOSED]: { 1: { payload: SurveyTaskClosedV1 } },
  [SURVEY_TASK_REOPENED]: { 1: { payload: SurveyTaskReopenedV1 } },
  [SURVEY_FORM_SUBMITTED]: {
    1: { payload: SurveyFormSubmittedV1, upcast: upcastSurveyFormSubmittedV1 },
    2: { payload: SurveyFormSubmittedV2 },
  },
  [SURVEY_VISIT_RECORDED]: { 1: { payload: SurveyVisitRecordedV1 } },
  [SURVEY_CAMPAIGN_OPENED]: { 1: { payload: SurveyCampaignOpenedV1 } },
  [SURVEY_CAMPAIGN_CLOSED]: { 1: { payload: SurveyCampaignClosedV1 } },
  [SURVEY_TEAM_FORMED]: { 1: { payload: SurveyTeamFormedV1 } },
  [SURVEY_TEAM_CHANGED]: { 1: { payload: SurveyTeamChangedV1 } },
  [SURVEY_VILLAGES_ASSIGNED]: { 1: { payload: SurveyVillagesAssignedV1 } },
  [SURVEY_TARGET_ASSIGNED]: { 1: { payload: SurveyTargetAssignedV1 } },
  [SURVEY_PERSON_FOUND]: { 1: { payload: SurveyPersonFoundV1 } },
  [REVIEW_CHANGE_SUBMITTED]: { 1: { payload: ReviewChangeSubmittedV1 } },
  [REVIEW_INITIAL_APPROVED]: { 1: { payload: ReviewInitialApprovedV1 } },
  [REVIEW_FINAL_APPROVED]: {
    1: { payload: ReviewFinalApprovedV1, upcast: upcastReviewFinalApprovedV1 },
    2: { payload: ReviewFinalApprovedV2 },
  },
  [REVIEW_RETURNED]: {
    1: { payload: ReviewReturnedV1, upcast: upcastReviewReturnedV1 },
    2: { payload: ReviewReturnedV2 },
  },
  [REVIEW_REJECTED]: { 1: { payload: ReviewRejectedV1 } },
  [REVIEW_CLOSED]: { 1: { payload: ReviewClosedV1 } },
  [REVIEW_REBASED]: { 1: { payload: ReviewRebasedV1 } },
  [LINK_PROPOSED]: { 1: { payload: LinkProposedV1 } },
  [LINK_INITIAL_APPROVED]: { 1: { payload: LinkInitialApprovedV1 } },
  [LINK_CONFIRMED]: { 1: { payload: LinkConfirmedV1 } },
  [LINK_REJECTED]: { 1: { payload: LinkRejectedV1 } },
  [RECOMPARE_REQUESTED]: { 1: { payload: RecompareRequestedV1 } },
  // Dynamic update (issue 9): business events, review of routed changes, rosters, the clock.
  [INSURANCE_ENROLLED]: { 1: { payload: InsuranceEnrolledV1 } },
  [INSURANCE_SUSPENDED]: { 1: { payload: InsuranceSuspendedV1 } },
  [INSURANCE_ENDED]: { 1: { payload: InsuranceEndedV1 } },
  [INSURANCE_CONTRIBUTION_PAID]: { 1: { payload: InsuranceContributionPaidV1 } },
  [INSURANCE_BENEFIT_APPROVED]: { 1: { payload: InsuranceBenefitApprovedV1 } },
  [INSURANCE_PAYMENT_STARTED]: { 1: { payload: InsurancePaymentStartedV1 } },
  [INSURANCE_PAYMENT_STOPPED]: { 1: { payload: InsurancePaymentStoppedV1 } },
  [CARD_ISSUED]: { 1: { payload: CardIssuedV1 } },
  [CARD_LOST]: { 1: { payload: CardLostV1 } },
  [CARD_REPLACED]: { 1: { payload: CardReplacedV1 } },
  [DEATH_REGISTERED]: { 1: { payload: DeathRegisteredV1 } },
  [HOUSEHOLD_MOVED_OUT]: { 1: { payload: HouseholdMovedOutV1 } },
  [HOUSEHOLD_MOVED_IN]: { 1: { payload: HouseholdMovedInV1 } },
  [EMPLOYER_OPENED]: { 1: { payload: EmployerOpenedV1 } },
  [EMPLOYER_CLOSED]: { 1: { payload: EmployerClosedV1 } },
  [REGISTRY_CHANGE_PROPOSED]: { 1: { payload: RegistryChangeProposedV1 } },
  [REGISTRY_CHANGE_APPROVED]: { 1: { payload: RegistryChangeApprovedV1 } },
  [REGISTRY_CHANGE_REJECTED]: { 1: { payload: RegistryChangeRejectedV1 } },
  [REGISTRY_ABSENT_FROM_ROSTER]: { 1: { payload: RegistryAbsentFromRosterV1 } },
  [COMPARISON_RECOMPARE_DUE]: { 1: { payload: ComparisonRecompareDueV1 } },
  // Erasure (ADR 0010): appended by `keyring erase` before the person's key is shredded.
  [PERSON_ERASED]: { 1: { payload: PersonErasedV1 } },
} as const satisfies Record<string, Record<number, VersionContract>>;

/** Payload types at their current version. */
export interface EventPayloads {
  [SOURCE_RECORD_RECEIVED]: SourceRecordReceivedV1;
  [OUTCOME_DETERMINED]: OutcomeDeterminedV3;
  [SURVEY_TASK_CREATED]: SurveyTaskCreatedV1;
  [SURVEY_TASK_CLOSED]: SurveyTaskClosedV1;
  [SURVEY_TASK_REOPENED]: SurveyTaskReopenedV1;
  [SURVEY_FORM_SUBMITTED]: SurveyFormSubmittedV2;
  [SURVEY_VISIT_RECORDED]: SurveyVisitRecordedV1;
  [SURVEY_CAMPAIGN_OPENED]: SurveyCampaignOpenedV1;
  [SURVEY_CAMPAIGN_CLOSED]: SurveyCampaignClosedV1;
  [SURVEY_TEAM_FORMED]: SurveyTeamFormedV1;
  [SURVEY_TEAM_CHANGED]: SurveyTeamChangedV1;
  [SURVEY_VILLAGES_ASSIGNED]: SurveyVillagesAssignedV1;
  [SURVEY_TARGET_ASSIGNED]: SurveyTargetAssignedV1;
  [SURVEY_PERSON_FOUND]: SurveyPersonFoundV1;
  [REVIEW_CHANGE_SUBMITTED]: ReviewChangeSubmittedV1;
  [REVIEW_INITIAL_APPROVED]: ReviewInitialApprovedV1;
  [REVIEW_FINAL_APPROVED]: ReviewFinalApprovedV2;
  [REVIEW_RETURNED]: ReviewReturnedV2;
  [REVIEW_REJECTED]: ReviewRejectedV1;
  [REVIEW_CLOSED]: ReviewClosedV1;
  [REVIEW_REBASED]: ReviewRebasedV1;
  [LINK_PROPOSED]: LinkProposedV1;
  [LINK_INITIAL_APPROVED]: LinkInitialApprovedV1;
  [LINK_CONFIRMED]: LinkConfirmedV1;
  [LINK_REJECTED]: LinkRejectedV1;
  [RECOMPARE_REQUESTED]: RecompareRequestedV1;
  // Dynamic update (issue 9)
  [INSURANCE_ENROLLED]: InsuranceEnrolledV1;
  [INSURANCE_SUSPENDED]: InsuranceSuspendedV1;
  [INSURANCE_ENDED]: InsuranceEndedV1;
  [INSURANCE_CONTRIBUTION_PAID]: InsuranceContributionPaidV1;
  [INSURANCE_BENEFIT_APPROVED]: InsuranceBenefitApprovedV1;
  [INSURANCE_PAYMENT_STARTED]: InsurancePaymentStartedV1;
  [INSURANCE_PAYMENT_STOPPED]: InsurancePaymentStoppedV1;
  [CARD_ISSUED]: CardIssuedV1;
  [CARD_LOST]: CardLostV1;
  [CARD_REPLACED]: CardReplacedV1;
  [DEATH_REGISTERED]: DeathRegisteredV1;
  [HOUSEHOLD_MOVED_OUT]: HouseholdMovedOutV1;
  [HOUSEHOLD_MOVED_IN]: HouseholdMovedInV1;
  [EMPLOYER_OPENED]: EmployerOpenedV1;
  [EMPLOYER_CLOSED]: EmployerClosedV1;
  [REGISTRY_CHANGE_PROPOSED]: RegistryChangeProposedV1;
  [REGISTRY_CHANGE_APPROVED]: RegistryChangeApprovedV1;
  [REGISTRY_CHANGE_REJECTED]: RegistryChangeRejectedV1;
  [REGISTRY_ABSENT_FROM_ROSTER]: RegistryAbsentFromRosterV1;
  [COMPARISON_RECOMPARE_DUE]: ComparisonRecompareDueV1;
  [PERSON_ERASED]: PersonErasedV1;
}

export type EventType = keyof EventPayloads;
export const EVENT_TYPES = Object.keys(CONTRACTS) as EventType[];

/** A current-version event: a discriminated union on `type`. */
export type RegistrationEvent = {
  [K in EventType]: EventEnvelope<K, EventPayloads[K]>;
}[EventType];

export type EventOf<K extends EventType> = EventEnvelope<K, EventPayloads[K]>;

export function currentVersion(type: EventType): number {
  return Math.max(...Object.keys(CONTRACTS[type]).map(Number));
}

export interface ContractViolation {
  /** Dotted path of the offending field, e.g. `payload.facts.villageCode`. */
  field: string;
  /** The rule it broke, e.g. `matches`, `isIn`, `unknownType`. */
  rule: string;
  message: string;
}

export class ContractViolationError extends Error {
  constructor(readonly violations: ContractViolation[]) {
    super(`event violates its contract: ${violations.map((v) => `${v.field} (${v.rule})`).join(', ')}`);
    this.name = 'ContractViolationError';
  }
}

/** The envelope of every event: validated before the payload of its type and version. */
export class EnvelopeShape {
  @IsString() @Length(1, 128) eventId: string;
  @IsIn(EVENT_TYPES) type: string;
  @IsInt() @Min(1) schemaVersion: number;
  @IsString() @Matches(/^(\d{17}[\dX]|[XO]-[0-9a-f]{32})$/, { message: 'personKey must be an 18-digit citizen ID, an X- surrogate or an O- organisational stream' })
  personKey: string;
  @IsISO8601() @IsCalendarDateTime() occurredAt: string;
  @IsISO8601() @IsCalendarDateTime() recordedAt: string;
  @IsString() @Length(1, 128) source: string;
  @IsString() @Length(1, 128) actor: string;
  @IsString() @Length(1, 128) correlationId: string;
  @IsOptional() @IsString() @Length(1, 128) causationId: string | null;
  @IsOptional() @IsInt() @Min(0) basedOnVersion: number | null;
  @IsObject() payload: object;
}

export function flattenValidationErrors(errors: ValidationError[], prefix = ''): ContractViolation[] {
  const out: ContractViolation[] = [];
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    for (const [rule, message] of Object.entries(e.constraints ?? {})) {
      out.push({ field, rule, message: message.startsWith(e.property) ? message.replace(e.property, field) : message });
    }
    if (e.children?.length) out.push(...flattenValidationErrors(e.children, field));
  }
  return out;
}

/**
 * The contract check: the compiled fast path answers for events that are surely valid; anything else
 * (every invalid event, and whatever the fast path is unsure of) goes through class-transformer and
 * class-validator, which alone name the violations (fast-validate.ts).
 */
function check(cls: ClassConstructor<object>, plain: unknown, prefix: string): { violations: ContractViolation[] } {
  if (surelyValid(cls, plain)) return { violations: [] };
  const value = plainToInstance(cls, plain);
  const errors = validateSync(value, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  return { violations: flattenValidationErrors(errors, prefix).filter((v) => !TOLERATED_ON_THE_LOG.has(v.rule)) };
}

/**
 * Rules of the contracts that requests must meet but events on the log need not: a date, a date-time or
 * a month that does not exist (2026-02-30, 2026-02-30T10:00:00Z, 2026-13) was accepted before
 * `isCalendarDate`, `isCalendarDateTime` and `isCalendarMonth` existed, and an event already on the log must
 * still decode (a rebuild must not dead-letter it; events are never rewritten). Requests are checked
 * with class-validator directly (the ValidationPipe, the admission checks) and are refused such a date.
 */
const TOLERATED_ON_THE_LOG: ReadonlySet<string> = new Set([CALENDAR_DATE_RULE, CALENDAR_DATE_TIME_RULE, CALENDAR_MONTH_RULE]);

/** Known kinds of a discriminated nested payload: reported as a clear violation, not a generic one. */
function discriminatorViolations(type: string, payload: Record<string, unknown>): ContractViolation[] {
  if (type !== SOURCE_RECORD_RECEIVED) return [];
  const facts = payload['facts'] as Record<string, unknown> | undefined;
  const kinds: readonly string[] = FACT_KINDS;
  if (!facts || typeof facts !== 'object' || !kinds.includes(String(facts['kind']))) {
    return [{ field: 'payload.facts.kind', rule: 'isIn', message: `payload.facts.kind must be one of: ${kinds.join(', ')}` }];
  }
  return [];
}

/**
 * Validates an envelope and its payload against the contract of its schema version, then upcasts
 * it to the current version. Used on write (before append) and on read (after consume).
 * Throws ContractViolationError naming every offending field. The result's payload is a copy, unless
 * `owned` says `raw` was made for this call and is shared with no one (say, freshly parsed JSON).
 */
export function parseEvent(raw: unknown, opts: { owned?: boolean } = {}): RegistrationEvent {
  return parse(raw, !opts.owned);
}

/** copyPayload false: raw was made for this call (decodeEvent) and is shared with no one, so its payload is not copied. */
function parse(raw: unknown, copyPayload: boolean): RegistrationEvent {
  if (!raw || typeof raw !== 'object') {
    throw new ContractViolationError([{ field: '(event)', rule: 'isObject', message: 'event must be a JSON object' }]);
  }
  const env = check(EnvelopeShape, raw, '');
  const byType = (CONTRACTS as Record<string, Record<number, VersionContract>>)[(raw as EventEnvelope).type];
  if (env.violations.length || !byType) {
    throw new ContractViolationError(env.violations.filter((v) => !v.field.startsWith('payload.')));
  }
  const envelope = raw as EventEnvelope;
  const contract = byType[envelope.schemaVersion];
  if (!contract) {
    throw new ContractViolationError([
      { field: 'schemaVersion', rule: 'knownVersion', message: `schemaVersion ${envelope.schemaVersion} is not a known version of ${envelope.type}` },
    ]);
  }
  const disc = discriminatorViolations(envelope.type, envelope.payload as Record<string, unknown>);
  if (disc.length) throw new ContractViolationError(disc);
  const p = check(contract.payload, envelope.payload, 'payload');
  if (p.violations.length) throw new ContractViolationError(p.violations);

  let payload: unknown = copyPayload ? JSON.parse(JSON.stringify(envelope.payload)) : envelope.payload;
  let version = envelope.schemaVersion;
  let step: VersionContract | undefined = contract;
  while (step?.upcast) {
    payload = (step.upcast as (x: unknown) => unknown)(payload);
    version += 1;
    step = byType[version];
  }
  return {
    eventId: envelope.eventId,
    type: envelope.type,
    schemaVersion: version,
    personKey: envelope.personKey,
    occurredAt: envelope.occurredAt,
    recordedAt: envelope.recordedAt,
    source: envelope.source,
    actor: envelope.actor,
    correlationId: envelope.correlationId,
    causationId: envelope.causationId ?? null,
    basedOnVersion: envelope.basedOnVersion ?? null,
    payload,
  } as RegistrationEvent;
}

/** Validation on read: the bytes of a Kafka message value. */
export function decodeEvent(bytes: Buffer | string | null): RegistrationEvent {
  if (bytes === null) {
    throw new ContractViolationError([{ field: '(value)', rule: 'notNull', message: 'message has no value' }]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString());
  } catch (e) {
    throw new ContractViolationError([{ field: '(value)', rule: 'json', message: `message value is not JSON: ${(e as Error).message}` }]);
  }
  return parse(raw, false);
}

export function encodeEvent(event: RegistrationEvent): Buffer {
  // Serialised at once and not kept: no copy of the payload needed.
  return Buffer.from(JSON.stringify(parse(event, false)));
}
