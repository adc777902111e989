import { ArrayMaxSize, IsArray, IsString, Length, Matches } from 'class-validator';
import { IsCalendarDate } from '../calendar-date';

export const COMPARISON_RECOMPARE_DUE = 'comparison.recompare-due';

/**
 * A day on which comparison's decision about a person may change without any new fact (turning 16 or
 * 60, the end of a school year, a release date): comparison's scheduler appends it, comparison
 * compares the person again as of that day. Its ID is made of the person and the day, so two
 * schedulers or a restart append it once.
 */
export class ComparisonRecompareDueV1 {
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'dueDate must be YYYY-MM-DD' }) @IsCalendarDate()
  dueDate: string;

  /** What falls due that day, in words, e.g. `age 60 (pensionAgeCheck)`. */
  @IsArray() @ArrayMaxSize(16) @IsString({ each: true }) @Length(1, 128, { each: true })
  because: string[];
}
