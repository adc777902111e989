import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  OUTCOME_DETERMINED,
  SURVEY_CAMPAIGN_CLOSED,
  SURVEY_CAMPAIGN_OPENED,
  SURVEY_FORM_SUBMITTED,
  SURVEY_PERSON_FOUND,
  SURVEY_TARGET_ASSIGNED,
  SURVEY_TASK_CREATED,
  SURVEY_TASK_REOPENED,
  SURVEY_TEAM_CHANGED,
  SURVEY_TEAM_FORMED,
  SURVEY_VILLAGES_ASSIGNED,
  SURVEY_VISIT_RECORDED,
} from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { isPersonKey } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { deletePersonRows, LogContext, PERSON_ERASURE, PersonKeyColumn, PersonRecordRepository, Projection, REGISTRATION_LOG, RegionPolicyProvider } from '@qmcb/service-kit';
import type { PersonErasedEvent } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';
import { AssignmentRepository } from '../assignments/assignment.repository';
import type { AssignmentRow } from '../assignments/assignment.repository';
import { evolveCampaign, evolveTeam } from '../campaigns/campaign.decider';
import type { Campaign, Team } from '../campaigns/campaign.decider';
import { CampaignRepository } from '../campaigns/campaign.repository';
import { TeamRepository } from '../campaigns/team.repository';
import { VillageTeamRepository } from '../campaigns/village-team.repository';
import { HouseholdMemberRepository } from '../households/household-member.repository';
import type { MemberRow } from '../households/household-member.repository';
import { SURVEY_SERVICE, decide, evolve, FINISHED } from '../targets/survey-target.decider';
import type { SurveyTarget } from '../targets/survey-target.decider';
import { SurveyTaskRepository, targetOf } from '../targets/survey-task.repository';
import type { TaskRow } from '../targets/survey-task.repository';
import { householdKeyOf, personOf } from '../targets/target-person';
import { SurveyVisitRepository } from '../visits/survey-visit.repository';
import type { VisitRow } from '../visits/survey-visit.repository';
import { SurveyLocks } from '../assignments/survey-locks';

/**
 * Survey tasking's projection: the person records; each person's survey target folded from its
 * events; visits, assignments, households; campaigns, teams and the villages given to them (from
 * their organisational streams). A new comparison outcome is a command to the target's decider
 * (open, close or reopen); a new target in a village some team works is given to one of its
 * surveyors at once (so every target has a named one). What is decided is emitted and comes back
 * through this handler as the next batch.
 */
@Projection()
export class SurveyProjection {
  constructor(
    private readonly records: PersonRecordRepository,
    private readonly tasks: SurveyTaskRepository,
    private readonly visits: SurveyVisitRepository,
    private readonly assignments: AssignmentRepository,
    private readonly members: HouseholdMemberRepository,
    private readonly campaigns: CampaignRepository,
    private readonly teams: TeamRepository,
    private readonly villageTeams: VillageTeamRepository,
    private readonly locks: SurveyLocks,
    private readonly policies: RegionPolicyProvider,
    private readonly keys: PersonKeyColumn,
  ) {}

  @EventPattern(REGISTRATION_LOG)
  async handle(@Payload() events: RegistrationEvent[], @Ctx() log: LogContext): Promise<void> {
    const { manager } = log;
    const { after, records } = await this.records.fold(manager, events);
    await this.organisation(manager, events.filter((e) => !isPersonKey(e.personKey)));
    const people = events.filter((e) => isPersonKey(e.personKey));
    if (people.length === 0) return;

    const rows = await this.tasks.currentOf(manager, people.map((e) => e.personKey));
    const current = new Map<string, SurveyTarget>([...rows].map(([k, r]) => [k, targetOf(r)]));
    // Per person, the target as this batch's own decisions so far leave it, for the next decision to see
    // (they are applied for real after the batch, as its next batch).
    const decidedView = new Map<string, SurveyTarget | null>();
    const changed = new Map<string, SurveyTarget>();
    const visits: VisitRow[] = [];
    const assigned: Omit<AssignmentRow, 'endedAt'>[] = [];
    const found = new Map<string, MemberRow>();
    const toGive = new Set<string>();
    events.forEach((event, i) => {
      const person = event.personKey;
      if (!isPersonKey(person)) return;
      const before = current.get(person) ?? null;
      const next = evolve(before, event);
      if (next !== before && next !== null) {
        current.set(person, next);
        changed.set(next.taskId, next);
        this.collect(event, next, visits, assigned, found);
        if (event.type === SURVEY_TASK_CREATED || event.type === SURVEY_TASK_REOPENED || event.type === SURVEY_PERSON_FOUND) toGive.add(person);
      }
      if (decidedView.has(person)) decidedView.set(person, evolve(decidedView.get(person) ?? null, event));
      if (event.type === OUTCOME_DETERMINED && !log.rebuilding) {
        const record = after[i] as RegistrationRecord;
        const view = decidedView.has(person) ? (decidedView.get(person) ?? null) : next;
        const decided = decide({ kind: 'follow-outcome', outcome: event, record, policy: this.policies.forRecord(record), now: new Date().toISOString() }, view);
        log.emit(decided);
        decidedView.set(person, decided.reduce(evolve, view));
      }
    });
    await this.tasks.saveMany(manager, [...changed.values()]);
    await this.visits.insertMany(manager, visits);
    await this.assignments.appendMany(manager, assigned);
    await this.households(manager, records, found);
    if (!log.rebuilding && toGive.size > 0) {
      // The rows as saved (a target created by this batch has its household only now).
      const saved = await this.tasks.currentOf(manager, [...toGive], false);
      log.emit(await this.giveToSurveyors(manager, [...toGive].map((p) => current.get(p) as SurveyTarget), saved));
    }
  }

  /** What a target's event adds besides the target: a visit, an assignment, a household member found. */
  private collect(event: RegistrationEvent, target: SurveyTarget, visits: VisitRow[], assigned: Omit<AssignmentRow, 'endedAt'>[], found: Map<string, MemberRow>): void {
    switch (event.type) {
      case SURVEY_VISIT_RECORDED: {
        const p = event.payload;
        visits.push({ recordId: p.visitId, visitId: p.visitId, taskId: p.taskId, personKey: event.personKey, surveyorId: p.surveyorId, outcome: p.outcome, visitedAt: p.visitedAt, submissionId: null, payload: p as unknown as Record<string, unknown>, recordedAt: event.occurredAt });
        return;
      }
      case SURVEY_FORM_SUBMITTED: {
        const p = event.payload;
        visits.push({ recordId: p.submissionId, visitId: p.visitId, taskId: p.taskId, personKey: event.personKey, surveyorId: p.surveyorId, outcome: 'collected', visitedAt: p.visitedAt ?? event.occurredAt, submissionId: p.submissionId, payload: p as unknown as Record<string, unknown>, recordedAt: event.occurredAt });
        return;
      }
      case SURVEY_TARGET_ASSIGNED: {
        const p = event.payload;
        assigned.push({ eventId: event.eventId, taskId: p.taskId, personKey: event.personKey, campaignId: p.campaignId, teamId: p.teamId, surveyorId: p.surveyorId, previousSurveyorId: p.previousSurveyorId ?? null, mode: p.mode, reason: p.reason ?? null, assignedBy: p.assignedBy, assignedAt: event.occurredAt });
        return;
      }
      case SURVEY_PERSON_FOUND: {
        const p = event.payload;
        found.set(event.personKey, {
          personKey: event.personKey, householdKey: p.householdKey, villageCode: target.villageCode, householdNo: p.householdKey.startsWith('P-') ? null : p.householdKey.slice(13),
          citizenId: event.personKey.startsWith('X-') ? null : event.personKey, name: p.name, relation: p.relation, sex: null, birthDate: null, hukouStatus: null, source: 'found', foundTaskId: p.taskId,
        });
        return;
      }
      default:
        return;
    }
  }

  /** Campaigns, teams and the villages given to teams, from their organisational streams. */
  private async organisation(manager: EntityManager, events: readonly RegistrationEvent[]): Promise<void> {
    if (events.length === 0) return;
    const campaignIds = new Set<string>();
    const teamIds = new Set<string>();
    for (const e of events) {
      if (e.type === SURVEY_CAMPAIGN_OPENED || e.type === SURVEY_CAMPAIGN_CLOSED) campaignIds.add(e.payload.campaignId);
      if (e.type === SURVEY_TEAM_FORMED || e.type === SURVEY_TEAM_CHANGED) teamIds.add(e.payload.teamId);
    }
    const campaigns = await this.campaigns.findMany(manager, [...campaignIds]);
    const teams = await this.teams.findMany(manager, [...teamIds]);
    const changedCampaigns = new Map<string, Campaign>();
    const changedTeams = new Map<string, Team>();
    for (const e of events) {
      if (e.type === SURVEY_CAMPAIGN_OPENED || e.type === SURVEY_CAMPAIGN_CLOSED) {
        const next = evolveCampaign(campaigns.get(e.payload.campaignId) ?? null, e);
        if (next) campaigns.set(next.campaignId, next), changedCampaigns.set(next.campaignId, next);
      } else if (e.type === SURVEY_TEAM_FORMED || e.type === SURVEY_TEAM_CHANGED) {
        const next = evolveTeam(teams.get(e.payload.teamId) ?? null, e);
        if (next) teams.set(next.teamId, next), changedTeams.set(next.teamId, next);
      } else if (e.type === SURVEY_VILLAGES_ASSIGNED) {
        await this.villageTeams.replace(manager, e.payload.campaignId, e.payload.villages);
      }
    }
    await this.campaigns.saveMany(manager, [...changedCampaigns.values()]);
    await this.teams.saveMany(manager, [...changedTeams.values()]);
  }

  /**
   * The households of the people in the batch (public security's 户号, or where they were found), and
   * each target's person as the surveyor needs them; households whose members changed are marked
   * changed for the surveyors' downloads.
   */
  private async households(manager: EntityManager, records: ReadonlyMap<string, RegistrationRecord>, found: ReadonlyMap<string, MemberRow>): Promise<void> {
    const keys = [...new Set([...records.keys(), ...found.keys()])];
    const existing = await this.members.findMany(manager, keys);
    const upsert: MemberRow[] = [];
    const remove: string[] = [];
    const touched = new Set<string>();
    const memberOf = new Map<string, MemberRow>();
    for (const key of keys) {
      const record = records.get(key);
      const before = existing.get(key);
      let row: MemberRow | null = null;
      const h = record?.household;
      if (h?.householdNo) {
        row = {
          personKey: key, householdKey: householdKeyOf(record as RegistrationRecord), villageCode: h.villageCode, householdNo: h.householdNo, citizenId: record?.citizenId ?? null,
          name: record?.name ?? h.name, relation: h.relationToHead, sex: record?.sex ?? null, birthDate: record?.birthDate ?? null, hukouStatus: h.status, source: 'household', foundTaskId: null,
        };
      } else {
        const f = found.get(key) ?? (before?.source === 'found' ? before : null);
        if (f) row = { ...f, name: record?.name ?? f.name, sex: record?.sex ?? f.sex, birthDate: record?.birthDate ?? f.birthDate };
      }
      if (row) {
        memberOf.set(key, row);
        if (JSON.stringify(row) !== JSON.stringify(before ?? null)) {
          upsert.push(row);
          touched.add(row.householdKey);
          if (before) touched.add(before.householdKey);
        }
      } else if (before) {
        remove.push(key);
        touched.add(before.householdKey);
      }
    }
    await this.members.upsertMany(manager, upsert);
    await this.members.deleteMany(manager, remove);
    await this.tasks.updatePeople(
      manager,
      [...records.values()].map((r) => {
        const m = memberOf.get(r.personKey);
        // Someone found on site has no 户号 of public security's: the household they were found in is theirs.
        const person = m?.source === 'found' ? { ...personOf(r), householdNo: m.householdNo, relation: m.relation } : personOf(r);
        return { personKey: r.personKey, householdKey: m?.householdKey ?? householdKeyOf(r), person };
      }),
    );
    await this.tasks.touchHouseholds(manager, [...touched]);
  }

  /**
   * New (or reopened) targets without a surveyor who is still on their team, in a village a team of
   * their county's open campaign works: each to a surveyor of the village's teams, the household's
   * surveyor where another target of the household has one, else the one with the fewest targets.
   */
  private async giveToSurveyors(manager: EntityManager, targets: readonly SurveyTarget[], stored: ReadonlyMap<string, TaskRow>): Promise<RegistrationEvent[]> {
    const open = targets.filter((t) => !FINISHED.includes(t.status));
    if (open.length === 0) return [];
    const assignedTeams = await this.teams.findMany(manager, open.map((t) => t.teamId).filter((id): id is string => id !== null));
    const waiting = open.filter((t) => t.responsibleId === null || !assignedTeams.get(t.teamId ?? '')?.members.some((m) => m.surveyorId === t.responsibleId));
    if (waiting.length === 0) return [];
    const campaigns = await this.campaigns.openIn(manager, waiting.map((t) => t.villageCode.slice(0, 6)));
    const givable = waiting.filter((t) => campaigns.has(t.villageCode.slice(0, 6)));
    if (givable.length === 0) return [];
    await this.locks.shared(manager, givable.map((t) => t.villageCode));
    const decided: RegistrationEvent[] = [];
    const byCampaign = new Map<string, SurveyTarget[]>();
    for (const t of givable) {
      const c = campaigns.get(t.villageCode.slice(0, 6)) as Campaign;
      byCampaign.set(c.campaignId, [...(byCampaign.get(c.campaignId) ?? []), t]);
    }
    for (const [campaignId, list] of byCampaign) {
      const villageTeams = await this.villageTeams.teamsOf(manager, campaignId, list.map((t) => t.villageCode));
      const teams = await this.teams.findMany(manager, [...villageTeams.values()].flat());
      const households = list.map((t) => stored.get(t.personKey)?.householdKey ?? `P-${t.personKey}`);
      // Before reading who has each household: a batch of another partition giving a member of the same
      // household waits here until it commits, then sees its surveyor (READ COMMITTED: a new snapshot).
      await this.locks.households(manager, households);
      const loads = await this.tasks.loads(manager, [...teams.keys()]);
      const householdSurveyor = await this.tasks.householdSurveyors(manager, campaignId, households);
      for (const [i, t] of list.entries()) {
        const candidates = (villageTeams.get(t.villageCode) ?? []).map((id) => teams.get(id)).filter((x): x is Team => x !== undefined && x.members.length > 0);
        if (candidates.length === 0) continue;
        const household = households[i] as string;
        const keep = householdSurveyor.get(household);
        let team: Team | undefined = keep ? candidates.find((c) => c.teamId === keep.teamId && c.members.some((m) => m.surveyorId === keep.surveyorId)) : undefined;
        let surveyor = team ? (keep?.surveyorId as string) : '';
        if (!team) {
          const teamLoad = (x: Team): number => x.members.reduce((n, m) => n + (loads.get(m.surveyorId) ?? 0), 0) / x.members.length;
          team = candidates.reduce((a, b) => (teamLoad(b) < teamLoad(a) ? b : a));
          surveyor = team.members.reduce((a, b) => ((loads.get(b.surveyorId) ?? 0) < (loads.get(a.surveyorId) ?? 0) ? b : a)).surveyorId;
        }
        loads.set(surveyor, (loads.get(surveyor) ?? 0) + 1);
        householdSurveyor.set(household, { teamId: team.teamId, surveyorId: surveyor });
        decided.push(
          ...decide(
            { kind: 'assign', decisionId: `new-target:${t.version}`, campaignId, teamId: team.teamId, surveyorId: surveyor, mode: 'new-target', by: { id: SURVEY_SERVICE, actor: SURVEY_SERVICE }, correlationId: t.taskId, now: new Date().toISOString() },
            t,
          ),
        );
      }
    }
    return decided;
  }

  /**
   * `person.erased` (ADR 0010): every row of the person goes: their record, targets, visits, forms
   * (kept with the visits), assignments and household membership. Campaigns, teams and villages are
   * no person's. The other members' unfinished targets of their households are marked changed, so
   * the surveyors' next download shows the households without them. Each surveyor who held one of
   * their targets (now or before) gets a tombstone (`survey_task_erased`: task ID, surveyor, village,
   * when), so their device's next download lists the target as removed.
   * The key columns hold the person ID (ADR 0011, stage 5); rows not re-keyed yet hold the plain key,
   * so both are looked for.
   */
  @EventPattern(PERSON_ERASURE)
  async erase(@Payload() event: PersonErasedEvent, @Ctx() log: LogContext): Promise<void> {
    for (const key of new Set([this.keys.stored(event.personKey), event.personKey])) await this.eraseStored(log.manager, key, event.occurredAt);
  }

  /** The erasure of the rows whose key columns hold this value. */
  private async eraseStored(manager: EntityManager, key: string, occurredAt: string): Promise<void> {
    const households: { household_key: string }[] = await manager.query(
      `SELECT household_key FROM survey_household_member WHERE person_key = $1 UNION SELECT household_key FROM survey_task WHERE person_key = $1`,
      [key],
    );
    await manager.query(
      `INSERT INTO survey_task_erased (task_id, surveyor_id, village_code, erased_at)
       SELECT t.task_id, s.surveyor_id, t.village_code, $2::timestamptz
         FROM survey_task t
         JOIN (SELECT task_id, surveyor_id FROM survey_assignment WHERE person_key = $1
               UNION SELECT task_id, responsible_id FROM survey_task WHERE person_key = $1 AND responsible_id IS NOT NULL) s ON s.task_id = t.task_id
        WHERE t.person_key = $1
       ON CONFLICT (task_id, surveyor_id) DO NOTHING`,
      [key, occurredAt],
    );
    await deletePersonRows(manager, key, [
      { table: 'person_record', column: 'person_key' },
      { table: 'survey_visit', column: 'person_key' },
      { table: 'survey_assignment', column: 'person_key' },
      { table: 'survey_task', column: 'person_key' },
      { table: 'survey_household_member', column: 'person_key' },
    ]);
    // As read (stored, or a row not re-keyed yet): touched as they are, not converted again.
    await this.tasks.touchStoredHouseholds(manager, households.map((h) => h.household_key));
  }
}
