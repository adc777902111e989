import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ItemStage, ItemStatus, ReviewItem } from './review-item.decider';

const COLUMNS = `review_id AS "reviewId", submission_id AS "submissionId", task_id AS "taskId", person_key AS "personKey",
  village_code AS "villageCode", township_code AS "townshipCode", county_code AS "countyCode", stage, status, form,
  surveyor_id AS "surveyorId", submitted_at AS "submittedAt", based_on_version AS "basedOnVersion",
  initial_reviewer AS "initialReviewer", initial_comment AS "initialComment", final_reviewer AS "finalReviewer",
  return_reason AS "returnReason", updated_at AS "updatedAt", version`;

type RawItem = Omit<ReviewItem, 'submittedAt' | 'updatedAt'> & { submittedAt: Date | string; updatedAt: Date | string };

function item(r: RawItem): ReviewItem {
  const iso = (v: Date | string): string => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());
  return { ...r, submittedAt: iso(r.submittedAt), updatedAt: iso(r.updatedAt) };
}

export interface ItemFilter {
  /** Division code prefix within which items lie (village code). */
  within: string;
  stage?: ItemStage;
  status?: ItemStatus;
  limit: number;
  offset: number;
}

/** `review_item`: every review item's current state. All SQL of the table. */
@Injectable()
export class ReviewItemRepository {
  async find(manager: EntityManager, reviewId: string, forUpdate = false): Promise<ReviewItem | null> {
    const rows: RawItem[] = await manager.query(`SELECT ${COLUMNS} FROM review_item WHERE review_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [reviewId]);
    return rows[0] ? item(rows[0]) : null;
  }

  /** These items, locked for the batch that changes them. */
  async findMany(manager: EntityManager, reviewIds: readonly string[]): Promise<Map<string, ReviewItem>> {
    const out = new Map<string, ReviewItem>();
    if (reviewIds.length === 0) return out;
    const rows: RawItem[] = await manager.query(`SELECT ${COLUMNS} FROM review_item WHERE review_id = ANY($1::uuid[]) ORDER BY review_id FOR UPDATE`, [[...new Set(reviewIds)]]);
    for (const r of rows) out.set(r.reviewId, item(r));
    return out;
  }

  async forPerson(manager: EntityManager, personKey: string): Promise<ReviewItem[]> {
    const rows: RawItem[] = await manager.query(`SELECT ${COLUMNS} FROM review_item WHERE person_key = $1 ORDER BY submitted_at, review_id`, [personKey]);
    return rows.map(item);
  }

  async list(manager: EntityManager, f: ItemFilter): Promise<{ total: number; items: ReviewItem[] }> {
    const params = [`${f.within}%`, f.stage ?? null, f.status ?? null];
    const where = `village_code LIKE $1 AND ($2::text IS NULL OR stage = $2) AND ($3::text IS NULL OR status = $3)`;
    const [{ total }] = (await manager.query(`SELECT count(*)::int AS total FROM review_item WHERE ${where}`, params)) as [{ total: number }];
    const rows: RawItem[] = await manager.query(
      `SELECT ${COLUMNS} FROM review_item WHERE ${where} ORDER BY submitted_at, review_id LIMIT $4 OFFSET $5`,
      [...params, f.limit, f.offset],
    );
    return { total, items: rows.map(item) };
  }

  /** Upserts items in one statement (at most one row per item). */
  async saveMany(manager: EntityManager, items: readonly ReviewItem[]): Promise<void> {
    if (items.length === 0) return;
    await manager.query(
      `INSERT INTO review_item (review_id, submission_id, task_id, person_key, village_code, township_code, county_code, stage, status,
         form, surveyor_id, submitted_at, based_on_version, initial_reviewer, initial_comment, final_reviewer, return_reason, updated_at, version)
       SELECT i."reviewId", i."submissionId", i."taskId", i."personKey", i."villageCode", i."townshipCode", i."countyCode", i.stage, i.status,
              i.form, i."surveyorId", i."submittedAt", i."basedOnVersion", i."initialReviewer", i."initialComment", i."finalReviewer",
              i."returnReason", i."updatedAt", i.version
         FROM jsonb_to_recordset($1::jsonb) AS i("reviewId" uuid, "submissionId" uuid, "taskId" uuid, "personKey" text, "villageCode" text,
              "townshipCode" text, "countyCode" text, stage text, status text, form jsonb, "surveyorId" text, "submittedAt" timestamptz,
              "basedOnVersion" int, "initialReviewer" text, "initialComment" text, "finalReviewer" text, "returnReason" text,
              "updatedAt" timestamptz, version int)
       ON CONFLICT (review_id) DO UPDATE SET stage = EXCLUDED.stage, status = EXCLUDED.status, initial_reviewer = EXCLUDED.initial_reviewer,
         initial_comment = EXCLUDED.initial_comment, final_reviewer = EXCLUDED.final_reviewer, return_reason = EXCLUDED.return_reason,
         updated_at = EXCLUDED.updated_at, version = EXCLUDED.version`,
      [JSON.stringify(items)],
    );
  }
}
