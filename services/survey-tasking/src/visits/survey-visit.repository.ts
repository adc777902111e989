import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** A visit as recorded: its outcome (`collected` for a form) and what the surveyor sent. */
export interface VisitRow {
  /** The visit's ID for a visit without a form, the submission's for a form. */
  recordId: string;
  visitId: string;
  taskId: string;
  personKey: string;
  surveyorId: string;
  outcome: string;
  visitedAt: string;
  submissionId: string | null;
  /** The event's payload. */
  payload: Record<string, unknown>;
  recordedAt: string;
}

/** `survey_visit`: every visit and form, for retries (the same IDs answer the same) and the ledgers. All SQL of the table. */
@Injectable()
export class SurveyVisitRepository {
  async insertMany(manager: EntityManager, visits: readonly VisitRow[]): Promise<void> {
    if (visits.length === 0) return;
    await manager.query(
      `INSERT INTO survey_visit (record_id, visit_id, task_id, person_key, surveyor_id, outcome, visited_at, submission_id, payload, recorded_at)
       SELECT v."recordId", v."visitId", v."taskId", v."personKey", v."surveyorId", v.outcome, v."visitedAt", v."submissionId", v.payload, v."recordedAt"
         FROM jsonb_to_recordset($1::jsonb) AS v("recordId" uuid, "visitId" uuid, "taskId" uuid, "personKey" text, "surveyorId" text, outcome text,
              "visitedAt" timestamptz, "submissionId" uuid, payload jsonb, "recordedAt" timestamptz)
       ON CONFLICT (record_id) DO NOTHING`,
      [JSON.stringify(visits)],
    );
  }

  async find(manager: EntityManager, recordId: string): Promise<VisitRow | null> {
    const rows: VisitRow[] = await manager.query(
      `SELECT record_id AS "recordId", visit_id AS "visitId", task_id AS "taskId", person_key AS "personKey", surveyor_id AS "surveyorId", outcome,
              visited_at AS "visitedAt", submission_id AS "submissionId", payload, recorded_at AS "recordedAt"
         FROM survey_visit WHERE record_id = $1`,
      [recordId],
    );
    return rows[0] ?? null;
  }

  /** The latest form of each of these targets (what the ledger shows as collected). */
  async latestForms(manager: EntityManager, taskIds: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    if (taskIds.length === 0) return out;
    const rows: { taskId: string; payload: Record<string, unknown> }[] = await manager.query(
      `SELECT DISTINCT ON (task_id) task_id AS "taskId", payload FROM survey_visit
        WHERE task_id = ANY($1::uuid[]) AND outcome = 'collected' ORDER BY task_id, recorded_at DESC, record_id`,
      [[...new Set(taskIds)]],
    );
    for (const r of rows) out.set(r.taskId, r.payload);
    return out;
  }
}
