import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsISO8601, IsIn, IsObject, IsOptional, IsString, IsUUID, Length, Matches, MaxLength, ValidateNested } from 'class-validator';
import { IsCalendarDate, IsCalendarDateTime } from '../calendar-date';
import { DIVISION_PATTERNS, VISIT_OUTCOMES } from '../vocabulary';
import type { VisitOutcome } from '../vocabulary';
import { ChangeRequest, Evidence, HouseholdReport } from './change-request';
import { CollectedForm } from './collected-form';

export const SURVEY_TASK_CREATED = 'survey.task-created';
export const SURVEY_TASK_CLOSED = 'survey.task-closed';
export const SURVEY_TASK_REOPENED = 'survey.task-reopened';
export const SURVEY_FORM_SUBMITTED = 'survey.form-submitted';
export const SURVEY_VISIT_RECORDED = 'survey.visit-recorded';

/** A person needing survey became a household-survey target in their village (procedure §17). */
export class SurveyTaskCreatedV1 {
  @IsUUID()
  taskId: string;

  @Matches(DIVISION_PATTERNS.village, { message: 'villageCode must be a 12-digit village/community code' })
  villageCode: string;

  @IsArray() @ArrayMaxSize(64) @IsString({ each: true })
  reasons: string[];
}

/**
 * A target closed before its visit because the person no longer needs a survey (their outcome left
 * "needs survey": registered some other way, exempt, duplicate), with that reason.
 */
export class SurveyTaskClosedV1 {
  @IsUUID()
  taskId: string;

  /** Why, e.g. `OUTCOME_REGISTERED`. */
  @IsString() @Length(1, 64)
  reason: string;
}

/** A closed target opened again: the person needs a survey again, for these reasons. */
export class SurveyTaskReopenedV1 {
  @IsUUID()
  taskId: string;

  @IsArray() @ArrayMaxSize(64) @IsString({ each: true })
  reasons: string[];
}

/** v1: the first registration form, a fixed set of items (read as v2 through the upcaster). */
export class SurveyFormSubmittedV1 {
  @IsUUID()
  taskId: string;

  @IsUUID()
  submissionId: string;

  @IsString() @Length(1, 128)
  surveyorId: string;

  @IsObject() @ValidateNested() @Type(() => CollectedForm)
  form: CollectedForm;
}

/**
 * A surveyor submitted the registration form (全民参保登记表) for a target after a visit (procedure
 * §18-§19): the change it asks for (every §7 item, corrections of identity with evidence, items
 * marked unknown with a reason) and the household as found (三不漏). It goes to review.
 */
export class SurveyFormSubmittedV2 {
  @IsUUID()
  taskId: string;

  @IsUUID()
  submissionId: string;

  /** The visit this form was collected at (client-generated, so a retried upload is the same visit). */
  @IsUUID()
  visitId: string;

  @IsString() @Length(1, 128)
  surveyorId: string;

  @IsObject() @ValidateNested() @Type(() => ChangeRequest)
  request: ChangeRequest;

  @IsObject() @ValidateNested() @Type(() => HouseholdReport)
  household: HouseholdReport;

  /** When the surveyor was at the door (forms collected offline are uploaded later); absent on older events. */
  @IsOptional() @IsISO8601() @IsCalendarDateTime()
  visitedAt?: string;
}

/** The v1 form as a v2 registration-form request: the same items, nothing marked unknown, no household report. */
export function upcastSurveyFormSubmittedV1(v1: SurveyFormSubmittedV1): SurveyFormSubmittedV2 {
  return {
    taskId: v1.taskId,
    submissionId: v1.submissionId,
    visitId: v1.submissionId,
    surveyorId: v1.surveyorId,
    request: { kind: 'registration-form', fields: formFields(v1.form), evidence: [], unknown: [] },
    household: { members: [] },
  };
}

/** The items of a v1 form as change fields. */
export function formFields(form: CollectedForm): ChangeRequest['fields'] {
  return {
    name: form.name,
    phone: form.phone,
    employmentStatus: form.employmentStatus,
    residenceAddress: form.residenceAddress,
    residenceDivision: form.residenceDivision,
    insurance: form.insurance.map(({ insuranceType, scheme, status, region }) => ({ insuranceType, scheme, status, region })),
    notInsuredReason: null,
    insuredElsewhere: form.insuredElsewhere,
  };
}

/**
 * A visit whose result is not a collected form: nobody home (revisit planned), away or moved out
 * (where, if known), deceased (date and evidence: a death claim for review), refused (with a reason),
 * not found at the address. `collected` visits are `survey.form-submitted`.
 */
export class SurveyVisitRecordedV1 {
  @IsUUID()
  taskId: string;

  /** Client-generated, so a retried upload records the visit once. */
  @IsUUID()
  visitId: string;

  @IsString() @Length(1, 128)
  surveyorId: string;

  @IsIn(VISIT_OUTCOMES.filter((o) => o !== 'collected'))
  outcome: Exclude<VisitOutcome, 'collected'>;

  /** When the surveyor was at the door. */
  @IsISO8601() @IsCalendarDateTime()
  visitedAt: string;

  /** refused: why (the person's words); any outcome: a remark. */
  @IsOptional() @IsString() @MaxLength(512)
  reason?: string;

  /** nobody-home: the planned revisit date. */
  @IsOptional() @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'revisitOn must be YYYY-MM-DD' }) @IsCalendarDate()
  revisitOn?: string;

  /** away / moved-out: where, as a county code if known. */
  @IsOptional() @Matches(DIVISION_PATTERNS.county, { message: 'whereRegion must be a 6-digit county code' })
  whereRegion?: string;

  /** away / moved-out: where, in words. */
  @IsOptional() @IsString() @MaxLength(256)
  whereText?: string;

  /** deceased: the date of death. */
  @IsOptional() @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'deathDate must be YYYY-MM-DD' }) @IsCalendarDate()
  deathDate?: string;

  /** deceased (required), others (optional): what the result rests on. */
  @IsArray() @ArrayMaxSize(20) @ValidateNested({ each: true }) @Type(() => Evidence)
  evidence: Evidence[];
}
