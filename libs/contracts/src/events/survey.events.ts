import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsString, IsUUID, Length, Matches, ValidateNested } from 'class-validator';
import { DIVISION_PATTERNS } from '../vocabulary';
import { CollectedForm } from './collected-form';

export const SURVEY_TASK_CREATED = 'survey.task-created';
export const SURVEY_TASK_CLOSED = 'survey.task-closed';
export const SURVEY_TASK_REOPENED = 'survey.task-reopened';
export const SURVEY_FORM_SUBMITTED = 'survey.form-submitted';

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

/** A surveyor submitted the registration form for a task (procedure §18-§19). */
export class SurveyFormSubmittedV1 {
  @IsUUID()
  taskId: string;

  @IsUUID()
  submissionId: string;

  @IsString() @Length(1, 128)
  surveyorId: string;

  @ValidateNested() @Type(() => CollectedForm)
  form: CollectedForm;
}
