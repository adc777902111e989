import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Campaign } from './campaign.decider';

const COLUMNS = `campaign_id AS "campaignId", county_code AS "countyCode", name, to_char(starts_on, 'YYYY-MM-DD') AS "startsOn",
  to_char(deadline, 'YYYY-MM-DD') AS deadline, status, opened_by AS "openedBy", opened_at AS "openedAt", closed_at AS "closedAt"`;

type Raw = Omit<Campaign, 'openedAt' | 'closedAt'> & { openedAt: Date; closedAt: Date | null };
const row = (r: Raw): Campaign => ({ ...r, openedAt: new Date(r.openedAt).toISOString(), closedAt: r.closedAt ? new Date(r.closedAt).toISOString() : null });

/** `survey_campaign`: each county's survey campaigns. All SQL of the table. */
@Injectable()
export class CampaignRepository {
  async find(manager: EntityManager, campaignId: string, forUpdate = false): Promise<Campaign | null> {
    const rows: Raw[] = await manager.query(`SELECT ${COLUMNS} FROM survey_campaign WHERE campaign_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [campaignId]);
    return rows[0] ? row(rows[0]) : null;
  }

  async findMany(manager: EntityManager, campaignIds: readonly string[]): Promise<Map<string, Campaign>> {
    const out = new Map<string, Campaign>();
    if (campaignIds.length === 0) return out;
    const rows: Raw[] = await manager.query(`SELECT ${COLUMNS} FROM survey_campaign WHERE campaign_id = ANY($1::uuid[])`, [[...new Set(campaignIds)]]);
    for (const r of rows) out.set(r.campaignId, row(r));
    return out;
  }

  /** The open campaign of each of these counties (the most recently opened, should there be two). */
  async openIn(manager: EntityManager, countyCodes: readonly string[]): Promise<Map<string, Campaign>> {
    const out = new Map<string, Campaign>();
    if (countyCodes.length === 0) return out;
    const rows: Raw[] = await manager.query(
      `SELECT DISTINCT ON (county_code) ${COLUMNS} FROM survey_campaign WHERE county_code = ANY($1::text[]) AND status = 'open' ORDER BY county_code, opened_at DESC, campaign_id`,
      [[...new Set(countyCodes)]],
    );
    for (const r of rows) out.set(r.countyCode, row(r));
    return out;
  }

  async list(manager: EntityManager, within: string): Promise<Campaign[]> {
    const rows: Raw[] = await manager.query(`SELECT ${COLUMNS} FROM survey_campaign WHERE county_code LIKE $1 || '%' OR $1 LIKE county_code || '%' ORDER BY opened_at DESC, campaign_id`, [within]);
    return rows.map(row);
  }

  async saveMany(manager: EntityManager, campaigns: readonly Campaign[]): Promise<void> {
    if (campaigns.length === 0) return;
    await manager.query(
      `INSERT INTO survey_campaign (campaign_id, county_code, name, starts_on, deadline, status, opened_by, opened_at, closed_at)
       SELECT c."campaignId", c."countyCode", c.name, c."startsOn"::date, c.deadline::date, c.status, c."openedBy", c."openedAt", c."closedAt"
         FROM jsonb_to_recordset($1::jsonb) AS c("campaignId" uuid, "countyCode" text, name text, "startsOn" text, deadline text, status text,
              "openedBy" text, "openedAt" timestamptz, "closedAt" timestamptz)
       ON CONFLICT (campaign_id) DO UPDATE SET name = EXCLUDED.name, deadline = EXCLUDED.deadline, status = EXCLUDED.status, closed_at = EXCLUDED.closed_at`,
      [JSON.stringify(campaigns)],
    );
  }
}
