import { Injectable } from '@nestjs/common';
import { actorOf, assertInDivision } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { deterministicId, formFields, newId } from '@qmcb/contracts';
import type { CollectedForm } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import { DomainError } from '@qmcb/platform';
import { Decisions, PersonReader, PersonRecordRepository } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import { decide } from '../targets/survey-target.decider';
import type { TargetStatus } from '../targets/survey-target.decider';
import { SurveyTaskRepository } from '../targets/survey-task.repository';
import type { TaskRow } from '../targets/survey-task.repository';

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
    private readonly tasks: SurveyTaskRepository,
    private readonly records: PersonRecordRepository,
    private readonly reader: PersonReader,
    private readonly decisions: Decisions,
  ) {}

  async list(principal: Principal, q: { division?: string; status?: TargetStatus; limit: number; offset: number }): Promise<{ total: number; items: TaskRow[] }> {
    const within = q.division ?? (principal.kind === 'person' ? principal.division : '');
    assertInDivision(principal, within);
    return this.tasks.list(this.dataSource.manager, { within, status: q.status, limit: q.limit, offset: q.offset });
  }

  async get(principal: Principal, taskId: string): Promise<TaskRow> {
    const task = await this.tasks.find(this.dataSource.manager, taskId);
    if (!task) throw new DomainError('NOT_FOUND', `survey task ${taskId} not found`);
    assertInDivision(principal, task.villageCode);
    return task;
  }

  /** Survey tasking's view of one person: the record and their targets (audited read). */
  async person(principal: Principal, personKey: string): Promise<{ record: RegistrationRecord; tasks: TaskRow[] }> {
    const record = await this.reader.read(principal, personKey, 'survey:view');
    return { record, tasks: await this.tasks.forPerson(this.dataSource.manager, record.personKey) };
  }

  /**
   * A surveyor submits the registration form for a task. Serialised per task by a row lock; a retry
   * with the same Idempotency-Key returns the first result instead of submitting twice.
   */
  async submit(principal: Principal, taskId: string, form: CollectedForm, idempotencyKey: string | undefined): Promise<SubmissionResult> {
    if (principal.kind !== 'person') throw new DomainError('FORBIDDEN', 'forms are submitted by surveyors');
    const submissionId = deterministicId('survey', 'submission', taskId, idempotencyKey ?? newId());
    return this.dataSource.transaction(async (manager) => {
      const task = await this.tasks.find(manager, taskId, true);
      if (!task) throw new DomainError('NOT_FOUND', `survey task ${taskId} not found`);
      assertInDivision(principal, task.villageCode);
      if (task.submissionId === submissionId) {
        return { taskId, submissionId, eventId: deterministicId('survey', 'form-submitted', submissionId), status: 'submitted' };
      }
      const record = await this.records.find(manager, task.personKey);
      const [event] = decide(
        {
          kind: 'submit-form',
          submissionId,
          visitId: submissionId,
          request: { kind: 'registration-form', fields: formFields(form), evidence: [], unknown: [] },
          household: { members: [] },
          surveyor: { id: principal.sub, actor: actorOf(principal) },
          correlationId: newId(),
          basedOnVersion: record?.version ?? null,
          now: new Date().toISOString(),
        },
        task,
      );
      if (!event) throw new Error('a submission decides one event');
      await this.decisions.commit(manager, [event]);
      return { taskId, submissionId, eventId: event.eventId, status: 'submitted' };
    });
  }
}
