import { SURVEY_CAMPAIGN_CLOSED, SURVEY_CAMPAIGN_OPENED, SURVEY_TEAM_CHANGED, SURVEY_TEAM_FORMED, SURVEY_VILLAGES_ASSIGNED, deterministicId, organisationKey } from '@qmcb/contracts';
import { DomainError } from '@qmcb/platform';
import { decideCampaign, evolveCampaign, evolveTeam } from './campaign.decider';
import type { Campaign, CampaignCommand, Team } from './campaign.decider';

const NOW = '2026-12-01T08:00:00.000Z';
const CAMPAIGN = deterministicId('c');
const TEAM = deterministicId('t');
const by = { id: 'county-1', actor: 'user:county-1' };
const base = { by, correlationId: 'corr', now: NOW };
const open: Campaign = { campaignId: CAMPAIGN, countyCode: '440981', name: '入户调查', startsOn: '2026-11-01', deadline: '2026-12-31', status: 'open', openedBy: 'county-1', openedAt: NOW, closedAt: null };
const members = [{ surveyorId: 'a', name: '甲' }, { surveyorId: 'b', name: '乙' }];
const team: Team = { teamId: TEAM, campaignId: CAMPAIGN, townshipCode: '440981002', name: '一组', members, formedAt: NOW, updatedAt: NOW };

const openCmd = (patch: Partial<Extract<CampaignCommand, { kind: 'open' }>> = {}): CampaignCommand => ({ ...base, kind: 'open', campaignId: CAMPAIGN, countyCode: '440981', name: '入户调查', startsOn: '2026-11-01', deadline: '2026-12-31', openInCounty: null, ...patch });
const invalid = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return { code: (e as DomainError).code, violations: (e as DomainError).violations };
  }
  throw new Error('expected a refusal');
};

describe('campaign decider', () => {
  it('given no campaign, when a county opens one, then it is opened on its own stream', () => {
    const [e] = decideCampaign(openCmd(), null);
    expect(e).toMatchObject({ type: SURVEY_CAMPAIGN_OPENED, personKey: organisationKey(CAMPAIGN), eventId: deterministicId('survey', 'campaign-opened', CAMPAIGN), actor: 'user:county-1', payload: { campaignId: CAMPAIGN, countyCode: '440981', deadline: '2026-12-31', openedBy: 'county-1' } });
    expect(evolveCampaign(null, e as never)).toEqual(open);
  });

  it('given the same campaign opened again, then nothing (a retry); with other details, CONFLICT', () => {
    expect(decideCampaign(openCmd(), open)).toEqual([]);
    expect(() => decideCampaign(openCmd({ deadline: '2027-01-31' }), open)).toThrow(DomainError);
  });

  it('given another open campaign in the county, then CONFLICT', () => {
    expect(() => decideCampaign(openCmd({ campaignId: deterministicId('other') }), null)).not.toThrow();
    expect(() => decideCampaign(openCmd({ openInCounty: open, campaignId: deterministicId('other') }), null)).toThrow(new DomainError('CONFLICT', `county 440981 already runs campaign ${CAMPAIGN} (入户调查) until 2026-12-31: close it first`));
  });

  it('given a deadline before the start, then VALIDATION_FAILED naming it', () => {
    expect(invalid(() => decideCampaign(openCmd({ deadline: '2026-10-01' }), null))).toEqual({ code: 'VALIDATION_FAILED', violations: [{ field: 'deadline', rule: 'notBeforeStart', message: 'deadline 2026-10-01 must not be before startsOn 2026-11-01' }] });
  });

  it('closes an open campaign once', () => {
    const [e] = decideCampaign({ ...base, kind: 'close' }, open);
    expect(e?.type).toBe(SURVEY_CAMPAIGN_CLOSED);
    const closed = evolveCampaign(open, e as never) as Campaign;
    expect(closed).toMatchObject({ status: 'closed', closedAt: NOW });
    expect(() => decideCampaign({ ...base, kind: 'close' }, closed)).toThrow(new DomainError('CONFLICT', `campaign ${CAMPAIGN} is closed`));
    expect(() => decideCampaign({ ...base, kind: 'close' }, null)).toThrow(new DomainError('NOT_FOUND', 'campaign not found'));
  });

  describe('teams', () => {
    const form = (patch: Partial<Extract<CampaignCommand, { kind: 'form-team' }>> = {}): CampaignCommand => ({ ...base, kind: 'form-team', teamId: TEAM, townshipCode: '440981002', name: '一组', members, existing: null, ...patch });

    it('forms a team of two or three under a township of the county', () => {
      const [e] = decideCampaign(form(), open);
      expect(e).toMatchObject({ type: SURVEY_TEAM_FORMED, personKey: organisationKey(TEAM), payload: { teamId: TEAM, campaignId: CAMPAIGN, townshipCode: '440981002', members } });
      expect(evolveTeam(null, e as never)).toEqual(team);
    });

    it.each([
      [[{ surveyorId: 'a', name: '甲' }], { field: 'members', rule: 'teamSize', message: 'members must name 2 to 3 surveyors (一般以2-3人为一组), got 1' }],
      [[...members, { surveyorId: 'c', name: '丙' }, { surveyorId: 'd', name: '丁' }], { field: 'members', rule: 'teamSize', message: 'members must name 2 to 3 surveyors (一般以2-3人为一组), got 4' }],
      [[{ surveyorId: 'a', name: '甲' }, { surveyorId: 'a', name: '甲' }], { field: 'members', rule: 'unique', message: 'members must not name a surveyor twice' }],
    ])('refuses members %j', (m, violation) => {
      expect(invalid(() => decideCampaign(form({ members: m }), open))).toEqual({ code: 'VALIDATION_FAILED', violations: [violation] });
    });

    it('refuses a township outside the county', () => {
      expect(invalid(() => decideCampaign(form({ townshipCode: '440902001' }), open))).toEqual({ code: 'VALIDATION_FAILED', violations: [{ field: 'townshipCode', rule: 'inCounty', message: 'townshipCode 440902001 is not in county 440981 of the campaign' }] });
    });

    it('changes members; the same members again is nothing', () => {
      const next = [{ surveyorId: 'a', name: '甲' }, { surveyorId: 'e', name: '戊' }];
      const [e] = decideCampaign({ ...base, kind: 'change-team', team, members: next }, open);
      expect(e).toMatchObject({ type: SURVEY_TEAM_CHANGED, payload: { teamId: TEAM, members: next } });
      expect(evolveTeam(team, e as never)).toMatchObject({ members: next });
      expect(decideCampaign({ ...base, kind: 'change-team', team, members }, open)).toEqual([]);
    });

    it("gives villages of the township to its teams, and refuses another township's team or village", () => {
      const [e] = decideCampaign({ ...base, kind: 'assign-villages', townshipCode: '440981002', villages: [{ villageCode: '440981002001', teamIds: [TEAM] }], mode: 'manual', teams: [team] }, open);
      expect(e).toMatchObject({ type: SURVEY_VILLAGES_ASSIGNED, personKey: organisationKey(CAMPAIGN), payload: { townshipCode: '440981002', villages: [{ villageCode: '440981002001', teamIds: [TEAM] }], mode: 'manual' } });
      expect(invalid(() => decideCampaign({ ...base, kind: 'assign-villages', townshipCode: '440981002', villages: [{ villageCode: '440981003001', teamIds: [TEAM] }], mode: 'manual', teams: [team] }, open))).toEqual({
        code: 'VALIDATION_FAILED', violations: [{ field: 'villages.0.villageCode', rule: 'inTownship', message: 'villages.0.villageCode 440981003001 is not in township 440981002' }],
      });
      expect(invalid(() => decideCampaign({ ...base, kind: 'assign-villages', townshipCode: '440981002', villages: [{ villageCode: '440981002001', teamIds: [deterministicId('x')] }], mode: 'manual', teams: [team] }, open))).toEqual({
        code: 'VALIDATION_FAILED', violations: [{ field: 'villages.0.teamIds.0', rule: 'teamOfTownship', message: 'villages.0.teamIds.0 is not a team of township 440981002 in this campaign' }],
      });
    });
  });
});
