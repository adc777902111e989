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
import type { ApplyContext, BatchApplyContext, ProjectionHandler } from '@qmcb/event-log';
import { applyToRecord, applyToRecords } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';

export class EmittedTaskAlreadyAppliedError extends Error {
  constructor() {
    super('a task this batch created was applied before; the batch is applied one event at a time instead');
    this.name = 'EmittedTaskAlreadyAppliedError';
  }
}

@Injectable()
export class SurveyHandler implements ProjectionHandler {
  async apply(event: RegistrationEvent, ctx: ApplyContext): Promise<void> {
    const record = await applyToRecord(ctx.manager, event);
    if (event.type === OUTCOME_DETERMINED) {
      const created = ctx.rebuilding ? null : this.taskFor(event, record);
      if (created) await ctx.emit([created]);
      return;
    }
    await this.applyToTasks(ctx.manager, event);
  }

  /**
   * A chunk at once: one record load and one upsert for everyone in it, a task created for an
   * outcome folded right after it (where one by one applies it), those tasks emitted in one outbox
   * insert; then the task table for the (few) survey and review events and the new tasks, in log
   * order, exactly as one by one.
   */
  async applyBatch(events: RegistrationEvent[], ctx: BatchApplyContext): Promise<void> {
    const created = new Map<number, EventOf<typeof SURVEY_TASK_CREATED>>();
    await applyToRecords(ctx.manager, events, (i, record) => {
      const event = events[i];
      // A rebuild decides nothing: the tasks are further down the log.
      if (ctx.rebuilding || event?.type !== OUTCOME_DETERMINED) return [];
      const task = this.taskFor(event, record);
      if (!task) return [];
      created.set(i, task);
      return [task];
    });
    if (created.size > 0) {
      const fresh = await ctx.emit([...created.values()]);
      // Folded above as new; if one was applied before, the runner applies this chunk one by one.
      if (fresh.length !== created.size) throw new EmittedTaskAlreadyAppliedError();
    }
    for (const [i, event] of events.entries()) {
      await this.applyToTasks(ctx.manager, event);
      const task = created.get(i);
      if (task) await this.applyToTasks(ctx.manager, task);
    }
  }

  /** The survey_task table for one event. */
  private async applyToTasks(manager: EntityManager, event: RegistrationEvent): Promise<void> {
    const q = (sql: string, params: unknown[]): Promise<unknown> => manager.query(sql, params);
    switch (event.type) {
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
        await this.setStatusBySubmission(manager, event.payload.submissionId, 'initial-approved', null, event.occurredAt);
        return;
      case REVIEW_FINAL_APPROVED:
        await this.setStatusBySubmission(manager, event.payload.submissionId, 'approved', null, event.occurredAt);
        return;
      case REVIEW_RETURNED:
        await this.setStatusBySubmission(manager, event.payload.submissionId, 'returned', event.payload.reason, event.occurredAt);
        return;
      default:
        return;
    }
  }

  /** A person newly marked "needs survey" becomes a target in their household village (procedure §17). */
  private taskFor(event: EventOf<typeof OUTCOME_DETERMINED>, record: RegistrationRecord): EventOf<typeof SURVEY_TASK_CREATED> | null {
    if (event.payload.outcome !== 'needs-survey') return null;
    const openTask = record.survey && record.survey.status !== 'approved';
    const village = record.hukouDivision ?? record.residenceDivision;
    if (openTask || !village) return null;
    const now = new Date().toISOString();
    return {
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
  }

  private async setStatusBySubmission(manager: EntityManager, submissionId: string, status: string, reason: string | null, at: string): Promise<void> {
    await manager.query(
      `UPDATE survey_task SET status = $2, return_reason = $3, updated_at = $4, version = version + 1 WHERE submission_id = $1`,
      [submissionId, status, reason, at],
    );
  }
}
