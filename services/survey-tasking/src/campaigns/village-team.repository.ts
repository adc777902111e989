import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** `survey_village_team`: which teams work each village in a campaign. All SQL of the table. */
@Injectable()
export class VillageTeamRepository {
  /** Replaces the teams of the listed villages. */
  async replace(manager: EntityManager, campaignId: string, villages: readonly { villageCode: string; teamIds: string[] }[]): Promise<void> {
    if (villages.length === 0) return;
    await manager.query(`DELETE FROM survey_village_team WHERE campaign_id = $1 AND village_code = ANY($2::text[])`, [campaignId, villages.map((v) => v.villageCode)]);
    const rows = villages.flatMap((v) => v.teamIds.map((teamId) => ({ villageCode: v.villageCode, teamId })));
    if (rows.length === 0) return;
    await manager.query(
      `INSERT INTO survey_village_team (campaign_id, village_code, team_id)
       SELECT $1, r."villageCode", r."teamId" FROM jsonb_to_recordset($2::jsonb) AS r("villageCode" text, "teamId" uuid) ON CONFLICT DO NOTHING`,
      [campaignId, JSON.stringify(rows)],
    );
  }

  /** The teams of each of these villages in a campaign. */
  async teamsOf(manager: EntityManager, campaignId: string, villageCodes: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (villageCodes.length === 0) return out;
    const rows: { village: string; team: string }[] = await manager.query(
      `SELECT village_code AS village, team_id AS team FROM survey_village_team WHERE campaign_id = $1 AND village_code = ANY($2::text[]) ORDER BY village_code, team_id`,
      [campaignId, [...new Set(villageCodes)]],
    );
    for (const r of rows) out.set(r.village, [...(out.get(r.village) ?? []), r.team]);
    return out;
  }

  async ofCampaign(manager: EntityManager, campaignId: string, within: string): Promise<{ villageCode: string; teamId: string }[]> {
    return manager.query(
      `SELECT village_code AS "villageCode", team_id AS "teamId" FROM survey_village_team WHERE campaign_id = $1 AND village_code LIKE $2 || '%' ORDER BY village_code, team_id`,
      [campaignId, within],
    );
  }
}
