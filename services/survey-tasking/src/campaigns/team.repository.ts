import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Team } from './campaign.decider';

const COLUMNS = `team_id AS "teamId", campaign_id AS "campaignId", township_code AS "townshipCode", name, members, formed_at AS "formedAt", updated_at AS "updatedAt"`;

type Raw = Omit<Team, 'formedAt' | 'updatedAt'> & { formedAt: Date; updatedAt: Date };
const row = (r: Raw): Team => ({ ...r, formedAt: new Date(r.formedAt).toISOString(), updatedAt: new Date(r.updatedAt).toISOString() });

/** `survey_team`: the teams of surveyors of each campaign, under a township. All SQL of the table. */
@Injectable()
export class TeamRepository {
  async findMany(manager: EntityManager, teamIds: readonly string[], forUpdate = false): Promise<Map<string, Team>> {
    const out = new Map<string, Team>();
    if (teamIds.length === 0) return out;
    const rows: Raw[] = await manager.query(`SELECT ${COLUMNS} FROM survey_team WHERE team_id = ANY($1::uuid[]) ORDER BY team_id${forUpdate ? ' FOR UPDATE' : ''}`, [[...new Set(teamIds)]]);
    for (const r of rows) out.set(r.teamId, row(r));
    return out;
  }

  /** A campaign's teams within a division (a township or one of its villages' township), in name order. */
  async ofCampaign(manager: EntityManager, campaignId: string, within = ''): Promise<Team[]> {
    const rows: Raw[] = await manager.query(
      `SELECT ${COLUMNS} FROM survey_team WHERE campaign_id = $1 AND (township_code LIKE $2 || '%' OR $2 LIKE township_code || '%') ORDER BY township_code, name, team_id`,
      [campaignId, within],
    );
    return rows.map(row);
  }

  async saveMany(manager: EntityManager, teams: readonly Team[]): Promise<void> {
    if (teams.length === 0) return;
    await manager.query(
      `INSERT INTO survey_team (team_id, campaign_id, township_code, name, members, formed_at, updated_at)
       SELECT t."teamId", t."campaignId", t."townshipCode", t.name, t.members, t."formedAt", t."updatedAt"
         FROM jsonb_to_recordset($1::jsonb) AS t("teamId" uuid, "campaignId" uuid, "townshipCode" text, name text, members jsonb, "formedAt" timestamptz, "updatedAt" timestamptz)
       ON CONFLICT (team_id) DO UPDATE SET name = EXCLUDED.name, members = EXCLUDED.members, updated_at = EXCLUDED.updated_at`,
      [JSON.stringify(teams)],
    );
  }
}
