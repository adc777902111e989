import { Injectable } from '@nestjs/common';
import { actorOf, assertInDivision, inDivision } from '@qmcb/auth';
import type { PersonPrincipal, Principal } from '@qmcb/auth';
import { newId } from '@qmcb/contracts';
import type { RegistrationEvent, TargetAssignmentMode, TeamMember } from '@qmcb/contracts';
import { findDivision, villagesOf } from '@qmcb/domain';
import { AuditService, DomainError } from '@qmcb/platform';
import { Decisions } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { SurveyLocks } from '../assignments/survey-locks';
import { decide, FINISHED } from '../targets/survey-target.decider';
import { SurveyTaskRepository, targetOf } from '../targets/survey-task.repository';
import type { CampaignScope, HouseholdTargets, ProgressGroup, ProgressRow } from '../targets/survey-task.repository';
import { taskView } from '../tasks/task-view';
import type { TaskView } from '../tasks/task-view';
import { planAssignment, planTakeOver } from './assignment-plan';
import { decideCampaign } from './campaign.decider';
import type { Campaign, Team } from './campaign.decider';
import { CampaignRepository } from './campaign.repository';
import type { AssignDto, OpenCampaignDto, TeamDto } from './campaigns.dto';
import { TeamRepository } from './team.repository';
import { VillageTeamRepository } from './village-team.repository';

export const CAMPAIGN_NOT_FOUND = 'campaign not found';
const SERVICE = 'survey-tasking';

/** The calendar date in China (UTC+8): deadlines and revisits are days there. */
export function chinaToday(now = new Date()): string {
  return new Date(now.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
}

export interface Progress {
  campaignId: string;
  countyCode: string;
  deadline: string;
  today: string;
  division: string;
  groupBy: ProgressGroup;
  total: Omit<ProgressRow, 'key'>;
  groups: (ProgressRow & { name: string | null })[];
}

export interface AssignmentResult {
  campaignId: string;
  /** Villages given to teams by this decision. */
  villages: { villageCode: string; teamIds: string[] }[];
  /** Targets whose surveyor changed, per surveyor. */
  assigned: number;
  perSurveyor: Record<string, number>;
}

const EMPTY: Omit<ProgressRow, 'key'> = { targets: 0, unassigned: 0, visited: 0, byOutcome: {}, byStatus: {}, submitted: 0, approved: 0, returned: 0, closedOut: 0, overdue: 0 };

function add(a: Omit<ProgressRow, 'key'>, b: Omit<ProgressRow, 'key'>): Omit<ProgressRow, 'key'> {
  const sum = (x: Record<string, number>, y: Record<string, number>): Record<string, number> => {
    const out = { ...x };
    for (const [k, v] of Object.entries(y)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return {
    targets: a.targets + b.targets,
    unassigned: a.unassigned + b.unassigned,
    visited: a.visited + b.visited,
    byOutcome: sum(a.byOutcome, b.byOutcome),
    byStatus: sum(a.byStatus, b.byStatus),
    submitted: a.submitted + b.submitted,
    approved: a.approved + b.approved,
    returned: a.returned + b.returned,
    closedOut: a.closedOut + b.closedOut,
    overdue: a.overdue + b.overdue,
  };
}

/** Campaigns, teams, assignment, progress and overdue lists: the county's and township's side of the survey. */
@Injectable()
export class CampaignsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly campaigns: CampaignRepository,
    private readonly teams: TeamRepository,
    private readonly villageTeams: VillageTeamRepository,
    private readonly tasks: SurveyTaskRepository,
    private readonly locks: SurveyLocks,
    private readonly decisions: Decisions,
    private readonly audit: AuditService,
  ) {}

  private person(principal: Principal): PersonPrincipal {
    if (principal.kind !== 'person') throw new DomainError('FORBIDDEN', 'campaigns are run by people');
    return principal;
  }

  /** A county's campaign is seen from the county and from within it (townships, villages), and from above. */
  private async visibleCampaign(principal: Principal, campaignId: string, manager: EntityManager = this.dataSource.manager, forUpdate = false): Promise<Campaign> {
    const campaign = await this.campaigns.find(manager, campaignId, forUpdate);
    if (!campaign || (principal.kind === 'person' && !inDivision(principal.division, campaign.countyCode) && !principal.division.startsWith(campaign.countyCode))) {
      throw new DomainError('NOT_FOUND', CAMPAIGN_NOT_FOUND);
    }
    return campaign;
  }

  private scope(c: Campaign): CampaignScope {
    return { campaignId: c.campaignId, countyCode: c.countyCode, open: c.status === 'open' };
  }

  /** The division a caller asks about within a campaign: theirs by default, never wider than the county or outside it. */
  private within(principal: Principal, campaign: Campaign, division: string | undefined): string {
    const own = principal.kind === 'person' ? principal.division : '';
    const asked = division ?? (own.length > campaign.countyCode.length ? own : campaign.countyCode);
    assertInDivision(principal, asked);
    if (!asked.startsWith(campaign.countyCode)) throw new DomainError('NOT_FOUND', `${asked} is not in county ${campaign.countyCode} of the campaign`);
    return asked;
  }

  private by(principal: PersonPrincipal): { id: string; actor: string } {
    return { id: principal.sub, actor: actorOf(principal) };
  }

  async open(principal: Principal, dto: OpenCampaignDto): Promise<Campaign> {
    const me = this.person(principal);
    assertInDivision(me, dto.countyCode);
    return this.dataSource.transaction(async (manager) => {
      await this.locks.county(manager, dto.countyCode);
      const existing = await this.campaigns.find(manager, dto.campaignId, true);
      const openInCounty = (await this.campaigns.openIn(manager, [dto.countyCode])).get(dto.countyCode) ?? null;
      const events = decideCampaign(
        { kind: 'open', campaignId: dto.campaignId, countyCode: dto.countyCode, name: dto.name, startsOn: dto.startsOn, deadline: dto.deadline, openInCounty, by: this.by(me), correlationId: newId(), now: new Date().toISOString() },
        existing,
      );
      await this.decisions.commit(manager, events);
      return (await this.campaigns.find(manager, dto.campaignId)) as Campaign;
    });
  }

  async close(principal: Principal, campaignId: string, note?: string): Promise<Campaign> {
    const me = this.person(principal);
    return this.dataSource.transaction(async (manager) => {
      const campaign = await this.visibleCampaign(me, campaignId, manager, true);
      assertInDivision(me, campaign.countyCode, CAMPAIGN_NOT_FOUND);
      await this.decisions.commit(manager, decideCampaign({ kind: 'close', note, by: this.by(me), correlationId: newId(), now: new Date().toISOString() }, campaign));
      return (await this.campaigns.find(manager, campaignId)) as Campaign;
    });
  }

  async list(principal: Principal): Promise<Campaign[]> {
    return this.campaigns.list(this.dataSource.manager, principal.kind === 'person' ? principal.division : '');
  }

  async get(principal: Principal, campaignId: string): Promise<Campaign & { total: Omit<ProgressRow, 'key'> }> {
    const campaign = await this.visibleCampaign(principal, campaignId);
    const progress = await this.progress(principal, campaignId, 'county', undefined);
    return { ...campaign, total: progress.total };
  }

  async formTeam(principal: Principal, campaignId: string, dto: TeamDto): Promise<Team> {
    const me = this.person(principal);
    assertInDivision(me, dto.townshipCode);
    return this.dataSource.transaction(async (manager) => {
      const campaign = await this.visibleCampaign(me, campaignId, manager, true);
      const existing = (await this.teams.findMany(manager, [dto.teamId], true)).get(dto.teamId) ?? null;
      const events = decideCampaign(
        { kind: 'form-team', teamId: dto.teamId, townshipCode: dto.townshipCode, name: dto.name, members: dto.members.map((m) => ({ surveyorId: m.surveyorId, name: m.name })), existing, by: this.by(me), correlationId: newId(), now: new Date().toISOString() },
        campaign,
      );
      await this.decisions.commit(manager, events);
      return (await this.teams.findMany(manager, [dto.teamId])).get(dto.teamId) as Team;
    });
  }

  async listTeams(principal: Principal, campaignId: string, division?: string): Promise<(Team & { villages: string[] })[]> {
    const campaign = await this.visibleCampaign(principal, campaignId);
    const within = this.within(principal, campaign, division);
    const teams = await this.teams.ofCampaign(this.dataSource.manager, campaignId, within);
    const villages = await this.villageTeams.ofCampaign(this.dataSource.manager, campaignId, within.length > 9 ? within.slice(0, 9) : within);
    return teams.map((t) => ({ ...t, villages: villages.filter((v) => v.teamId === t.teamId).map((v) => v.villageCode) }));
  }

  /** New members of a team; whoever left hands their unfinished targets, household by household, to those who stay. */
  async changeMembers(principal: Principal, campaignId: string, teamId: string, members: TeamMember[]): Promise<Team & { reassigned: number }> {
    const me = this.person(principal);
    return this.dataSource.transaction(async (manager) => {
      const campaign = await this.visibleCampaign(me, campaignId, manager);
      const team = (await this.teams.findMany(manager, [teamId], true)).get(teamId);
      if (!team || team.campaignId !== campaignId) throw new DomainError('NOT_FOUND', 'team not found');
      assertInDivision(me, team.townshipCode, 'team not found');
      const now = new Date().toISOString();
      const correlationId = newId();
      const events: RegistrationEvent[] = decideCampaign({ kind: 'change-team', team, members: members.map((m) => ({ surveyorId: m.surveyorId, name: m.name })), by: this.by(me), correlationId, now }, campaign);
      const staying = members.map((m) => m.surveyorId);
      const leaving = team.members.map((m) => m.surveyorId).filter((id) => !staying.includes(id));
      const households = await this.tasks.householdsOfSurveyors(manager, teamId, leaving);
      const loads = await this.tasks.loads(manager, [teamId]);
      const takeOver = planTakeOver(households, staying, loads);
      events.push(...(await this.assignEach(manager, campaign, teamId, takeOver, 'member-left', `${leaving.join(', ')} left the team`, me, correlationId, now)));
      await this.decisions.commit(manager, events);
      return { ...((await this.teams.findMany(manager, [teamId])).get(teamId) as Team), reassigned: takeOver.size };
    });
  }

  /** The events giving each target to its surveyor (no event where nothing changes). */
  private async assignEach(
    manager: EntityManager,
    campaign: Campaign,
    teamId: string | Map<string, string>,
    surveyors: ReadonlyMap<string, string>,
    mode: TargetAssignmentMode,
    reason: string | undefined,
    me: PersonPrincipal,
    correlationId: string,
    now: string,
  ): Promise<RegistrationEvent[]> {
    const rows = await this.tasks.findMany(manager, [...surveyors.keys()], true);
    const out: RegistrationEvent[] = [];
    for (const row of rows) {
      if (FINISHED.includes(row.status)) continue;
      const team = typeof teamId === 'string' ? teamId : (teamId.get(row.taskId) as string);
      out.push(
        ...decide(
          { kind: 'assign', decisionId: correlationId, campaignId: campaign.campaignId, teamId: team, surveyorId: surveyors.get(row.taskId) as string, mode, reason, by: this.by(me), correlationId, now },
          targetOf(row),
        ),
      );
    }
    return out;
  }

  private result(campaign: Campaign, villages: { villageCode: string; teamIds: string[] }[], events: readonly RegistrationEvent[]): AssignmentResult {
    const perSurveyor: Record<string, number> = {};
    let assigned = 0;
    for (const e of events) {
      if (e.type !== 'survey.target-assigned') continue;
      assigned += 1;
      perSurveyor[e.payload.surveyorId] = (perSurveyor[e.payload.surveyorId] ?? 0) + 1;
    }
    return { campaignId: campaign.campaignId, villages, assigned, perSurveyor };
  }

  /** By hand: villages (from now on), households or single targets to a team, balanced among its surveyors or to one of them. */
  async assign(principal: Principal, campaignId: string, dto: AssignDto): Promise<AssignmentResult> {
    const me = this.person(principal);
    if (!dto.villageCodes?.length && !dto.householdKeys?.length && !dto.taskIds?.length) {
      throw new DomainError('VALIDATION_FAILED', 'name villages, households or targets', { violations: [{ field: 'villageCodes', rule: 'arrayNotEmpty', message: 'one of villageCodes, householdKeys or taskIds must name something to assign' }] });
    }
    return this.dataSource.transaction(async (manager) => {
      const campaign = await this.visibleCampaign(me, campaignId, manager);
      const team = (await this.teams.findMany(manager, [dto.teamId])).get(dto.teamId);
      if (!team || team.campaignId !== campaignId) throw new DomainError('NOT_FOUND', 'team not found');
      assertInDivision(me, team.townshipCode, 'team not found');
      const surveyors = team.members.map((m) => m.surveyorId);
      if (dto.surveyorId !== undefined && !surveyors.includes(dto.surveyorId)) {
        throw new DomainError('VALIDATION_FAILED', 'surveyorId is not a member of the team', { violations: [{ field: 'surveyorId', rule: 'teamMember', message: `surveyorId must be one of the team's surveyors (${surveyors.join(', ')})` }] });
      }
      const villageCodes = dto.villageCodes ?? [];
      const picked = await this.tasks.findMany(manager, dto.taskIds ?? []);
      const byHousehold = await this.tasks.householdsOf(manager, dto.householdKeys ?? [], this.scope(campaign));
      const villagesTouched = [...villageCodes, ...picked.map((t) => t.villageCode), ...byHousehold.map((h) => h.villageCode)];
      villagesTouched.forEach((v, i) => {
        if (!v.startsWith(team.townshipCode)) throw new DomainError('VALIDATION_FAILED', `${v} is not in the team's township`, { violations: [{ field: i < villageCodes.length ? `villageCodes.${i}` : 'taskIds', rule: 'inTownship', message: `village ${v} is not in township ${team.townshipCode} of the team` }] });
      });
      await this.locks.exclusive(manager, villagesTouched);
      const now = new Date().toISOString();
      const correlationId = newId();
      const villages = villageCodes.map((villageCode) => ({ villageCode, teamIds: [team.teamId] }));
      const events = decideCampaign({ kind: 'assign-villages', townshipCode: team.townshipCode, villages, mode: 'manual', teams: [team], by: this.by(me), correlationId, now }, campaign);
      const households: HouseholdTargets[] = [
        ...(await this.tasks.householdsOfVillages(manager, villageCodes, this.scope(campaign))),
        ...byHousehold,
        ...picked.filter((t) => t.campaignId === null || t.campaignId === campaignId).map((t) => ({ householdKey: t.householdKey, villageCode: t.villageCode, taskIds: [t.taskId] })),
      ];
      const loads = await this.tasks.loads(manager, [team.teamId]);
      const plan = dto.surveyorId !== undefined ? new Map(households.flatMap((h) => h.taskIds.map((id) => [id, dto.surveyorId as string] as const))) : planTakeOver(households, surveyors, loads);
      events.push(...(await this.assignEach(manager, campaign, team.teamId, plan, 'manual', dto.reason, me, correlationId, now)));
      await this.decisions.commit(manager, events);
      return this.result(campaign, villages, events);
    });
  }

  /**
   * The balanced distribution of a township (按工作量均衡分配): every village of the township to a
   * team (a village with no target yet to its neighbour's team, so its future targets have one), every
   * unfinished target of the campaign there to a surveyor, a household whole to one.
   */
  async autoAssign(principal: Principal, campaignId: string, townshipCode: string): Promise<AssignmentResult> {
    const me = this.person(principal);
    assertInDivision(me, townshipCode);
    return this.dataSource.transaction(async (manager) => {
      const campaign = await this.visibleCampaign(me, campaignId, manager);
      if (!townshipCode.startsWith(campaign.countyCode)) throw new DomainError('NOT_FOUND', `township ${townshipCode} is not in county ${campaign.countyCode}`);
      const teams = (await this.teams.ofCampaign(manager, campaignId, townshipCode)).filter((t) => t.townshipCode === townshipCode);
      if (teams.length === 0) throw new DomainError('CONFLICT', `township ${townshipCode} has no team in this campaign: form teams first`);
      const villageCodes = villagesOf(campaign.countyCode).filter((v) => v.code.startsWith(townshipCode)).map((v) => v.code);
      await this.locks.exclusive(manager, villageCodes);
      const households = await this.tasks.householdsOfVillages(manager, villageCodes, this.scope(campaign));
      const plan = planAssignment(households, teams.map((t) => ({ teamId: t.teamId, members: t.members.map((m) => m.surveyorId) })));
      const planned = new Map(plan.villages.map((v) => [v.villageCode, v.teamIds]));
      let neighbour = plan.villages[0]?.teamIds ?? [(teams[0] as Team).teamId];
      const villages = villageCodes.map((villageCode) => {
        const teamIds = planned.get(villageCode) ?? [neighbour[neighbour.length - 1] as string];
        neighbour = teamIds;
        return { villageCode, teamIds };
      });
      const now = new Date().toISOString();
      const correlationId = newId();
      const events = decideCampaign({ kind: 'assign-villages', townshipCode, villages, mode: 'auto', teams, by: this.by(me), correlationId, now }, campaign);
      const surveyorOf = new Map(plan.targets.map((t) => [t.taskId, t.surveyorId]));
      const teamOf = new Map(plan.targets.map((t) => [t.taskId, t.teamId]));
      events.push(...(await this.assignEach(manager, campaign, teamOf, surveyorOf, 'auto', undefined, me, correlationId, now)));
      await this.decisions.commit(manager, events);
      return this.result(campaign, villages, events);
    });
  }

  /** The campaign as a caller may read it, and the division they ask about (404 outside theirs). */
  async scoped(principal: Principal, campaignId: string, division: string | undefined): Promise<{ campaign: CampaignScope; within: string }> {
    const campaign = await this.visibleCampaign(principal, campaignId);
    return { campaign: this.scope(campaign), within: this.within(principal, campaign, division) };
  }

  async progress(principal: Principal, campaignId: string, groupBy: ProgressGroup, division: string | undefined): Promise<Progress> {
    const campaign = await this.visibleCampaign(principal, campaignId);
    const within = this.within(principal, campaign, division);
    const today = chinaToday();
    const rows = await this.tasks.progress(this.dataSource.manager, this.scope(campaign), within, groupBy, today, campaign.deadline);
    const teamNames = groupBy === 'team' ? new Map((await this.teams.ofCampaign(this.dataSource.manager, campaignId)).map((t) => [t.teamId, t.name])) : new Map<string, string>();
    const groups = rows.map((r) => ({ ...r, name: groupBy === 'team' ? (teamNames.get(r.key) ?? null) : (findDivision(r.key)?.name ?? null) }));
    const total = rows.reduce<Omit<ProgressRow, 'key'>>((a, { key: _key, ...b }) => add(a, b), EMPTY);
    return { campaignId, countyCode: campaign.countyCode, deadline: campaign.deadline, today, division: within, groupBy, total, groups };
  }

  async overdue(principal: Principal, campaignId: string, q: { division?: string; limit: number; offset: number }): Promise<{ total: number; today: string; deadline: string; items: TaskView[] }> {
    const campaign = await this.visibleCampaign(principal, campaignId);
    const within = this.within(principal, campaign, q.division);
    const today = chinaToday();
    const page = await this.tasks.overdue(this.dataSource.manager, this.scope(campaign), within, today, campaign.deadline, q.limit, q.offset);
    if (principal.kind === 'person') await this.audit.recordReads({ principal, service: SERVICE, purpose: 'survey:overdue' }, page.items.map((t) => t.personKey));
    return { total: page.total, today, deadline: campaign.deadline, items: page.items.map(taskView) };
  }
}
