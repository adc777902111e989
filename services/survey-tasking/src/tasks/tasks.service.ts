import { Injectable } from '@nestjs/common';
import { actorOf, assertInDivision, inDivision } from '@qmcb/auth';
import type { PersonPrincipal, Principal } from '@qmcb/auth';
import { newId } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { normaliseCitizenId, personKeyFor } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { AuditService, DomainError } from '@qmcb/platform';
import { Decisions, PersonReader, PersonRecordRepository, RegionPolicyProvider } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { AssignmentRepository } from '../assignments/assignment.repository';
import type { AssignmentRow } from '../assignments/assignment.repository';
import { SurveyLocks } from '../assignments/survey-locks';
import type { FormContext, HouseholdMember } from '../forms/form-completeness';
import { HouseholdMemberRepository } from '../households/household-member.repository';
import type { MemberRow } from '../households/household-member.repository';
import { decide, formEventId, foundTaskId, visitEventId } from '../targets/survey-target.decider';
import type { TargetStatus } from '../targets/survey-target.decider';
import { SurveyTaskRepository, targetOf } from '../targets/survey-task.repository';
import type { Snapshot, TaskRow } from '../targets/survey-task.repository';
import { SurveyVisitRepository } from '../visits/survey-visit.repository';
import type { FoundPersonDto, SubmissionDto, VisitDto } from './tasks.dto';
import { taskView, withPersonIds } from './task-view';
import type { Public, TaskView } from './task-view';

export const TASK_NOT_FOUND = 'survey task not found';
const SERVICE = 'survey-tasking';
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export interface SubmissionResult {
  taskId: string;
  submissionId: string;
  visitId: string;
  eventId: string;
  status: 'submitted';
}

export interface VisitResult {
  taskId: string;
  visitId: string;
  outcome: VisitDto['outcome'];
  eventId: string;
  status: TargetStatus;
}

export interface FoundResult extends SubmissionResult {
  personKey: string;
  householdKey: string;
  foundInTaskId: string;
}

/** Survey tasking's view of one person. */
export interface SurveyPerson {
  personId: string;
  record: RegistrationRecord;
  tasks: Public<TaskView>[];
}

/** A household as the surveyor sees it at the door: its members, each with their own target if they have one. */
export interface HouseholdView {
  householdKey: string;
  householdNo: string | null;
  villageCode: string;
  members: (MemberRow & { taskId: string | null; status: TargetStatus | null })[];
}

export interface TaskDetail extends TaskView {
  household: HouseholdView;
  assignments: AssignmentRow[];
}

export interface FeedPage {
  /** Targets of the surveyor written since the cursor (new, changed, reassigned to them). */
  targets: TaskView[];
  /** The households of those targets, with every member. */
  households: HouseholdView[];
  /** Targets no longer theirs (given to someone else, or deleted by a person's erasure): task IDs only; drop them from the device. */
  removed: string[];
  /** Pass as `since` next time; while `more` is true, at once for the next page. */
  next: string;
  more: boolean;
}

const STATUS_AFTER: Record<VisitDto['outcome'], TargetStatus> = { refused: 'refused', 'nobody-home': 'revisit', away: 'away', 'moved-out': 'moved-out', deceased: 'death-claimed', 'not-found': 'not-found' };

/** JSON with object keys sorted: what "the same request" means for a retry. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/**
 * Where a download stands: the snapshot whose unseen writes it brings (`from`), its position within
 * this download (`at`), and while paging, the snapshot taken at its first page (`next`), which the
 * last page hands on as the next download's `from`.
 */
interface Cursor {
  from: Snapshot;
  at: { xid: string; taskId: string };
  next: Snapshot | null;
}

/** At most this many transactions in progress are carried in a cursor; more, and it falls back to the oldest of them (some targets come twice). */
const MAX_IN_PROGRESS = 50;

function compact(s: Snapshot): Snapshot {
  return s.xip.length <= MAX_IN_PROGRESS ? s : { xmax: s.xip[0] as string, xip: [] };
}

function encodeCursor(c: Cursor): string {
  const snap = (s: Snapshot | null): unknown => (s ? [s.xmax, s.xip] : null);
  return Buffer.from(JSON.stringify([snap(c.from), c.at.xid, c.at.taskId, snap(c.next)])).toString('base64url');
}

function decodeCursor(since: string): Cursor {
  const xid = (v: unknown): v is string => typeof v === 'string' && /^\d{1,20}$/.test(v);
  const snap = (v: unknown): Snapshot | null | undefined => {
    if (v === null) return null;
    if (!Array.isArray(v) || !xid(v[0]) || !Array.isArray(v[1]) || v[1].length > MAX_IN_PROGRESS || !v[1].every(xid)) return undefined;
    return { xmax: v[0], xip: v[1] };
  };
  try {
    const [from, atXid, atTask, next] = JSON.parse(Buffer.from(since, 'base64url').toString('utf8')) as unknown[];
    const f = snap(from);
    const n = snap(next);
    if (f && n !== undefined && xid(atXid) && typeof atTask === 'string' && /^[0-9a-f-]{36}$/.test(atTask)) return { from: f, at: { xid: atXid, taskId: atTask }, next: n };
  } catch {
    // reported below
  }
  throw new DomainError('VALIDATION_FAILED', 'since is not a cursor of this endpoint', { violations: [{ field: 'since', rule: 'cursor', message: 'since must be a cursor returned by GET /my/targets' }] });
}

/** The surveyor's side of survey tasking and the target views of supervisors. */
@Injectable()
export class TasksService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tasks: SurveyTaskRepository,
    private readonly visits: SurveyVisitRepository,
    private readonly members: HouseholdMemberRepository,
    private readonly assignments: AssignmentRepository,
    private readonly records: PersonRecordRepository,
    private readonly reader: PersonReader,
    private readonly audit: AuditService,
    private readonly decisions: Decisions,
    private readonly policies: RegionPolicyProvider,
    private readonly locks: SurveyLocks,
  ) {}

  /** A surveyor sees their own targets only; everyone else those in their division. Anything else does not exist for them (404). */
  private visible(principal: Principal, task: TaskRow | null): TaskRow {
    if (!task) throw new DomainError('NOT_FOUND', TASK_NOT_FOUND);
    assertInDivision(principal, task.villageCode, TASK_NOT_FOUND);
    if (principal.kind === 'person' && principal.role === 'surveyor' && task.responsibleId !== principal.sub) throw new DomainError('NOT_FOUND', TASK_NOT_FOUND);
    return task;
  }

  private surveyor(principal: Principal): PersonPrincipal {
    if (principal.kind !== 'person' || principal.role !== 'surveyor') throw new DomainError('FORBIDDEN', 'visits and forms are recorded by surveyors');
    return principal;
  }

  async list(principal: Principal, q: { division?: string; status?: TargetStatus; campaignId?: string; limit: number; offset: number }): Promise<{ total: number; items: TaskView[] }> {
    const within = q.division ?? (principal.kind === 'person' ? principal.division : '');
    assertInDivision(principal, within);
    const responsibleId = principal.kind === 'person' && principal.role === 'surveyor' ? principal.sub : undefined;
    const page = await this.tasks.list(this.dataSource.manager, { within, status: q.status, campaignId: q.campaignId, responsibleId, limit: q.limit, offset: q.offset });
    if (principal.kind === 'person') await this.audit.recordReads({ principal, service: SERVICE, purpose: 'survey:list' }, page.items.map((t) => t.personKey));
    return { total: page.total, items: page.items.map(taskView) };
  }

  async get(principal: Principal, taskId: string): Promise<TaskDetail> {
    const manager = this.dataSource.manager;
    const task = this.visible(principal, await this.tasks.find(manager, taskId));
    const [household] = await this.householdViews(manager, [task]);
    const assignments = await this.assignments.ofTask(manager, taskId);
    if (principal.kind === 'person') {
      await this.audit.recordReads({ principal, service: SERVICE, purpose: 'survey:task' }, [task.personKey, ...(household?.members ?? []).map((m) => m.personKey).filter((k) => k !== task.personKey)]);
    }
    return { ...taskView(task), household: household as HouseholdView, assignments };
  }

  async assignmentHistory(principal: Principal, taskId: string): Promise<AssignmentRow[]> {
    this.visible(principal, await this.tasks.find(this.dataSource.manager, taskId));
    return this.assignments.ofTask(this.dataSource.manager, taskId);
  }

  /** Survey tasking's view of one person: the record and their targets (audited read). A surveyor reads only the people they are sent to. */
  async person(principal: Principal, who: { personId: string } | { citizenId: string }): Promise<SurveyPerson> {
    const surveyor = principal.kind === 'person' && principal.role === 'surveyor' ? principal.sub : null;
    if (surveyor !== null) {
      const key = 'personId' in who ? this.reader.keyOf(who.personId) : personKeyFor(who.citizenId);
      const theirs = key !== undefined && (await this.tasks.forPerson(this.dataSource.manager, key)).some((t) => t.responsibleId === surveyor);
      if (!theirs) {
        if (key) this.audit.concerns([key]);
        throw new DomainError('NOT_FOUND', 'no such person');
      }
    }
    const record = 'personId' in who ? await this.reader.read(principal, who.personId) : await this.reader.lookup(principal, who.citizenId);
    const tasks = await this.tasks.forPerson(this.dataSource.manager, record.personKey);
    const mine = surveyor !== null ? tasks.filter((t) => t.responsibleId === surveyor) : tasks;
    return { personId: this.reader.personIdOf(record.personKey), record, tasks: withPersonIds(mine.map(taskView), { idOf: (k) => this.reader.personIdOf(k) }) };
  }

  /**
   * A surveyor's download for offline work: their targets written since the cursor, with their
   * households, and the targets taken from them, a page at a time. The cursor holds the PostgreSQL
   * snapshot the last download saw (ADR 0006): whatever a transaction it did not see wrote comes in the
   * next one, however late that transaction commits; nothing written is missed.
   */
  async feed(principal: Principal, q: { since?: string; limit: number }): Promise<FeedPage> {
    const me = this.surveyor(principal);
    const manager = this.dataSource.manager;
    const start = { xid: '0', taskId: ZERO_UUID };
    const cursor: Cursor = q.since ? decodeCursor(q.since) : { from: { xmax: '0', xip: [] }, at: start, next: null };
    // What this download will have seen once drained: taken before its first page is read.
    const seen = cursor.next ?? compact(await this.tasks.snapshot(manager));
    const entries = await this.tasks.feed(manager, me.sub, cursor.from, cursor.at, q.limit + 1);
    const more = entries.length > q.limit;
    const page = entries.slice(0, q.limit);
    const last = page[page.length - 1];
    const next = encodeCursor(more && last ? { from: cursor.from, at: { xid: last.xid, taskId: last.taskId }, next: seen } : { from: seen, at: start, next: null });
    const targetIds = page.filter((e) => e.kind === 'target').map((e) => e.taskId);
    const targets = (await this.tasks.findMany(manager, targetIds)).filter((t) => t.responsibleId === me.sub && inDivision(me.division, t.villageCode));
    const mine = new Set(targets.map((t) => t.taskId));
    const removed = [...new Set(page.filter((e) => e.kind === 'removed' && !mine.has(e.taskId)).map((e) => e.taskId))];
    const households = await this.householdViews(manager, targets);
    const persons = new Set([...targets.map((t) => t.personKey), ...households.flatMap((h) => h.members.map((m) => m.personKey))]);
    await this.audit.recordReads({ principal: me, service: SERVICE, purpose: 'survey:download' }, [...persons]);
    return { targets: targets.map(taskView), households, removed, next, more };
  }

  private async householdViews(manager: EntityManager, targets: readonly TaskRow[]): Promise<HouseholdView[]> {
    const keyOf = (t: TaskRow): string => t.householdKey;
    const keys = [...new Set(targets.map(keyOf))];
    const rows = await this.members.ofHouseholds(manager, keys);
    const targetsOfMembers = await this.tasks.currentOf(manager, rows.map((r) => r.personKey), false);
    const views = new Map<string, HouseholdView>();
    for (const t of targets) {
      const key = keyOf(t);
      if (views.has(key)) continue;
      const person = t.person as Partial<TaskRow['person']>;
      views.set(key, { householdKey: key, householdNo: person.householdNo ?? null, villageCode: t.villageCode, members: [] });
    }
    for (const r of rows) {
      const own = targetsOfMembers.get(r.personKey);
      views.get(r.householdKey)?.members.push({ ...r, taskId: own?.taskId ?? null, status: own?.status ?? null });
    }
    // A one-person household (no 户号) has no member rows: the target's person is its member.
    for (const t of targets) {
      const view = views.get(keyOf(t)) as HouseholdView;
      if (view.members.some((m) => m.personKey === t.personKey)) continue;
      const p = t.person as Partial<TaskRow['person']>;
      view.members.push({
        personKey: t.personKey, householdKey: view.householdKey, villageCode: t.villageCode, householdNo: p.householdNo ?? null, citizenId: p.citizenId ?? null, name: p.name ?? null,
        relation: p.relation ?? null, sex: p.sex ?? null, birthDate: p.birthDate ?? null, hukouStatus: p.hukouStatus ?? null, source: 'household', foundTaskId: null, taskId: t.taskId, status: t.status,
      });
    }
    return [...views.values()];
  }

  /** The household's members as completeness judges them (the target's person always among them). */
  private async formMembers(manager: EntityManager, task: TaskRow, record: RegistrationRecord | null): Promise<{ householdKey: string; members: HouseholdMember[] }> {
    const householdKey = task.householdKey;
    const rows = await this.members.ofHouseholds(manager, [householdKey]);
    const members: HouseholdMember[] = rows.map((r) => ({ personKey: r.personKey, citizenId: r.citizenId, name: r.name, relation: r.relation, source: r.source }));
    if (!members.some((m) => m.personKey === task.personKey)) {
      const citizenId = record?.citizenId ?? (task.personKey.startsWith('X-') ? null : task.personKey);
      members.push({ personKey: task.personKey, citizenId, name: record?.name ?? null, relation: record?.household?.relationToHead ?? null, source: 'household' });
    }
    return { householdKey, members };
  }

  private formContext(task: TaskRow, record: RegistrationRecord | null, personKey: string, reasons: readonly string[], members: HouseholdMember[], now: Date): FormContext {
    return { personKey, record, reasons, members, policy: this.policies.forDivision(task.villageCode), foundPath: `POST /tasks/${task.taskId}/found-persons`, now };
  }

  private replayConflict(what: string): never {
    throw new DomainError('CONFLICT', `this ${what} was already used for another upload: generate a new one`);
  }

  /** A visit without a form. Retry-safe by `visitId`: the same upload answers the same; another body with it is a 409. */
  async recordVisit(principal: Principal, taskId: string, dto: VisitDto): Promise<VisitResult> {
    const me = this.surveyor(principal);
    return this.dataSource.transaction(async (manager) => {
      const locked = await this.tasks.find(manager, taskId, true);
      const visit = { outcome: dto.outcome, visitedAt: dto.visitedAt, reason: dto.reason, revisitOn: dto.revisitOn, whereRegion: dto.whereRegion, whereText: dto.whereText, deathDate: dto.deathDate, evidence: dto.evidence ?? [] };
      const prior = locked ? await this.visits.find(manager, dto.visitId) : null;
      if (prior && prior.surveyorId === me.sub) {
        const { taskId: priorTask, surveyorId, outcome, visitedAt, reason, revisitOn, whereRegion, whereText, deathDate, evidence } = prior.payload as Record<string, unknown>;
        const same = priorTask === taskId && surveyorId === me.sub && canonical({ outcome, visitedAt, reason, revisitOn, whereRegion, whereText, deathDate, evidence }) === canonical(visit);
        if (!same) this.replayConflict('visitId');
        // The same upload again answers as the first time, even if the target has moved on (or to someone else) since.
        return { taskId, visitId: dto.visitId, outcome: dto.outcome, eventId: visitEventId(taskId, dto.visitId), status: STATUS_AFTER[dto.outcome] };
      }
      const task = this.visible(me, locked);
      const record = await this.records.find(manager, task.personKey);
      const events = decide(
        { kind: 'record-visit', visitId: dto.visitId, visit, surveyor: { id: me.sub, actor: actorOf(me) }, correlationId: newId(), basedOnVersion: record?.version ?? null, now: new Date().toISOString() },
        targetOf(task),
      );
      await this.decisions.commit(manager, events);
      return { taskId, visitId: dto.visitId, outcome: dto.outcome, eventId: (events[0] as RegistrationEvent).eventId, status: STATUS_AFTER[dto.outcome] };
    });
  }

  /** The registration form of a visit, complete (三不漏) or refused field by field. Retry-safe by `submissionId`. */
  async submit(principal: Principal, taskId: string, dto: SubmissionDto): Promise<SubmissionResult> {
    const me = this.surveyor(principal);
    return this.dataSource.transaction(async (manager) => {
      const locked = await this.tasks.find(manager, taskId, true);
      const replay = locked ? await this.replayedForm(manager, dto, taskId, me.sub) : null;
      if (replay) return replay;
      const task = this.visible(me, locked);
      const record = await this.records.find(manager, task.personKey);
      const { members } = await this.formMembers(manager, task, record);
      const events = decide(
        {
          kind: 'submit-form',
          submissionId: dto.submissionId,
          visitId: dto.visitId,
          visitedAt: dto.visitedAt,
          request: plain(dto.request),
          household: plain(dto.household),
          surveyor: { id: me.sub, actor: actorOf(me) },
          correlationId: newId(),
          basedOnVersion: record?.version ?? null,
          now: new Date().toISOString(),
          form: this.formContext(task, record, task.personKey, task.reasons, members, new Date()),
        },
        targetOf(task),
      );
      await this.decisions.commit(manager, events);
      return { taskId, submissionId: dto.submissionId, visitId: dto.visitId, eventId: (events[0] as RegistrationEvent).eventId, status: 'submitted' };
    });
  }

  private async replayedForm(manager: EntityManager, dto: SubmissionDto, taskId: string, surveyorId: string): Promise<SubmissionResult | null> {
    const prior = await this.visits.find(manager, dto.submissionId);
    // Someone else's upload is none of this surveyor's business: the target decides (404 if not theirs).
    if (!prior || prior.surveyorId !== surveyorId) return null;
    const p = prior.payload as Record<string, unknown>;
    const same = p['taskId'] === taskId && p['surveyorId'] === surveyorId && canonical([p['visitId'], p['visitedAt'], p['request'], p['household']]) === canonical([dto.visitId, dto.visitedAt, plain(dto.request), plain(dto.household)]);
    if (!same) this.replayConflict('submissionId');
    return { taskId, submissionId: dto.submissionId, visitId: dto.visitId, eventId: formEventId(dto.submissionId), status: 'submitted' };
  }

  /**
   * Someone met at the household who was not on the list (§18): a target of their own, linked to the
   * household, given to the surveyor who found them, with their form (which review approves like any
   * other, and comparison then compares them: an approved form makes the person ours to compare).
   */
  async found(principal: Principal, taskId: string, dto: FoundPersonDto): Promise<FoundResult> {
    const me = this.surveyor(principal);
    const personKey = personKeyFor(dto.citizenId);
    const newTask = foundTaskId(dto.submissionId);
    return this.dataSource.transaction(async (manager) => {
      const foundIn = this.visible(me, await this.tasks.find(manager, taskId, true));
      const householdKey = foundIn.householdKey;
      const replay = await this.replayedForm(manager, dto, newTask, me.sub);
      if (replay) return { ...replay, personKey, householdKey, foundInTaskId: taskId };
      await this.locks.person(manager, personKey);
      const foundInRecord = await this.records.find(manager, foundIn.personKey);
      const { members } = await this.formMembers(manager, foundIn, foundInRecord);
      const registered = members.find((m) => m.personKey === personKey);
      if (registered) {
        throw new DomainError('CONFLICT', `${dto.name} is already a member of this household (${registered.relation ?? 'relation unknown'}): account for them in household.members`);
      }
      const current = (await this.tasks.currentOf(manager, [personKey])).get(personKey) ?? null;
      const record = await this.records.find(manager, personKey);
      const withFound: HouseholdMember[] = [...members, { personKey, citizenId: normaliseCitizenId(dto.citizenId), name: dto.name, relation: dto.relation, source: 'found' }];
      const events = decide(
        {
          kind: 'found-person',
          submissionId: dto.submissionId,
          visitId: dto.visitId,
          visitedAt: dto.visitedAt,
          foundIn: { taskId: foundIn.taskId, villageCode: foundIn.villageCode, campaignId: foundIn.campaignId, teamId: foundIn.teamId },
          personKey,
          name: dto.name,
          relation: dto.relation,
          householdKey,
          request: plain(dto.request),
          household: plain(dto.household),
          surveyor: { id: me.sub, actor: actorOf(me) },
          correlationId: newId(),
          basedOnVersion: record?.version ?? null,
          now: new Date().toISOString(),
          form: this.formContext(foundIn, record, personKey, ['FOUND_ON_SITE'], withFound, new Date()),
        },
        current ? targetOf(current) : null,
      );
      await this.decisions.commit(manager, events);
      return { taskId: newTask, submissionId: dto.submissionId, visitId: dto.visitId, eventId: formEventId(dto.submissionId), status: 'submitted', personKey, householdKey, foundInTaskId: taskId };
    });
  }
}

/** A DTO as the plain JSON the event carries (class instances and absent optionals dropped). */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
