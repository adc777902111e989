import { Injectable } from '@nestjs/common';
import { PersonalDataSealer, PersonKeyColumn, sealPlainRowsInPlace } from '@qmcb/service-kit';
import type { PlainRowSealer } from '@qmcb/service-kit';
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

/** Where a payload is sealed (ADR 0011: the AAD names it, so it opens nowhere else). */
export const VISIT_PAYLOAD = 'survey_visit.payload';

type StoredVisit = Omit<VisitRow, 'payload'> & { payload: Record<string, unknown> | null; sealed: Buffer | null };

const COLUMNS = `record_id AS "recordId", visit_id AS "visitId", task_id AS "taskId", person_key AS "personKey", surveyor_id AS "surveyorId", outcome,
  visited_at AS "visitedAt", submission_id AS "submissionId", payload, recorded_at AS "recordedAt", sealed`;

/**
 * `survey_visit`: every visit and form, for retries (the same IDs answer the same) and the ledgers. All SQL of the table.
 *
 * At rest (ADR 0011, stage 4) the payload (reasons, where the person is, the collected form and its
 * household members) is `sealed` under the person's data key and `payload` is null; SQL reads only
 * the plain columns (task, outcome, times). A row written before that has `sealed` null and the
 * payload in `payload`: read as it is. `person_key` holds the person ID (stage 5, `PersonKeyColumn`):
 * converted here, so callers deal in person keys.
 */
@Injectable()
export class SurveyVisitRepository implements PlainRowSealer {
  readonly table = 'survey_visit';

  constructor(
    private readonly sealer: PersonalDataSealer,
    private readonly keys: PersonKeyColumn,
  ) {}

  async countPlain(manager: EntityManager): Promise<number> {
    const [{ n }] = (await manager.query(`SELECT count(*)::int AS n FROM survey_visit WHERE sealed IS NULL`)) as [{ n: number }];
    return n;
  }

  /** Seals rows written before sealing (`seal-records`), by record ID: their payload as it is, locked; an erased person's are left to the erasure. */
  sealPlainRows(manager: EntityManager, after: string | null, limit: number): Promise<{ last: string | null; sealed: number }> {
    return sealPlainRowsInPlace<StoredVisit>(manager, this.sealer, {
      table: 'survey_visit',
      idColumn: 'record_id',
      columns: COLUMNS,
      place: VISIT_PAYLOAD,
      idOf: (r) => r.recordId,
      personKeyOf: (r) => this.keys.key(r.personKey),
      valueOf: (r) => r.payload,
      cleared: ['payload'],
    }, after, limit);
  }

  async insertMany(manager: EntityManager, visits: readonly VisitRow[]): Promise<void> {
    if (visits.length === 0) return;
    const sealed = await this.sealer.seal(VISIT_PAYLOAD, visits.map((v) => ({ personKey: v.personKey, value: v.payload })));
    // An erased person (key shredded) is not written again: ADR 0010 deleted their rows.
    const kept = visits.flatMap((v, i) => {
      const bytes = sealed[i];
      return bytes ? [{ ...v, personKey: this.keys.stored(v.personKey), payload: null, sealed: bytes.toString('base64') }] : [];
    });
    if (kept.length === 0) return;
    await manager.query(
      `INSERT INTO survey_visit (record_id, visit_id, task_id, person_key, surveyor_id, outcome, visited_at, submission_id, payload, sealed, recorded_at)
       SELECT v."recordId", v."visitId", v."taskId", v."personKey", v."surveyorId", v.outcome, v."visitedAt", v."submissionId", NULL, decode(v.sealed, 'base64'), v."recordedAt"
         FROM jsonb_to_recordset($1::jsonb) AS v("recordId" uuid, "visitId" uuid, "taskId" uuid, "personKey" text, "surveyorId" text, outcome text,
              "visitedAt" timestamptz, "submissionId" uuid, sealed text, "recordedAt" timestamptz)
       ON CONFLICT (record_id) DO NOTHING`,
      [JSON.stringify(kept)],
    );
  }

  async find(manager: EntityManager, recordId: string): Promise<VisitRow | null> {
    const rows: StoredVisit[] = await manager.query(`SELECT ${COLUMNS} FROM survey_visit WHERE record_id = $1`, [recordId]);
    return (await this.opened(rows))[0] ?? null;
  }

  /** The latest form of each of these targets (what the ledger shows as collected). */
  async latestForms(manager: EntityManager, taskIds: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    if (taskIds.length === 0) return out;
    const rows: { taskId: string; personKey: string; payload: Record<string, unknown> | null; sealed: Buffer | null }[] = await manager.query(
      `SELECT DISTINCT ON (task_id) task_id AS "taskId", person_key AS "personKey", payload, sealed FROM survey_visit
        WHERE task_id = ANY($1::uuid[]) AND outcome = 'collected' ORDER BY task_id, recorded_at DESC, record_id`,
      [[...new Set(taskIds)]],
    );
    const payloads = await this.sealer.open<Record<string, unknown>>(VISIT_PAYLOAD, rows.map((r) => ({ personKey: this.keys.key(r.personKey), sealed: r.sealed, plain: r.payload })));
    rows.forEach((r, i) => {
      const payload = payloads[i];
      if (payload !== undefined) out.set(r.taskId, payload);
    });
    return out;
  }

  /** The rows with their payloads opened (one keyring look-up); an erased person's are left out. */
  private async opened(stored: readonly StoredVisit[]): Promise<VisitRow[]> {
    const rows = stored.map((r) => ({ ...r, personKey: this.keys.key(r.personKey) }));
    const payloads = await this.sealer.open<Record<string, unknown>>(VISIT_PAYLOAD, rows.map((r) => ({ personKey: r.personKey, sealed: r.sealed, plain: r.payload })));
    return rows.flatMap((r, i) => {
      const payload = payloads[i];
      if (payload === undefined) return [];
      const { sealed: _sealed, ...row } = r;
      return [{ ...row, payload }];
    });
  }
}
