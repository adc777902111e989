import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, NoPersonalData, PersonalData, Roles } from '@qmcb/auth';
import type { PersonalDataPolicy, Principal } from '@qmcb/auth';
import { DomainError, PersonIds, RouteLimits, UuidPipe } from '@qmcb/platform';
import type { Response } from 'express';
import { LedgersService } from '../ledgers/ledgers.service';
import type { LedgerKind } from '../ledgers/ledgers.service';
import { storedHouseholdKey, withPersonIds } from '../tasks/task-view';
import type { Public, TaskView } from '../tasks/task-view';
import type { Campaign, Team } from './campaign.decider';
import { AssignDto, AutoAssignDto, CloseCampaignDto, LedgerQuery, OpenCampaignDto, OverdueQuery, ProgressQuery, TeamDto, TeamMembersDto } from './campaigns.dto';
import { CampaignsService } from './campaigns.service';
import type { AssignmentResult, Progress } from './campaigns.service';

const ORGANISERS = ['grassroots-reviewer', 'county-approver'] as const;
const WATCHERS = [...ORGANISERS, 'operations', 'analyst', 'admin'] as const;
/** Ledgers are for the people who run the survey, in full (the procedure's forms); each page is audited before it leaves. */
const LEDGER: PersonalDataPolicy = { access: 'export', purposes: ['survey', 'review'], unmasked: [{ roles: ['surveyor', ...ORGANISERS], purposes: ['survey', 'review'] }] };
/** A county's ledger of 180,000 rows streams in well under this. */
const LEDGER_TIMEOUT_MS = 15 * 60_000;

@ApiTags('survey campaigns')
@Controller('campaigns')
export class CampaignsController {
  constructor(
    private readonly campaigns: CampaignsService,
    private readonly ledgers: LedgersService,
    private readonly ids: PersonIds,
  ) {}

  @Post()
  @HttpCode(201)
  @Roles('county-approver')
  @NoPersonalData()
  @ApiOperation({ summary: 'Open a county’s survey campaign with its deadline (one open campaign per county)' })
  @ApiConflictResponse({ description: 'CONFLICT: the county runs another open campaign, or the ID is taken with other details' })
  open(@CurrentPrincipal() principal: Principal, @Body() body: OpenCampaignDto): Promise<Campaign> {
    return this.campaigns.open(principal, body);
  }

  @Get()
  @Roles(...WATCHERS, 'surveyor')
  @NoPersonalData()
  @ApiOperation({ summary: "Campaigns of the caller's county (or counties)" })
  list(@CurrentPrincipal() principal: Principal): Promise<Campaign[]> {
    return this.campaigns.list(principal);
  }

  @Get(':campaignId')
  @Roles(...WATCHERS)
  @NoPersonalData()
  @ApiOperation({ summary: 'One campaign with its totals' })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such campaign, or outside the caller's division" })
  get(@CurrentPrincipal() principal: Principal, @Param('campaignId', UuidPipe) campaignId: string): Promise<Campaign> {
    return this.campaigns.get(principal, campaignId);
  }

  @Post(':campaignId/close')
  @Roles('county-approver')
  @NoPersonalData()
  @ApiOperation({ summary: 'Close the campaign' })
  close(@CurrentPrincipal() principal: Principal, @Param('campaignId', UuidPipe) campaignId: string, @Body() body: CloseCampaignDto): Promise<Campaign> {
    return this.campaigns.close(principal, campaignId, body.note);
  }

  @Post(':campaignId/teams')
  @HttpCode(201)
  @Roles(...ORGANISERS)
  @NoPersonalData()
  @ApiOperation({ summary: 'Form a team of 2-3 surveyors under a township (一般以2-3人为一组)' })
  formTeam(@CurrentPrincipal() principal: Principal, @Param('campaignId', UuidPipe) campaignId: string, @Body() body: TeamDto): Promise<Team> {
    return this.campaigns.formTeam(principal, campaignId, body);
  }

  @Get(':campaignId/teams')
  @Roles(...WATCHERS)
  @NoPersonalData()
  @ApiOperation({ summary: "The campaign's teams in the caller's division, with the villages each works" })
  teams(@CurrentPrincipal() principal: Principal, @Param('campaignId', UuidPipe) campaignId: string, @Query('division') division?: string): Promise<Team[]> {
    return this.campaigns.listTeams(principal, campaignId, division);
  }

  @Put(':campaignId/teams/:teamId/members')
  @Roles(...ORGANISERS)
  @NoPersonalData()
  @ApiOperation({ summary: "A team's members now; the targets of whoever left go, household by household, to those who stay" })
  members(
    @CurrentPrincipal() principal: Principal,
    @Param('campaignId', UuidPipe) campaignId: string,
    @Param('teamId', UuidPipe) teamId: string,
    @Body() body: TeamMembersDto,
  ): Promise<Team & { reassigned: number }> {
    return this.campaigns.changeMembers(principal, campaignId, teamId, body.members);
  }

  @Post(':campaignId/assignments')
  @Roles(...ORGANISERS)
  @PersonalData({ access: 'write', purposes: ['survey'] })
  @ApiOperation({ summary: 'By hand: villages, households or targets to a team (balanced among its surveyors, or to one); reassignment keeps the history' })
  assign(@CurrentPrincipal() principal: Principal, @Param('campaignId', UuidPipe) campaignId: string, @Body() body: AssignDto): Promise<AssignmentResult> {
    const householdKeys = body.householdKeys?.map((key, i) => {
      const stored = storedHouseholdKey(key, this.ids);
      if (stored === undefined) {
        throw new DomainError('VALIDATION_FAILED', `householdKeys.${i} is not a household key`, {
          violations: [{ field: `householdKeys.${i}`, rule: 'householdKey', message: `householdKeys.${i} must be a householdKey from a target list: <village code>-<户号>, or P-<person ID> for a person without a 户号` }],
        });
      }
      return stored;
    });
    return this.campaigns.assign(principal, campaignId, householdKeys === undefined ? body : { ...body, householdKeys });
  }

  @Post(':campaignId/assignments/auto')
  @Roles(...ORGANISERS)
  @PersonalData({ access: 'write', purposes: ['survey'] })
  @ApiOperation({ summary: "Balanced by workload: a township's villages to its teams, each household to one surveyor" })
  @ApiConflictResponse({ description: 'CONFLICT: the township has no team' })
  auto(@CurrentPrincipal() principal: Principal, @Param('campaignId', UuidPipe) campaignId: string, @Body() body: AutoAssignDto): Promise<AssignmentResult> {
    return this.campaigns.autoAssign(principal, campaignId, body.townshipCode);
  }

  @Get(':campaignId/progress')
  @Roles(...WATCHERS)
  @NoPersonalData()
  @ApiOperation({ summary: 'Progress per county, township, village or team: targets, unassigned, visited, by outcome and status, submitted, approved, returned, closed out, overdue' })
  progress(@CurrentPrincipal() principal: Principal, @Param('campaignId', UuidPipe) campaignId: string, @Query() q: ProgressQuery): Promise<Progress> {
    return this.campaigns.progress(principal, campaignId, q.groupBy, q.division);
  }

  @Get(':campaignId/overdue')
  @Roles(...WATCHERS)
  @PersonalData({ access: 'list', purposes: ['survey', 'review', 'operations-support'], unmasked: [{ roles: [...ORGANISERS], purposes: ['survey', 'review'] }] })
  @ApiOperation({ summary: 'Targets still to do after the deadline, or whose planned revisit has passed (audited reads)' })
  async overdue(@CurrentPrincipal() principal: Principal, @Param('campaignId', UuidPipe) campaignId: string, @Query() q: OverdueQuery): Promise<Public<{ total: number; items: TaskView[] }>> {
    return withPersonIds(await this.campaigns.overdue(principal, campaignId, q), this.ids);
  }

  @Get(':campaignId/ledgers/summary')
  @Roles('surveyor', ...ORGANISERS)
  @PersonalData(LEDGER)
  @RouteLimits({ timeoutMs: LEDGER_TIMEOUT_MS })
  @ApiProduces('text/csv', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
  @ApiOperation({ summary: '个人信息汇总表 (procedure §19, 附件2): one row per target (a surveyor: their own targets only), streamed as CSV or XLSX' })
  summary(@CurrentPrincipal() principal: Principal, @Param('campaignId', UuidPipe) campaignId: string, @Query() q: LedgerQuery, @Res() res: Response): Promise<void> {
    return this.ledger(principal, campaignId, 'summary', q, res);
  }

  @Get(':campaignId/ledgers/rectification')
  @Roles(...ORGANISERS)
  @PersonalData(LEDGER)
  @RouteLimits({ timeoutMs: LEDGER_TIMEOUT_MS })
  @ApiProduces('text/csv', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
  @ApiOperation({ summary: '整改台账: every target closed out one by one (逐一销号), streamed as CSV or XLSX' })
  rectification(@CurrentPrincipal() principal: Principal, @Param('campaignId', UuidPipe) campaignId: string, @Query() q: LedgerQuery, @Res() res: Response): Promise<void> {
    return this.ledger(principal, campaignId, 'rectification', q, res);
  }

  private async ledger(principal: Principal, campaignId: string, kind: LedgerKind, q: LedgerQuery, res: Response): Promise<void> {
    // Refusals (404, 400) happen here, before anything is sent, and reach the error filter as usual.
    const { fileName, rows } = await this.ledgers.open(principal, campaignId, kind, q.division);
    const type = q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    res.status(200);
    res.setHeader('content-type', type);
    res.setHeader('content-disposition', `attachment; filename="ledger.${q.format}"; filename*=UTF-8''${encodeURIComponent(`${fileName}.${q.format}`)}`);
    try {
      await this.ledgers.write(rows, q.format, fileName.split('-')[0] as string, res);
    } catch (e) {
      // The status line is gone: all that is left is to cut the transfer, so the client sees it failed.
      res.destroy(e instanceof Error ? e : new Error(String(e)));
    }
  }
}
