import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, IsUUID, Length, Matches, MaxLength, ValidateNested } from 'class-validator';
import { IsCalendarDate } from '../calendar-date';
import { DIVISION_PATTERNS } from '../vocabulary';

/**
 * How a county organises its household survey (入户调查, procedure §17-§18; seeds 000, 001): a
 * campaign per county with a deadline, teams of surveyors under a township, villages given to teams,
 * and every target given to one named surveyor. Campaigns and teams are about no person: their events
 * go on organisational streams (`O-` + the campaign's or team's UUID without dashes); the assignment
 * of a target is an event of the target's person.
 */
export const SURVEY_CAMPAIGN_OPENED = 'survey.campaign-opened';
export const SURVEY_CAMPAIGN_CLOSED = 'survey.campaign-closed';
export const SURVEY_TEAM_FORMED = 'survey.team-formed';
export const SURVEY_TEAM_CHANGED = 'survey.team-changed';
export const SURVEY_VILLAGES_ASSIGNED = 'survey.villages-assigned';
export const SURVEY_TARGET_ASSIGNED = 'survey.target-assigned';
export const SURVEY_PERSON_FOUND = 'survey.person-found';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The organisational stream of a campaign or team: `O-` and its UUID's 32 hex digits. */
export function organisationKey(uuid: string): string {
  return `O-${uuid.replace(/-/g, '').toLowerCase()}`;
}

/** A county opens its survey campaign: which county, until when. */
export class SurveyCampaignOpenedV1 {
  @IsUUID()
  campaignId: string;

  @Matches(DIVISION_PATTERNS.county, { message: 'countyCode must be a 6-digit county code' })
  countyCode: string;

  @IsString() @Length(1, 128)
  name: string;

  @Matches(DATE, { message: 'startsOn must be YYYY-MM-DD' }) @IsCalendarDate()
  startsOn: string;

  /** The last day of visits (e.g. 高州: 9月25日). */
  @Matches(DATE, { message: 'deadline must be YYYY-MM-DD' }) @IsCalendarDate()
  deadline: string;

  @IsString() @Length(1, 128)
  openedBy: string;
}

/** The campaign is over: no new targets join it. */
export class SurveyCampaignClosedV1 {
  @IsUUID()
  campaignId: string;

  @IsString() @Length(1, 128)
  closedBy: string;

  @IsOptional() @IsString() @MaxLength(512)
  note?: string;
}

export class TeamMember {
  /** The surveyor's subject (the `sub` of their token). */
  @IsString() @Length(1, 128)
  surveyorId: string;

  @IsString() @Length(1, 64)
  name: string;
}

/** A team of surveyors (一般以2-3人为一组, §18) under a township, for a campaign. */
export class SurveyTeamFormedV1 {
  @IsUUID()
  teamId: string;

  @IsUUID()
  campaignId: string;

  @Matches(DIVISION_PATTERNS.township, { message: 'townshipCode must be a 9-digit township/street code' })
  townshipCode: string;

  @IsString() @Length(1, 64)
  name: string;

  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(10) @ValidateNested({ each: true }) @Type(() => TeamMember)
  members: TeamMember[];

  @IsString() @Length(1, 128)
  formedBy: string;
}

/** The team's members now (someone joined or left). */
export class SurveyTeamChangedV1 {
  @IsUUID()
  teamId: string;

  @IsUUID()
  campaignId: string;

  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(10) @ValidateNested({ each: true }) @Type(() => TeamMember)
  members: TeamMember[];

  @IsString() @Length(1, 128)
  changedBy: string;
}

export class VillageTeams {
  @Matches(DIVISION_PATTERNS.village, { message: 'villageCode must be a 12-digit village/community code' })
  villageCode: string;

  /** The teams working the village (two where a village is split, 高州: 每个村委会分两组); empty: none. */
  @IsArray() @ArrayMaxSize(10) @IsUUID('all', { each: true })
  teamIds: string[];
}

export const ASSIGNMENT_MODES = ['manual', 'auto'] as const;
export type AssignmentMode = (typeof ASSIGNMENT_MODES)[number];

/** Villages of a township given to teams (on the campaign's stream); each listed village's teams are replaced. */
export class SurveyVillagesAssignedV1 {
  @IsUUID()
  campaignId: string;

  @Matches(DIVISION_PATTERNS.township, { message: 'townshipCode must be a 9-digit township/street code' })
  townshipCode: string;

  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(1000) @ValidateNested({ each: true }) @Type(() => VillageTeams)
  villages: VillageTeams[];

  @IsIn(ASSIGNMENT_MODES)
  mode: AssignmentMode;

  @IsString() @Length(1, 128)
  assignedBy: string;
}

/** Why a target has its surveyor: given by hand, by the balanced distribution, to who found the person, or after its surveyor left the team. */
export const TARGET_ASSIGNMENT_MODES = ['manual', 'auto', 'found', 'member-left', 'new-target'] as const;
export type TargetAssignmentMode = (typeof TARGET_ASSIGNMENT_MODES)[number];

/** A target's responsible surveyor (责任人, seed 001: every target has a named one) and team. */
export class SurveyTargetAssignedV1 {
  @IsUUID()
  taskId: string;

  @IsUUID()
  campaignId: string;

  @IsUUID()
  teamId: string;

  @IsString() @Length(1, 128)
  surveyorId: string;

  /** Who had it before; null the first time. */
  @IsOptional() @IsString() @Length(1, 128)
  previousSurveyorId: string | null;

  @IsIn(TARGET_ASSIGNMENT_MODES)
  mode: TargetAssignmentMode;

  @IsOptional() @IsString() @MaxLength(256)
  reason?: string;

  /** `user:<sub>` of who decided, or the service. */
  @IsString() @Length(1, 128)
  assignedBy: string;
}

/**
 * A person met at a household who was not on the target list (§18: 新发现的需调查登记人员): a target
 * of their own in the household's village, linked to the household and the target where they were
 * found. Their registration form follows as `survey.form-submitted`.
 */
export class SurveyPersonFoundV1 {
  @IsUUID()
  taskId: string;

  @Matches(DIVISION_PATTERNS.village, { message: 'villageCode must be a 12-digit village/community code' })
  villageCode: string;

  /** The household they were found in (`<village>-<户号>`, or `P-<person key>` of a one-person household). */
  @IsString() @Length(1, 64)
  householdKey: string;

  /** Relation to the head of the household (与户主关系). */
  @IsString() @Length(1, 16)
  relation: string;

  @IsString() @Length(1, 64)
  name: string;

  /** The target whose household they were found in. */
  @IsUUID()
  foundInTaskId: string;

  @IsUUID()
  visitId: string;

  @IsString() @Length(1, 128)
  surveyorId: string;
}
