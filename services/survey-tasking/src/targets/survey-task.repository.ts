import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { SurveyTarget, TargetStatus } from './survey-target.decider';

/** A target as listed: the state plus the township and county it lies in. */
export interface TaskRow extends SurveyTarget {
  townshipCode: string;
  countyCode: string;
}

const COLUMNS = `task_id AS "taskId", person_key AS "personKey", village_code AS "villageCode",
  township_code AS "townshipCode", county_code AS "countyCode", status, reasons, submission_id AS "submissionId",
  surveyor_id AS "surveyorId", return_reason AS "returnReason", closed_reason AS "closedReason",
  created_at AS "createdAt", updated_at AS "updatedAt", version`;

interface RawRow extends Omit<TaskRow, 'createdAt' | 'updatedAt'> {
  createdAt: Date | string;
  updatedAt: Date | string;
}

function row(r: RawRow): TaskRow {
  const iso = (v: Date | string): string => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());
  return { ...r, createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt) };
}

export interface TaskFilter {
  /** Division code prefix within which targets lie (village code). */
  within: string;
  status?: TargetStatus;
  limit: number;
  offset: number;
}

/** `survey_task`: every survey target's current state. All SQL of the table. */
@Injectable()
export class SurveyTaskRepository {
  async find(manager: EntityManager, taskId: string, forUpdate = false): Promise<TaskRow | null> {
    const rows: RawRow[] = await manager.query(`SELECT ${COLUMNS} FROM survey_task WHERE task_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [taskId]);
    return rows[0] ? row(rows[0]) : null;
  }

  /** Each person's current (newest) target, locked for the batch that changes it. */
  async currentOf(manager: EntityManager, personKeys: readonly string[]): Promise<Map<string, SurveyTarget>> {
    const out = new Map<string, SurveyTarget>();
    if (personKeys.length === 0) return out;
    const rows: RawRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM survey_task WHERE task_id IN (
         SELECT DISTINCT ON (person_key) task_id FROM survey_task WHERE person_key = ANY($1::text[])
          ORDER BY person_key, created_at DESC, task_id)
        ORDER BY task_id FOR UPDATE`,
      [[...new Set(personKeys)]],
    );
    for (const r of rows) out.set(r.personKey, row(r));
    return out;
  }

  async forPerson(manager: EntityManager, personKey: string): Promise<TaskRow[]> {
    const rows: RawRow[] = await manager.query(`SELECT ${COLUMNS} FROM survey_task WHERE person_key = $1 ORDER BY created_at, task_id`, [personKey]);
    return rows.map(row);
  }

  async list(manager: EntityManager, filter: TaskFilter): Promise<{ total: number; items: TaskRow[] }> {
    const params = [`${filter.within}%`, filter.status ?? null];
    const where = `village_code LIKE $1 AND ($2::text IS NULL OR status = $2)`;
    const [{ total }] = (await manager.query(`SELECT count(*)::int AS total FROM survey_task WHERE ${where}`, params)) as [{ total: number }];
    const rows: RawRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM survey_task WHERE ${where} ORDER BY village_code, created_at, task_id LIMIT $3 OFFSET $4`,
      [...params, filter.limit, filter.offset],
    );
    return { total, items: rows.map(row) };
  }

  /** Upserts targets in one statement (at most one row per task). */
  async saveMany(manager: EntityManager, targets: readonly SurveyTarget[]): Promise<void> {
    if (targets.length === 0) return;
    await manager.query(
      `INSERT INTO survey_task (task_id, person_key, village_code, township_code, county_code, status, reasons, submission_id,
         surveyor_id, return_reason, closed_reason, created_at, updated_at, version)
       SELECT t."taskId", t."personKey", t."villageCode", substr(t."villageCode", 1, 9), substr(t."villageCode", 1, 6), t.status,
              ARRAY(SELECT jsonb_array_elements_text(t.reasons)), t."submissionId", t."surveyorId", t."returnReason", t."closedReason",
              t."createdAt", t."updatedAt", t.version
         FROM jsonb_to_recordset($1::jsonb) AS t("taskId" uuid, "personKey" text, "villageCode" text, status text, reasons jsonb,
              "submissionId" uuid, "surveyorId" text, "returnReason" text, "closedReason" text, "createdAt" timestamptz,
              "updatedAt" timestamptz, version int)
       ON CONFLICT (task_id) DO UPDATE SET status = EXCLUDED.status, reasons = EXCLUDED.reasons, submission_id = EXCLUDED.submission_id,
         surveyor_id = EXCLUDED.surveyor_id, return_reason = EXCLUDED.return_reason, closed_reason = EXCLUDED.closed_reason,
         updated_at = EXCLUDED.updated_at, version = EXCLUDED.version`,
      [JSON.stringify(targets)],
    );
  }
}
