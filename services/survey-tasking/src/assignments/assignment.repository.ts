import { Injectable } from '@nestjs/common';
import { PersonKeyColumn } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';

/** One assignment of a target to a surveyor, from when it was given to when it was taken away. */
export interface AssignmentRow {
  eventId: string;
  taskId: string;
  personKey: string;
  campaignId: string;
  teamId: string;
  surveyorId: string;
  previousSurveyorId: string | null;
  mode: string;
  reason: string | null;
  assignedBy: string;
  assignedAt: string;
  endedAt: string | null;
}

/**
 * `survey_assignment`: the history of who was responsible for each target (reassignment keeps it). All SQL of the table.
 * `person_key` holds the person ID (ADR 0011, stage 5, `PersonKeyColumn`): converted here.
 */
@Injectable()
export class AssignmentRepository {
  constructor(private readonly keys: PersonKeyColumn) {}

  /** Appends assignments in order, in one statement; each ends the target's assignment before it. */
  async appendMany(manager: EntityManager, rows: readonly Omit<AssignmentRow, 'endedAt'>[]): Promise<void> {
    if (rows.length === 0) return;
    await manager.query(
      `WITH a AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS a("eventId" text, "taskId" uuid, "personKey" text, "campaignId" uuid, "teamId" uuid,
                "surveyorId" text, "previousSurveyorId" text, mode text, reason text, "assignedBy" text, "assignedAt" timestamptz, ord bigint)),
       ended AS (
         UPDATE survey_assignment s SET ended_at = f.first_at, synced_xid = pg_current_xact_id()
           FROM (SELECT "taskId", (array_agg("assignedAt" ORDER BY ord))[1] AS first_at FROM a GROUP BY 1) f
          WHERE s.task_id = f."taskId" AND s.ended_at IS NULL RETURNING 1)
       INSERT INTO survey_assignment (event_id, task_id, person_key, campaign_id, team_id, surveyor_id, previous_surveyor_id, mode, reason, assigned_by, assigned_at, ended_at)
       SELECT "eventId", "taskId", "personKey", "campaignId", "teamId", "surveyorId", "previousSurveyorId", mode, reason, "assignedBy", "assignedAt",
              lead("assignedAt") OVER (PARTITION BY "taskId" ORDER BY ord)
         FROM a ORDER BY ord
       ON CONFLICT (event_id) DO NOTHING`,
      [JSON.stringify(rows.map((r, ord) => ({ ...r, personKey: this.keys.stored(r.personKey), ord })))],
    );
  }

  async ofTask(manager: EntityManager, taskId: string): Promise<AssignmentRow[]> {
    const rows: (Omit<AssignmentRow, 'assignedAt' | 'endedAt'> & { assignedAt: Date; endedAt: Date | null })[] = await manager.query(
      `SELECT event_id AS "eventId", task_id AS "taskId", person_key AS "personKey", campaign_id AS "campaignId", team_id AS "teamId", surveyor_id AS "surveyorId",
              previous_surveyor_id AS "previousSurveyorId", mode, reason, assigned_by AS "assignedBy", assigned_at AS "assignedAt", ended_at AS "endedAt"
         FROM survey_assignment WHERE task_id = $1 ORDER BY assigned_at, event_id`,
      [taskId],
    );
    return rows.map((r) => ({ ...r, personKey: this.keys.key(r.personKey), assignedAt: new Date(r.assignedAt).toISOString(), endedAt: r.endedAt ? new Date(r.endedAt).toISOString() : null }));
  }
}
