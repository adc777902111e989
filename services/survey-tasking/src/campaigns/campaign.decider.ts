import {
  SURVEY_CAMPAIGN_CLOSED,
  SURVEY_CAMPAIGN_OPENED,
  SURVEY_TEAM_CHANGED,
  SURVEY_TEAM_FORMED,
  SURVEY_VILLAGES_ASSIGNED,
  deterministicId,
  newEvent,
  organisationKey,
} from '@qmcb/contracts';
import type { AssignmentMode, EventOrigin, RegistrationEvent, TeamMember } from '@qmcb/contracts';
import { DomainError } from '@qmcb/platform';

/**
 * A county's survey campaign and its teams (procedure §18; 高州 seed 000: teams of two, two teams
 * per village, about five weeks; 东至 seed 001: a named person responsible for every target). Pure:
 * `decide` checks a command against the campaign (and team) as they are and says what happens;
 * `evolveCampaign` / `evolveTeam` fold their events.
 */
export interface Campaign {
  campaignId: string;
  countyCode: string;
  name: string;
  startsOn: string;
  deadline: string;
  status: 'open' | 'closed';
  openedBy: string;
  openedAt: string;
  closedAt: string | null;
}

export interface Team {
  teamId: string;
  campaignId: string;
  townshipCode: string;
  name: string;
  members: TeamMember[];
  formedAt: string;
  updatedAt: string;
}

/** A team has two or three surveyors (一般以2-3人为一组). */
export const TEAM_SIZE = { min: 2, max: 3 } as const;

interface Base {
  by: { id: string; actor: string };
  correlationId: string;
  now: string;
}

export type CampaignCommand =
  | (Base & { kind: 'open'; campaignId: string; countyCode: string; name: string; startsOn: string; deadline: string; openInCounty: Campaign | null })
  | (Base & { kind: 'close'; note?: string })
  | (Base & { kind: 'form-team'; teamId: string; townshipCode: string; name: string; members: TeamMember[]; existing: Team | null })
  | (Base & { kind: 'change-team'; team: Team; members: TeamMember[] })
  | (Base & { kind: 'assign-villages'; townshipCode: string; villages: { villageCode: string; teamIds: string[] }[]; mode: AssignmentMode; teams: readonly Team[] });

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function origin(c: Base): EventOrigin {
  return { source: 'svc:survey-tasking', actor: c.by.actor, occurredAt: c.now, correlationId: c.correlationId };
}

function invalid(field: string, rule: string, message: string): never {
  throw new DomainError('VALIDATION_FAILED', message, { violations: [{ field, rule, message }] });
}

function checkMembers(members: readonly TeamMember[]): void {
  if (members.length < TEAM_SIZE.min || members.length > TEAM_SIZE.max) {
    invalid('members', 'teamSize', `members must name ${TEAM_SIZE.min} to ${TEAM_SIZE.max} surveyors (一般以2-3人为一组), got ${members.length}`);
  }
  const ids = members.map((m) => m.surveyorId);
  if (new Set(ids).size !== ids.length) invalid('members', 'unique', 'members must not name a surveyor twice');
}

/** The campaign (null before it is opened) after a command; what happens as events on its stream. */
export function decideCampaign(c: CampaignCommand, campaign: Campaign | null): RegistrationEvent[] {
  switch (c.kind) {
    case 'open': {
      if (campaign !== null) return campaign.countyCode === c.countyCode && campaign.name === c.name && campaign.deadline === c.deadline ? [] : conflict(`campaign ${c.campaignId} exists`);
      if (c.openInCounty) throw new DomainError('CONFLICT', `county ${c.countyCode} already runs campaign ${c.openInCounty.campaignId} (${c.openInCounty.name}) until ${c.openInCounty.deadline}: close it first`);
      if (!DATE.test(c.startsOn) || !DATE.test(c.deadline)) invalid('deadline', 'matches', 'startsOn and deadline must be YYYY-MM-DD');
      if (c.deadline < c.startsOn) invalid('deadline', 'notBeforeStart', `deadline ${c.deadline} must not be before startsOn ${c.startsOn}`);
      return [
        newEvent(
          SURVEY_CAMPAIGN_OPENED,
          deterministicId('survey', 'campaign-opened', c.campaignId),
          organisationKey(c.campaignId),
          { campaignId: c.campaignId, countyCode: c.countyCode, name: c.name, startsOn: c.startsOn, deadline: c.deadline, openedBy: c.by.id },
          origin(c),
        ),
      ];
    }
    case 'close': {
      const open = openCampaign(campaign);
      return [
        newEvent(SURVEY_CAMPAIGN_CLOSED, deterministicId('survey', 'campaign-closed', open.campaignId), organisationKey(open.campaignId), { campaignId: open.campaignId, closedBy: c.by.id, ...(c.note ? { note: c.note } : {}) }, origin(c)),
      ];
    }
    case 'form-team': {
      const open = openCampaign(campaign);
      if (!c.townshipCode.startsWith(open.countyCode)) invalid('townshipCode', 'inCounty', `townshipCode ${c.townshipCode} is not in county ${open.countyCode} of the campaign`);
      checkMembers(c.members);
      if (c.existing) {
        const same = c.existing.campaignId === open.campaignId && c.existing.townshipCode === c.townshipCode && c.existing.name === c.name && JSON.stringify(c.existing.members) === JSON.stringify(c.members);
        return same ? [] : conflict(`team ${c.teamId} exists`);
      }
      return [
        newEvent(
          SURVEY_TEAM_FORMED,
          deterministicId('survey', 'team-formed', c.teamId),
          organisationKey(c.teamId),
          { teamId: c.teamId, campaignId: open.campaignId, townshipCode: c.townshipCode, name: c.name, members: c.members.map((m) => ({ ...m })), formedBy: c.by.id },
          origin(c),
        ),
      ];
    }
    case 'change-team': {
      const open = openCampaign(campaign);
      checkMembers(c.members);
      if (JSON.stringify(c.team.members) === JSON.stringify(c.members)) return [];
      return [
        newEvent(
          SURVEY_TEAM_CHANGED,
          deterministicId('survey', 'team-changed', c.team.teamId, c.correlationId),
          organisationKey(c.team.teamId),
          { teamId: c.team.teamId, campaignId: open.campaignId, members: c.members.map((m) => ({ ...m })), changedBy: c.by.id },
          origin(c),
        ),
      ];
    }
    case 'assign-villages': {
      const open = openCampaign(campaign);
      const teams = new Map(c.teams.map((t) => [t.teamId, t]));
      c.villages.forEach((v, i) => {
        if (!v.villageCode.startsWith(c.townshipCode)) invalid(`villages.${i}.villageCode`, 'inTownship', `villages.${i}.villageCode ${v.villageCode} is not in township ${c.townshipCode}`);
        v.teamIds.forEach((id, j) => {
          const team = teams.get(id);
          if (!team || team.campaignId !== open.campaignId || team.townshipCode !== c.townshipCode) {
            invalid(`villages.${i}.teamIds.${j}`, 'teamOfTownship', `villages.${i}.teamIds.${j} is not a team of township ${c.townshipCode} in this campaign`);
          }
        });
      });
      if (c.villages.length === 0) return [];
      return [
        newEvent(
          SURVEY_VILLAGES_ASSIGNED,
          deterministicId('survey', 'villages-assigned', open.campaignId, c.correlationId),
          organisationKey(open.campaignId),
          { campaignId: open.campaignId, townshipCode: c.townshipCode, villages: c.villages.map((v) => ({ villageCode: v.villageCode, teamIds: [...v.teamIds] })), mode: c.mode, assignedBy: c.by.id },
          origin(c),
        ),
      ];
    }
  }
}

function conflict(message: string): never {
  throw new DomainError('CONFLICT', `${message} with other details: use a new ID`);
}

function openCampaign(campaign: Campaign | null): Campaign {
  if (campaign === null) throw new DomainError('NOT_FOUND', 'campaign not found');
  if (campaign.status !== 'open') throw new DomainError('CONFLICT', `campaign ${campaign.campaignId} is closed`);
  return campaign;
}

export function evolveCampaign(campaign: Campaign | null, event: RegistrationEvent): Campaign | null {
  switch (event.type) {
    case SURVEY_CAMPAIGN_OPENED: {
      const p = event.payload;
      return campaign ?? { campaignId: p.campaignId, countyCode: p.countyCode, name: p.name, startsOn: p.startsOn, deadline: p.deadline, status: 'open', openedBy: p.openedBy, openedAt: event.occurredAt, closedAt: null };
    }
    case SURVEY_CAMPAIGN_CLOSED:
      return campaign && campaign.campaignId === event.payload.campaignId ? { ...campaign, status: 'closed', closedAt: event.occurredAt } : campaign;
    default:
      return campaign;
  }
}

export function evolveTeam(team: Team | null, event: RegistrationEvent): Team | null {
  switch (event.type) {
    case SURVEY_TEAM_FORMED: {
      const p = event.payload;
      return team ?? { teamId: p.teamId, campaignId: p.campaignId, townshipCode: p.townshipCode, name: p.name, members: p.members.map((m) => ({ ...m })), formedAt: event.occurredAt, updatedAt: event.occurredAt };
    }
    case SURVEY_TEAM_CHANGED:
      return team && team.teamId === event.payload.teamId ? { ...team, members: event.payload.members.map((m) => ({ ...m })), updatedAt: event.occurredAt } : team;
    default:
      return team;
  }
}
