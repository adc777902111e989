import {
  REVIEW_CLOSED,
  REVIEW_FINAL_APPROVED,
  REVIEW_INITIAL_APPROVED,
  REVIEW_REJECTED,
  REVIEW_RETURNED,
  SURVEY_FORM_SUBMITTED,
  SURVEY_TASK_CLOSED,
  SURVEY_TASK_CREATED,
  SURVEY_TASK_REOPENED,
  causedBy,
  deterministicId,
  newEvent,
} from '@qmcb/contracts';
import type { ChangeRequest, EventOf, HouseholdReport, OUTCOME_DETERMINED, RegistrationEvent } from '@qmcb/contracts';
import { SURVEY_STATUSES, surveyVillage } from '@qmcb/domain';
import type { RegionPolicy, RegistrationRecord, SurveyStatus } from '@qmcb/domain';
import { DomainError } from '@qmcb/platform';

/**
 * A survey target (调查对象, procedure §17-§19): one person to visit in one village, from "needs
 * survey" to an approved form. Its state is the fold of its events (evolve); what happens to it is
 * decided by `decide`, a pure function of a command and the state, used by the log path (a new
 * outcome) and the HTTP path (a surveyor's submission) alike.
 */
export const TARGET_STATUSES = SURVEY_STATUSES;
export type TargetStatus = SurveyStatus;

export interface SurveyTarget {
  taskId: string;
  personKey: string;
  villageCode: string;
  status: TargetStatus;
  /** Reason codes the person is a target for. */
  reasons: string[];
  submissionId: string | null;
  surveyorId: string | null;
  returnReason: string | null;
  /** Why it closed before its visit (e.g. OUTCOME_REGISTERED); null unless closed. */
  closedReason: string | null;
  createdAt: string;
  updatedAt: string;
  /** Number of changes; a client sends it back to show what it saw. */
  version: number;
}

export const SURVEY_SERVICE = 'svc:survey-tasking';

type OutcomeEvent = EventOf<typeof OUTCOME_DETERMINED>;

/** The events of the target's lifecycle. */
export type TargetEvent = Extract<
  RegistrationEvent,
  {
    type:
      | typeof SURVEY_TASK_CREATED
      | typeof SURVEY_TASK_CLOSED
      | typeof SURVEY_TASK_REOPENED
      | typeof SURVEY_FORM_SUBMITTED
      | typeof REVIEW_INITIAL_APPROVED
      | typeof REVIEW_FINAL_APPROVED
      | typeof REVIEW_RETURNED
      | typeof REVIEW_REJECTED
      | typeof REVIEW_CLOSED;
  }
>;

/** A person's comparison outcome changed: the target opens, closes or reopens accordingly. */
export interface FollowOutcome {
  kind: 'follow-outcome';
  outcome: OutcomeEvent;
  /** The person's record right after the outcome. */
  record: RegistrationRecord;
  policy: Pick<RegionPolicy, 'surveyBy'>;
  /** When the decision is taken. */
  now: string;
}

/** A surveyor submits the registration form (全民参保登记表) for the target. */
export interface SubmitForm {
  kind: 'submit-form';
  submissionId: string;
  /** The visit the form was collected at. */
  visitId: string;
  request: ChangeRequest;
  household: HouseholdReport;
  surveyor: { id: string; actor: string };
  correlationId: string;
  /** The person's record version the surveyor's form is based on. */
  basedOnVersion: number | null;
  now: string;
}

export type SurveyCommand = FollowOutcome | SubmitForm;

/** Statuses in which a target has not been (successfully) visited: an outcome elsewhere closes it. */
const NOT_VISITED: readonly TargetStatus[] = ['open', 'returned'];
/** Statuses that take a submission. */
const SUBMITTABLE: readonly TargetStatus[] = ['open', 'returned'];

export function decide(command: SurveyCommand, target: SurveyTarget | null): RegistrationEvent[] {
  switch (command.kind) {
    case 'follow-outcome':
      return followOutcome(command, target);
    case 'submit-form':
      return submitForm(command, target);
  }
}

function followOutcome(c: FollowOutcome, target: SurveyTarget | null): RegistrationEvent[] {
  const { outcome, record } = c;
  const origin = causedBy(outcome, SURVEY_SERVICE, c.now, record.version);
  if (outcome.payload.outcome === 'needs-survey') {
    const reasons = outcome.payload.reasons.map((r) => r.code);
    if (target === null || target.status === 'approved') {
      // A new target in the person's survey village; none where no village is known (nobody could visit).
      const villageCode = surveyVillage(record, c.policy);
      if (villageCode === null) return [];
      const taskId = deterministicId('survey', 'task', outcome.eventId);
      return [newEvent(SURVEY_TASK_CREATED, deterministicId('survey', 'task-created', outcome.eventId), outcome.personKey, { taskId, villageCode, reasons }, origin)];
    }
    if (target.status === 'closed') {
      return [newEvent(SURVEY_TASK_REOPENED, deterministicId('survey', 'task-reopened', outcome.eventId), outcome.personKey, { taskId: target.taskId, reasons }, origin)];
    }
    return [];
  }
  if (target !== null && NOT_VISITED.includes(target.status)) {
    const reason = `OUTCOME_${outcome.payload.outcome.toUpperCase().replace(/-/g, '_')}`;
    return [newEvent(SURVEY_TASK_CLOSED, deterministicId('survey', 'task-closed', outcome.eventId), outcome.personKey, { taskId: target.taskId, reason }, origin)];
  }
  return [];
}

function submitForm(c: SubmitForm, target: SurveyTarget | null): RegistrationEvent[] {
  if (target === null) throw new DomainError('NOT_FOUND', 'survey task not found');
  if (!SUBMITTABLE.includes(target.status)) {
    throw new DomainError('CONFLICT', `survey task ${target.taskId} is ${target.status}; only an open or returned task takes a submission`);
  }
  return [
    newEvent(
      SURVEY_FORM_SUBMITTED,
      deterministicId('survey', 'form-submitted', c.submissionId),
      target.personKey,
      { taskId: target.taskId, submissionId: c.submissionId, visitId: c.visitId, surveyorId: c.surveyor.id, request: c.request, household: c.household },
      { source: SURVEY_SERVICE, actor: c.surveyor.actor, occurredAt: c.now, correlationId: c.correlationId, basedOnVersion: c.basedOnVersion },
    ),
  ];
}

export function isTargetEvent(event: RegistrationEvent): event is TargetEvent {
  switch (event.type) {
    case SURVEY_TASK_CREATED:
    case SURVEY_TASK_CLOSED:
    case SURVEY_TASK_REOPENED:
    case SURVEY_FORM_SUBMITTED:
    case REVIEW_INITIAL_APPROVED:
    case REVIEW_FINAL_APPROVED:
    case REVIEW_RETURNED:
    case REVIEW_REJECTED:
    case REVIEW_CLOSED:
      return true;
    default:
      return false;
  }
}

function changed(target: SurveyTarget, at: string, patch: Partial<SurveyTarget>): SurveyTarget {
  return { ...target, ...patch, updatedAt: at, version: target.version + 1 };
}

/**
 * The target after one of its events; `target` is the person's current target (or null). Events of
 * another target or submission leave it as it is. Pure.
 */
export function evolve(target: SurveyTarget | null, event: RegistrationEvent): SurveyTarget | null {
  if (!isTargetEvent(event)) return target;
  const at = event.occurredAt;
  switch (event.type) {
    case SURVEY_TASK_CREATED: {
      const { taskId, villageCode, reasons } = event.payload;
      if (target?.taskId === taskId) return target;
      return {
        taskId,
        personKey: event.personKey,
        villageCode,
        status: 'open',
        reasons: [...reasons],
        submissionId: null,
        surveyorId: null,
        returnReason: null,
        closedReason: null,
        createdAt: at,
        updatedAt: at,
        version: 1,
      };
    }
    case SURVEY_TASK_CLOSED:
      return target?.taskId === event.payload.taskId ? changed(target, at, { status: 'closed', closedReason: event.payload.reason }) : target;
    case SURVEY_TASK_REOPENED:
      return target?.taskId === event.payload.taskId ? changed(target, at, { status: 'open', reasons: [...event.payload.reasons], closedReason: null }) : target;
    case SURVEY_FORM_SUBMITTED: {
      const { taskId, submissionId, surveyorId } = event.payload;
      return target?.taskId === taskId ? changed(target, at, { status: 'submitted', submissionId, surveyorId, returnReason: null }) : target;
    }
    case REVIEW_INITIAL_APPROVED:
      return target?.submissionId === event.payload.submissionId ? changed(target, at, { status: 'initial-approved' }) : target;
    case REVIEW_FINAL_APPROVED:
      return target?.submissionId === event.payload.submissionId
        ? changed(target, at, { status: event.payload.request.kind === 'death-claim' ? 'deceased' : 'approved' })
        : target;
    case REVIEW_REJECTED:
    case REVIEW_CLOSED:
      // A submission rejected or withdrawn leaves its target to be visited again.
      return target?.submissionId === event.payload.submissionId ? changed(target, at, { status: 'open' }) : target;
    case REVIEW_RETURNED:
      return target?.submissionId === event.payload.submissionId ? changed(target, at, { status: 'returned', returnReason: event.payload.reason }) : target;
  }
}
