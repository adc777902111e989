import { Inject, Injectable } from '@nestjs/common';
import { SURVEY_FORM_SUBMITTED, deterministicId, newId } from '@qmcb/contracts';
import type { CollectedForm, EventOf } from '@qmcb/contracts';
import { assertInDivision } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import type { ProjectionHandler } from '@qmcb/event-log';
import { DomainError } from '@qmcb/platform';
import { PROJECTION_HANDLER, alreadyApplied, commitDecisions, loadRecord } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';

export interface TaskRow {
  taskId: string;
  personKey: string;
  villageCode: string;
  townshipCode: string;
  countyCode: string;
  status: string;
  reasons: string[];
  submissionId: string | null;
  surveyorId: string | null;
  returnReason: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

const TASK_COLUMNS = `task_id AS "taskId", person_key AS "personKey", village_code AS "villageCode",
  township_code AS "townshipCode", county_code AS "countyCode", status, reasons, submission_id AS "submissionId",
  surveyor_id AS "surveyorId", return_reason AS "returnReason", created_at AS "createdAt", updated_at AS "updatedAt", version`;

export interface SubmissionResult {
  taskId: string;
  submissionId: string;
  eventId: string;
  status: 'submitted';
}

@Injectable()
export class TasksService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(PROJECTION_HANDLER) private readonly handler: ProjectionHandler,
  ) {}

  async list(principal: Principal, division: string | undefined, status: string | undefined, limit: number, offset: number): Promise<{ total: number; items: TaskRow[] }> {
    const scope = principal.kind === 'person' ? principal.division : '';
    const within = division ?? scope;
    assertInDivision(principal, within);
    const params = [`${within}%`, status ?? null];
    const [{ total }] = await this.dataSource.query(
      `SELECT count(*)::int AS total FROM survey_task WHERE village_code LIKE $1 AND ($2::text IS NULL OR status = $2)`,
      params,
    );
    const items: TaskRow[] = await this.dataSource.query(
      `SELECT ${TASK_COLUMNS} FROM survey_task WHERE village_code LIKE $1 AND ($2::text IS NULL OR status = $2)
        ORDER BY village_code, created_at, task_id LIMIT $3 OFFSET $4`,
      [...params, limit, offset],
    );
    return { total, items };
  }

  async get(principal: Principal, taskId: string): Promise<TaskRow> {
    const rows: TaskRow[] = await this.dataSource.query(`SELECT ${TASK_COLUMNS} FROM survey_task WHERE task_id = $1`, [taskId]);
    const task = rows[0];
    if (!task) throw new DomainError('NOT_FOUND', `survey task ${taskId} not found`);
    assertInDivision(principal, task.villageCode);
    return task;
  }

  /**
   * A surveyor submits the registration form for a task. Serialised per task by a row lock; a retry
   * with the same Idempotency-Key returns the first result instead of submitting twice.
   */
  async submit(principal: Principal, taskId: string, form: CollectedForm, idempotencyKey: string | undefined): Promise<SubmissionResult> {
    const submissionId = deterministicId('survey', 'submission', taskId, idempotencyKey ?? newId());
    const eventId = deterministicId('survey', 'form-submitted', submissionId);
    return this.dataSource.transaction(async (manager) => {
      const rows: TaskRow[] = await manager.query(`SELECT ${TASK_COLUMNS} FROM survey_task WHERE task_id = $1 FOR UPDATE`, [taskId]);
      const task = rows[0];
      if (!task) throw new DomainError('NOT_FOUND', `survey task ${taskId} not found`);
      assertInDivision(principal, task.villageCode);
      if (await alreadyApplied(manager, eventId)) return { taskId, submissionId, eventId, status: 'submitted' };
      if (task.status !== 'open' && task.status !== 'returned') {
        throw new DomainError('CONFLICT', `survey task ${taskId} is ${task.status}; only an open or returned task takes a submission`);
      }
      const record = await loadRecord(manager, task.personKey);
      const now = new Date().toISOString();
      const event: EventOf<typeof SURVEY_FORM_SUBMITTED> = {
        eventId,
        type: SURVEY_FORM_SUBMITTED,
        schemaVersion: 1,
        personKey: task.personKey,
        occurredAt: now,
        recordedAt: now,
        source: 'svc:survey-tasking',
        actor: principal.kind === 'person' ? `user:${principal.sub}` : `key:${principal.keyId}`,
        correlationId: newId(),
        causationId: null,
        basedOnVersion: record?.version ?? null,
        payload: { taskId, submissionId, surveyorId: principal.kind === 'person' ? principal.sub : principal.keyId, form },
      };
      await commitDecisions(manager, this.handler, [event]);
      return { taskId, submissionId, eventId, status: 'submitted' };
    });
  }
}
