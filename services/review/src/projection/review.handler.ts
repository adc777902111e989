import { Injectable } from '@nestjs/common';
import { REVIEW_FINAL_APPROVED, REVIEW_INITIAL_APPROVED, REVIEW_RETURNED, SURVEY_FORM_SUBMITTED, deterministicId } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import type { ApplyContext, BatchApplyContext, ProjectionHandler } from '@qmcb/event-log';
import { applyToRecord, applyToRecords } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';

export function reviewIdFor(submissionId: string): string {
  return deterministicId('review', 'item', submissionId);
}

@Injectable()
export class ReviewHandler implements ProjectionHandler {
  async apply(event: RegistrationEvent, ctx: ApplyContext): Promise<void> {
    const record = await applyToRecord(ctx.manager, event);
    await this.applyToReviews(ctx.manager, event, record);
  }

  /**
   * A chunk at once: one record load and one upsert for everyone in it; the review items of the
   * (few) review events after that, in log order, exactly as one by one.
   */
  async applyBatch(events: RegistrationEvent[], ctx: BatchApplyContext): Promise<void> {
    const { after } = await applyToRecords(ctx.manager, events);
    for (const [i, event] of events.entries()) await this.applyToReviews(ctx.manager, event, after[i] as RegistrationRecord);
  }

  /** The review tables for one event, given the person's record right after it. */
  private async applyToReviews(manager: EntityManager, event: RegistrationEvent, record: RegistrationRecord): Promise<void> {
    const q = (sql: string, params: unknown[]): Promise<unknown> => manager.query(sql, params);
    switch (event.type) {
      case SURVEY_FORM_SUBMITTED: {
        const village = record.survey?.villageCode ?? record.hukouDivision ?? record.residenceDivision;
        if (!village) throw new Error(`submission ${event.payload.submissionId} has no village to review it in`);
        await q(
          `INSERT INTO review_item (review_id, submission_id, task_id, person_key, village_code, township_code, county_code,
             stage, status, form, surveyor_id, submitted_at, based_on_version, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'initial', 'pending', $8, $9, $10, $11, $10)
           ON CONFLICT (submission_id) DO NOTHING`,
          [
            reviewIdFor(event.payload.submissionId), event.payload.submissionId, event.payload.taskId, event.personKey,
            village, village.slice(0, 9), village.slice(0, 6), JSON.stringify(event.payload.form), event.payload.surveyorId,
            event.occurredAt, event.basedOnVersion,
          ],
        );
        return;
      }
      case REVIEW_INITIAL_APPROVED:
        await q(
          `UPDATE review_item SET stage = 'final', status = 'pending', initial_reviewer = $2, initial_comment = $3,
             updated_at = $4, version = version + 1 WHERE review_id = $1`,
          [event.payload.reviewId, event.payload.reviewerId, event.payload.comment, event.occurredAt],
        );
        return;
      case REVIEW_FINAL_APPROVED:
        await q(
          `UPDATE review_item SET stage = 'done', status = 'approved', final_reviewer = $2, updated_at = $3, version = version + 1
            WHERE review_id = $1`,
          [event.payload.reviewId, event.payload.reviewerId, event.occurredAt],
        );
        return;
      case REVIEW_RETURNED:
        await q(
          `UPDATE review_item SET status = 'returned', return_reason = $2, updated_at = $3, version = version + 1 WHERE review_id = $1`,
          [event.payload.reviewId, event.payload.reason, event.occurredAt],
        );
        return;
      default:
        return;
    }
  }
}
