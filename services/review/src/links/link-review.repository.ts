import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { LinkReview, LinkReviewStage, LinkReviewStatus } from './link-review.decider';

const COLUMNS = `link_id AS "linkId", person_key AS "personKey", record_key AS "recordKey", citizen_id_as_sent AS "citizenIdAsSent", sources,
  score, threshold, criteria, village_code AS "villageCode", township_code AS "townshipCode", county_code AS "countyCode", stage, status,
  proposed_at AS "proposedAt", initial_reviewer AS "initialReviewer", initial_comment AS "initialComment", decided_by AS "decidedBy",
  decision_note AS "decisionNote", decided_at AS "decidedAt", updated_at AS "updatedAt", version`;

type Time = Date | string;
type Raw = Omit<LinkReview, 'proposedAt' | 'updatedAt' | 'decidedAt'> & { proposedAt: Time; updatedAt: Time; decidedAt: Time | null };

const iso = (v: Time): string => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

function review(r: Raw): LinkReview {
  return { ...r, proposedAt: iso(r.proposedAt), updatedAt: iso(r.updatedAt), decidedAt: r.decidedAt === null ? null : iso(r.decidedAt) };
}

export interface LinkReviewFilter {
  /** Division code prefix of the person's village. */
  within: string;
  stage?: LinkReviewStage;
  status?: LinkReviewStatus;
  limit: number;
  offset: number;
}

/** `link_review`: the review of every proposed identity link. All SQL of the table. */
@Injectable()
export class LinkReviewRepository {
  async find(manager: EntityManager, linkId: string, forUpdate = false): Promise<LinkReview | null> {
    const rows: Raw[] = await manager.query(`SELECT ${COLUMNS} FROM link_review WHERE link_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [linkId]);
    return rows[0] ? review(rows[0]) : null;
  }

  /** These reviews, locked for the batch that changes them, in link ID order. */
  async findMany(manager: EntityManager, linkIds: readonly string[]): Promise<Map<string, LinkReview>> {
    const out = new Map<string, LinkReview>();
    if (linkIds.length === 0) return out;
    const rows: Raw[] = await manager.query(`SELECT ${COLUMNS} FROM link_review WHERE link_id = ANY($1::uuid[]) ORDER BY link_id FOR UPDATE`, [[...new Set(linkIds)]]);
    for (const r of rows) out.set(r.linkId, review(r));
    return out;
  }

  /** The queue within a division, oldest proposal first. */
  async list(manager: EntityManager, f: LinkReviewFilter): Promise<{ total: number; items: LinkReview[] }> {
    const params = [`${f.within}%`, f.stage ?? null, f.status ?? null];
    const where = `village_code LIKE $1 AND ($2::text IS NULL OR stage = $2) AND ($3::text IS NULL OR status = $3)`;
    const [{ total }] = (await manager.query(`SELECT count(*)::int AS total FROM link_review WHERE ${where}`, params)) as [{ total: number }];
    const rows: Raw[] = await manager.query(`SELECT ${COLUMNS} FROM link_review WHERE ${where} ORDER BY proposed_at, link_id LIMIT $4 OFFSET $5`, [...params, f.limit, f.offset]);
    return { total, items: rows.map(review) };
  }

  /** Upserts reviews in one statement (at most one row per link). */
  async saveMany(manager: EntityManager, reviews: readonly LinkReview[]): Promise<void> {
    if (reviews.length === 0) return;
    await manager.query(
      `INSERT INTO link_review (link_id, person_key, record_key, citizen_id_as_sent, sources, score, threshold, criteria, village_code, township_code,
         county_code, stage, status, proposed_at, initial_reviewer, initial_comment, decided_by, decision_note, decided_at, updated_at, version)
       SELECT r."linkId", r."personKey", r."recordKey", r."citizenIdAsSent", r.sources, r.score, r.threshold, r.criteria, r."villageCode",
              r."townshipCode", r."countyCode", r.stage, r.status, r."proposedAt", r."initialReviewer", r."initialComment", r."decidedBy",
              r."decisionNote", r."decidedAt", r."updatedAt", r.version
         FROM jsonb_to_recordset($1::jsonb) AS r("linkId" uuid, "personKey" text, "recordKey" text, "citizenIdAsSent" text, sources jsonb,
              score int, threshold int, criteria jsonb, "villageCode" text, "townshipCode" text, "countyCode" text, stage text, status text,
              "proposedAt" timestamptz, "initialReviewer" text, "initialComment" text, "decidedBy" text, "decisionNote" text,
              "decidedAt" timestamptz, "updatedAt" timestamptz, version int)
       ON CONFLICT (link_id) DO UPDATE SET stage = EXCLUDED.stage, status = EXCLUDED.status, initial_reviewer = EXCLUDED.initial_reviewer,
         initial_comment = EXCLUDED.initial_comment, decided_by = EXCLUDED.decided_by, decision_note = EXCLUDED.decision_note,
         decided_at = EXCLUDED.decided_at, updated_at = EXCLUDED.updated_at, version = EXCLUDED.version`,
      [JSON.stringify(reviews)],
    );
  }
}
