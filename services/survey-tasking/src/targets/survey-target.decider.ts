import {
  REVIEW_CLOSED,
  REVIEW_FINAL_APPROVED,
  REVIEW_INITIAL_APPROVED,
  REVIEW_REJECTED,
  REVIEW_RETURNED,
  SURVEY_FORM_SUBMITTED,
  SURVEY_PERSON_FOUND,
  SURVEY_TARGET_ASSIGNED,
  SURVEY_TASK_CLOSED,
  SURVEY_TASK_CREATED,
  SURVEY_TASK_REOPENED,
  SURVEY_VISIT_RECORDED,
  causedBy,
  deterministicId,
  newEvent,
} from '@qmcb/contracts';
import type { ChangeRequest, EventOf, EventOrigin, HouseholdReport, OUTCOME_DETERMINED, RegistrationEvent, TargetAssignmentMode, VisitOutcome } from '@qmcb/contracts';
import { SURVEY_STATUSES, maskCitizenId, surveyVillage } from '@qmcb/domain';
import type { RegionPolicy, RegistrationRecord, SurveyStatus } from '@qmcb/domain';
import { DomainError } from '@qmcb/platform';
import { formViolations, visitViolations } from '../forms/form-completeness';
import type { FormContext, VisitDetails } from '../forms/form-completeness';

/**
 * A survey target (调查对象, procedure §17-§19): one person to visit in one village, from "needs
 * survey" through visits and review to an approved form (or closed another way). Its state is the
 * fold of its events (evolve, which agrees with the record's `survey.status` in libs/domain); what
 * happens to it is decided by `decide`, a pure function of a command and the state, used by the log
 * path (a new outcome, a new target to give a surveyor) and the HTTP path (assignments, visits,
 * forms, people found on site) alike.
 */
export const TARGET_STATUSES = SURVEY_STATUSES;
export type TargetStatus = SurveyStatus;

export const TARGET_ORIGINS = ['comparison', 'found-on-site'] as const;
export type TargetOrigin = (typeof TARGET_ORIGINS)[number];

/** Statuses that still wait for a visit (or another one): a surveyor may record a visit or submit a form. */
export const VISITABLE: readonly TargetStatus[] = ['open', 'revisit', 'returned', 'refused', 'away', 'moved-out', 'not-found'];
/** Statuses whose work is with review. */
export const IN_REVIEW: readonly TargetStatus[] = ['submitted', 'initial-approved', 'death-claimed'];
/** Closed out one by one (逐一销号): approved, deceased, or closed because the person no longer needs a survey. */
export const FINISHED: readonly TargetStatus[] = ['approved', 'deceased', 'closed'];
/** Still the surveyor's to do: overdue when the campaign's deadline (or a planned revisit) has passed. */
export const TO_DO: readonly TargetStatus[] = ['open', 'revisit', 'returned'];

export interface SurveyTarget {
  taskId: string;
  personKey: string;
  villageCode: string;
  origin: TargetOrigin;
  status: TargetStatus;
  /** Reason codes the person is a target for. */
  reasons: string[];
  /** The submission (or visit) the status follows; null before the first one. */
  submissionId: string | null;
  /** Who submitted the last form or recorded the last visit. */
  surveyorId: string | null;
  /** The campaign, team and named surveyor responsible (责任人); null until assigned. */
  campaignId: string | null;
  teamId: string | null;
  responsibleId: string | null;
  assignedAt: string | null;
  visits: number;
  lastVisitId: string | null;
  lastOutcome: VisitOutcome | null;
  lastVisitAt: string | null;
  /** Nobody home: the planned revisit (YYYY-MM-DD). */
  revisitOn: string | null;
  /** Away or moved out: where, as a county code and in words. */
  whereRegion: string | null;
  whereText: string | null;
  /** The visit's remark: why they refuse, what the neighbours said. */
  visitNote: string | null;
  returnReason: string | null;
  fieldsToFix: string[];
  /** Why it closed before its visit (e.g. OUTCOME_REGISTERED); null unless closed. */
  closedReason: string | null;
  /** When it was closed out (approved, deceased, closed); null while open. */
  finishedAt: string | null;
  /** For a person found on site: the target in whose household they were found. */
  foundInTaskId: string | null;
  createdAt: string;
  updatedAt: string;
  /** Number of changes; a client sends it back to show what it saw. */
  version: number;
}

export const SURVEY_SERVICE = 'svc:survey-tasking';

type OutcomeEvent = EventOf<typeof OUTCOME_DETERMINED>;

export interface Actor {
  id: string;
  /** `user:<sub>` or the service. */
  actor: string;
}

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

/** The target is given to a surveyor of a team (by hand, by the balanced distribution, …). */
export interface AssignTarget {
  kind: 'assign';
  /** Makes the event's ID: a cause's event ID, or a decision's own ID. */
  decisionId: string;
  campaignId: string;
  teamId: string;
  surveyorId: string;
  mode: TargetAssignmentMode;
  reason?: string;
  by: Actor;
  correlationId: string;
  causationId?: string | null;
  now: string;
}

interface SurveyorCommand {
  surveyor: Actor;
  correlationId: string;
  /** The person's record version the surveyor's result is based on. */
  basedOnVersion: number | null;
  now: string;
}

/** A visit without a form: refused, nobody home, away, moved out, deceased, not found. */
export interface RecordVisit extends SurveyorCommand {
  kind: 'record-visit';
  visitId: string;
  visit: VisitDetails;
}

/** The registration form (全民参保登记表) collected at a visit. */
export interface SubmitForm extends SurveyorCommand {
  kind: 'submit-form';
  submissionId: string;
  visitId: string;
  visitedAt?: string;
  request: ChangeRequest;
  household: HouseholdReport;
  /** What completeness is judged against (the record, the household's members, region policy). */
  form: FormContext;
}

/** Someone met at the household who was not on the list (§18), added with their form. */
export interface FoundPerson extends SurveyorCommand {
  kind: 'found-person';
  submissionId: string;
  visitId: string;
  visitedAt?: string;
  /** The target whose household the surveyor was visiting (state: the found person's own current target). */
  foundIn: Pick<SurveyTarget, 'taskId' | 'villageCode' | 'campaignId' | 'teamId'>;
  personKey: string;
  name: string;
  relation: string;
  householdKey: string;
  request: ChangeRequest;
  household: HouseholdReport;
  form: FormContext;
}

export type SurveyCommand = FollowOutcome | AssignTarget | RecordVisit | SubmitForm | FoundPerson;

export function decide(command: SurveyCommand, target: SurveyTarget | null): RegistrationEvent[] {
  switch (command.kind) {
    case 'follow-outcome':
      return followOutcome(command, target);
    case 'assign':
      return assign(command, target);
    case 'record-visit':
      return recordVisit(command, target);
    case 'submit-form':
      return submitForm(command, target);
    case 'found-person':
      return foundPerson(command, target);
  }
}

/** The reason a target closes with when the outcome leaves needs-survey, e.g. OUTCOME_REGISTERED. */
export function closedReasonOf(outcome: string): string {
  return `OUTCOME_${outcome.toUpperCase().replace(/-/g, '_')}`;
}

function followOutcome(c: FollowOutcome, target: SurveyTarget | null): RegistrationEvent[] {
  const { outcome, record } = c;
  const origin = causedBy(outcome, SURVEY_SERVICE, c.now, record.version);
  if (outcome.payload.outcome === 'needs-survey') {
    const reasons = outcome.payload.reasons.map((r) => r.code);
    if (target === null || target.status === 'approved' || target.status === 'deceased') {
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
  // Not collected yet (no form in review or approved): the person no longer needs the visit.
  if (target !== null && VISITABLE.includes(target.status)) {
    const reason = closedReasonOf(outcome.payload.outcome);
    return [newEvent(SURVEY_TASK_CLOSED, deterministicId('survey', 'task-closed', outcome.eventId), outcome.personKey, { taskId: target.taskId, reason }, origin)];
  }
  return [];
}

function assign(c: AssignTarget, target: SurveyTarget | null): RegistrationEvent[] {
  if (target === null) throw new DomainError('NOT_FOUND', 'survey task not found');
  if (FINISHED.includes(target.status)) throw new DomainError('CONFLICT', `survey task ${target.taskId} is ${target.status}: it is closed out and takes no surveyor`);
  if (target.responsibleId === c.surveyorId && target.teamId === c.teamId && target.campaignId === c.campaignId) return [];
  return [
    newEvent(
      SURVEY_TARGET_ASSIGNED,
      deterministicId('survey', 'target-assigned', target.taskId, c.decisionId),
      target.personKey,
      {
        taskId: target.taskId,
        campaignId: c.campaignId,
        teamId: c.teamId,
        surveyorId: c.surveyorId,
        previousSurveyorId: target.responsibleId,
        mode: c.mode,
        ...(c.reason ? { reason: c.reason } : {}),
        assignedBy: c.by.actor,
      },
      { source: SURVEY_SERVICE, actor: c.by.actor, occurredAt: c.now, correlationId: c.correlationId, causationId: c.causationId ?? null },
    ),
  ];
}

/** Only the target's responsible surveyor visits it; to anyone else it does not exist. */
function visitable(target: SurveyTarget | null, surveyor: Actor): SurveyTarget {
  if (target === null || target.responsibleId !== surveyor.id) throw new DomainError('NOT_FOUND', 'survey task not found');
  if (!VISITABLE.includes(target.status)) {
    throw new DomainError('CONFLICT', `survey task ${target.taskId} is ${target.status}; only a task waiting for a visit (${VISITABLE.join(', ')}) takes one`);
  }
  return target;
}

function origin(c: SurveyorCommand): EventOrigin {
  return { source: SURVEY_SERVICE, actor: c.surveyor.actor, occurredAt: c.now, correlationId: c.correlationId, basedOnVersion: c.basedOnVersion };
}

function refuse(what: string, violations: ReturnType<typeof formViolations>): never {
  throw new DomainError('VALIDATION_FAILED', `${what}: ${violations.length} item${violations.length === 1 ? '' : 's'} missing or wrong`, { violations });
}

function recordVisit(c: RecordVisit, state: SurveyTarget | null): RegistrationEvent[] {
  const target = visitable(state, c.surveyor);
  const violations = visitViolations(c.visit, new Date(c.now));
  if (violations.length > 0) refuse(`the ${c.visit.outcome} visit is incomplete`, violations);
  const v = c.visit;
  return [
    newEvent(
      SURVEY_VISIT_RECORDED,
      visitEventId(target.taskId, c.visitId),
      target.personKey,
      {
        taskId: target.taskId,
        visitId: c.visitId,
        surveyorId: c.surveyor.id,
        outcome: v.outcome,
        visitedAt: v.visitedAt,
        ...(v.reason !== undefined ? { reason: v.reason } : {}),
        ...(v.revisitOn !== undefined ? { revisitOn: v.revisitOn } : {}),
        ...(v.whereRegion !== undefined ? { whereRegion: v.whereRegion } : {}),
        ...(v.whereText !== undefined ? { whereText: v.whereText } : {}),
        ...(v.deathDate !== undefined ? { deathDate: v.deathDate } : {}),
        evidence: v.evidence.map((e) => ({ ...e })) as EventOf<typeof SURVEY_VISIT_RECORDED>['payload']['evidence'],
      },
      origin(c),
    ),
  ];
}

function formEvent(c: SubmitForm | FoundPerson, taskId: string, personKey: string): RegistrationEvent {
  return newEvent(
    SURVEY_FORM_SUBMITTED,
    formEventId(c.submissionId),
    personKey,
    {
      taskId,
      submissionId: c.submissionId,
      visitId: c.visitId,
      surveyorId: c.surveyor.id,
      request: c.request,
      household: c.household,
      ...(c.visitedAt !== undefined ? { visitedAt: c.visitedAt } : {}),
    },
    origin(c),
  );
}

function submitForm(c: SubmitForm, state: SurveyTarget | null): RegistrationEvent[] {
  const target = visitable(state, c.surveyor);
  const violations = formViolations(c.request, c.household, c.form);
  if (violations.length > 0) refuse('the registration form is incomplete', violations);
  return [formEvent(c, target.taskId, target.personKey)];
}

export function visitEventId(taskId: string, visitId: string): string {
  return deterministicId('survey', 'visit-recorded', taskId, visitId);
}

export function formEventId(submissionId: string): string {
  return deterministicId('survey', 'form-submitted', submissionId);
}

/** The ID of the target a person found on site gets, from the submission that added them. */
export function foundTaskId(submissionId: string): string {
  return deterministicId('survey', 'task', 'found', submissionId);
}

function foundPerson(c: FoundPerson, current: SurveyTarget | null): RegistrationEvent[] {
  if (current !== null && !FINISHED.includes(current.status)) {
    throw new DomainError('CONFLICT', `${maskCitizenId(c.personKey)} is already survey target ${current.taskId} (${current.status}): submit their form there`);
  }
  if (c.foundIn.campaignId === null || c.foundIn.teamId === null) throw new DomainError('CONFLICT', `survey task ${c.foundIn.taskId} has no campaign team`);
  const violations = formViolations(c.request, c.household, c.form);
  if (violations.length > 0) refuse('the registration form of the person found is incomplete', violations);
  const taskId = foundTaskId(c.submissionId);
  return [
    newEvent(
      SURVEY_PERSON_FOUND,
      deterministicId('survey', 'person-found', c.submissionId),
      c.personKey,
      { taskId, villageCode: c.foundIn.villageCode, householdKey: c.householdKey, relation: c.relation, name: c.name, foundInTaskId: c.foundIn.taskId, visitId: c.visitId, surveyorId: c.surveyor.id },
      origin(c),
    ),
    newEvent(
      SURVEY_TARGET_ASSIGNED,
      deterministicId('survey', 'target-assigned', taskId, c.submissionId),
      c.personKey,
      { taskId, campaignId: c.foundIn.campaignId, teamId: c.foundIn.teamId, surveyorId: c.surveyor.id, previousSurveyorId: null, mode: 'found', assignedBy: c.surveyor.actor },
      origin(c),
    ),
    formEvent(c, taskId, c.personKey),
  ];
}

/** The events of the target's lifecycle (anything else leaves it as it is). */
export type TargetEvent = Extract<
  RegistrationEvent,
  {
    type:
      | typeof SURVEY_TASK_CREATED
      | typeof SURVEY_PERSON_FOUND
      | typeof SURVEY_TASK_CLOSED
      | typeof SURVEY_TASK_REOPENED
      | typeof SURVEY_TARGET_ASSIGNED
      | typeof SURVEY_VISIT_RECORDED
      | typeof SURVEY_FORM_SUBMITTED
      | typeof REVIEW_INITIAL_APPROVED
      | typeof REVIEW_FINAL_APPROVED
      | typeof REVIEW_RETURNED
      | typeof REVIEW_REJECTED
      | typeof REVIEW_CLOSED;
  }
>;

export function isTargetEvent(event: RegistrationEvent): event is TargetEvent {
  switch (event.type) {
    case SURVEY_TASK_CREATED:
    case SURVEY_PERSON_FOUND:
    case SURVEY_TASK_CLOSED:
    case SURVEY_TASK_REOPENED:
    case SURVEY_TARGET_ASSIGNED:
    case SURVEY_VISIT_RECORDED:
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
  const next = { ...target, ...patch, updatedAt: at, version: target.version + 1 };
  const finished = FINISHED.includes(next.status);
  next.finishedAt = finished ? (FINISHED.includes(target.status) ? target.finishedAt : at) : null;
  return next;
}

function opened(event: RegistrationEvent, taskId: string, villageCode: string, reasons: string[], origin: TargetOrigin, foundInTaskId: string | null): SurveyTarget {
  const at = event.occurredAt;
  return {
    taskId,
    personKey: event.personKey,
    villageCode,
    origin,
    status: 'open',
    reasons: [...reasons],
    submissionId: null,
    surveyorId: null,
    campaignId: null,
    teamId: null,
    responsibleId: null,
    assignedAt: null,
    visits: 0,
    lastVisitId: null,
    lastOutcome: null,
    lastVisitAt: null,
    revisitOn: null,
    whereRegion: null,
    whereText: null,
    visitNote: null,
    returnReason: null,
    fieldsToFix: [],
    closedReason: null,
    finishedAt: null,
    foundInTaskId,
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
}

const STATUS_AFTER_VISIT: Record<Exclude<VisitOutcome, 'collected'>, TargetStatus> = {
  refused: 'refused',
  'nobody-home': 'revisit',
  away: 'away',
  'moved-out': 'moved-out',
  deceased: 'death-claimed',
  'not-found': 'not-found',
};

/** A review decision moves the target of its own submission only (as the record's survey does): a window's change does not do the visit. */
function reviewed(target: SurveyTarget | null, submissionId: string): target is SurveyTarget {
  return target !== null && target.submissionId === submissionId;
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
      return target?.taskId === taskId ? target : opened(event, taskId, villageCode, reasons, 'comparison', null);
    }
    case SURVEY_PERSON_FOUND: {
      const { taskId, villageCode, foundInTaskId } = event.payload;
      return target?.taskId === taskId ? target : opened(event, taskId, villageCode, ['FOUND_ON_SITE'], 'found-on-site', foundInTaskId);
    }
    case SURVEY_TASK_CLOSED:
      return target?.taskId === event.payload.taskId ? changed(target, at, { status: 'closed', closedReason: event.payload.reason }) : target;
    case SURVEY_TASK_REOPENED:
      return target?.taskId === event.payload.taskId ? changed(target, at, { status: 'open', reasons: [...event.payload.reasons], closedReason: null }) : target;
    case SURVEY_TARGET_ASSIGNED: {
      const { taskId, campaignId, teamId, surveyorId } = event.payload;
      return target?.taskId === taskId ? changed(target, at, { campaignId, teamId, responsibleId: surveyorId, assignedAt: at }) : target;
    }
    case SURVEY_VISIT_RECORDED: {
      const p = event.payload;
      if (target?.taskId !== p.taskId) return target;
      return changed(target, at, {
        status: STATUS_AFTER_VISIT[p.outcome],
        submissionId: p.visitId,
        surveyorId: p.surveyorId,
        visits: target.visits + 1,
        lastVisitId: p.visitId,
        lastOutcome: p.outcome,
        lastVisitAt: p.visitedAt,
        revisitOn: p.revisitOn ?? null,
        whereRegion: p.whereRegion ?? null,
        whereText: p.whereText ?? null,
        visitNote: p.reason ?? null,
        returnReason: null,
        fieldsToFix: [],
      });
    }
    case SURVEY_FORM_SUBMITTED: {
      const p = event.payload;
      if (target?.taskId !== p.taskId) return target;
      return changed(target, at, {
        status: 'submitted',
        submissionId: p.submissionId,
        surveyorId: p.surveyorId,
        visits: target.visits + 1,
        lastVisitId: p.visitId,
        lastOutcome: 'collected',
        lastVisitAt: p.visitedAt ?? at,
        revisitOn: null,
        whereRegion: null,
        whereText: null,
        visitNote: null,
        returnReason: null,
        fieldsToFix: [],
      });
    }
    case REVIEW_INITIAL_APPROVED:
      return reviewed(target, event.payload.submissionId) ? changed(target, at, { status: 'initial-approved' }) : target;
    case REVIEW_FINAL_APPROVED:
      return reviewed(target, event.payload.submissionId)
        ? changed(target, at, { status: event.payload.request.kind === 'death-claim' ? 'deceased' : 'approved' })
        : target;
    case REVIEW_REJECTED:
    case REVIEW_CLOSED:
      // A submission rejected or withdrawn leaves its target to be visited again.
      return reviewed(target, event.payload.submissionId) ? changed(target, at, { status: 'open' }) : target;
    case REVIEW_RETURNED:
      return reviewed(target, event.payload.submissionId)
        ? changed(target, at, { status: 'returned', returnReason: event.payload.reason, fieldsToFix: [...event.payload.fieldsToFix] })
        : target;
  }
}
