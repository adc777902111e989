import { Injectable } from '@nestjs/common';
import {
  OUTCOME_DETERMINED,
  REVIEW_FINAL_APPROVED,
  REVIEW_INITIAL_APPROVED,
  REVIEW_RETURNED,
  SURVEY_FORM_SUBMITTED,
  SURVEY_TASK_CREATED,
  deterministicId,
} from '@qmcb/contracts';
import type { EventOf, RegistrationEvent } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import type { ApplyContext, ProjectionHandler } from '@qmcb/event-log';
import { applyToRecord } from '@qmcb/service-kit';

@Injectable()
export class SurveyHandler implements ProjectionHandler {
  async apply(event: RegistrationEvent, ctx: ApplyContext): Promise<void> {
    const record = await applyToRecord(ctx.manager, event);
    const q = (sql: string, params: unknown[]): Promise<unknown> => ctx.manager.query(sql, params);
    switch (event.type) {
      case OUTCOME_DETERMINED:
        await this.maybeCreateTask(event, record, ctx);
        return;
      case SURVEY_TASK_CREATED: {
        const v = event.payload.villageCode;
        await q(
          `INSERT INTO survey_task (task_id, person_key, village_code, township_code, county_code, status, reasons, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $7) ON CONFLICT (task_id) DO NOTHING`,
          [event.payload.taskId, event.personKey, v, v.slice(0, 9), v.slice(0, 6), event.payload.reasons, event.occurredAt],
        );
        return;
      }
      case SURVEY_FORM_SUBMITTED:
        await q(
          `UPDATE survey_task SET status = 'submitted', submission_id = $2, surveyor_id = $3, return_reason = NULL,
             updated_at = $4, version = version + 1 WHERE task_id = $1`,
          [event.payload.taskId, event.payload.submissionId, event.payload.surveyorId, event.occurredAt],
        );
        return;
      case REVIEW_INITIAL_APPROVED:
        await this.setStatusBySubmission(ctx, event.payload.submissionId, 'initial-approved', null, event.occurredAt);
        return;
      case REVIEW_FINAL_APPROVED:
        await this.setStatusBySubmission(ctx, event.payload.submissionId, 'approved', null, event.occurredAt);
        return;
      case REVIEW_RETURNED:
        await this.setStatusBySubmission(ctx, event.payload.submissionId, 'returned', event.payload.reason, event.occurredAt);
        return;
      default:
        return;
    }
  }

  /** A person newly marked "needs survey" becomes a target in their household village (procedure §17). */
  private async maybeCreateTask(event: EventOf<typeof OUTCOME_DETERMINED>, record: RegistrationRecord, ctx: ApplyContext): Promise<void> {
    if (event.payload.outcome !== 'needs-survey') return;
    const openTask = record.survey && record.survey.status !== 'approved';
    const village = record.hukouDivision ?? record.residenceDivision;
    if (openTask || !village) return;
    const now = new Date().toISOString();
    const created: EventOf<typeof SURVEY_TASK_CREATED> = {
      eventId: deterministicId('survey', 'task-created', event.eventId),
      type: SURVEY_TASK_CREATED,
      schemaVersion: 1,
      personKey: event.personKey,
      occurredAt: now,
      recordedAt: now,
      source: 'svc:survey-tasking',
      actor: 'svc:survey-tasking',
      correlationId: event.correlationId,
      causationId: event.eventId,
      basedOnVersion: record.version,
      payload: {
        taskId: deterministicId('survey', 'task', event.eventId),
        villageCode: village,
        reasons: event.payload.reasons.map((r) => r.code),
      },
    };
    await ctx.emit([created]);
  }

  private async setStatusBySubmission(ctx: ApplyContext, submissionId: string, status: string, reason: string | null, at: string): Promise<void> {
    await ctx.manager.query(
      `UPDATE survey_task SET status = $2, return_reason = $3, updated_at = $4, version = version + 1 WHERE submission_id = $1`,
      [submissionId, status, reason, at],
    );
  }
}
