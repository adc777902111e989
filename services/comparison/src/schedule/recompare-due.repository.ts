import { Injectable } from '@nestjs/common';
import { PersonKeyColumn } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';
import type { RecompareDue } from './next-due';

/** A person's next recompare day, and the event whose comparison computed it. */
export interface DueRow {
  personKey: string;
  dueDate: string;
  because: string[];
  basisEventId: string;
}

/**
 * `recompare_due`: all SQL of the table. `person_key` holds the person ID (ADR 0011 stage 5,
 * `PersonKeyColumn`): converted here both ways; what this takes and returns is in person keys.
 */
@Injectable()
export class RecompareDueRepository {
  constructor(private readonly keys: PersonKeyColumn) {}

  /**
   * The days computed in a batch, at most one per person: a day replaces the person's row (and
   * waits to be fired again), no day deletes it. Two statements.
   */
  async saveMany(manager: EntityManager, rows: readonly { personKey: string; due: RecompareDue | null; basisEventId: string }[]): Promise<void> {
    const upserts = rows.filter((r) => r.due !== null);
    const deletes = rows.filter((r) => r.due === null).map((r) => this.keys.stored(r.personKey));
    if (upserts.length > 0) {
      await manager.query(
        `INSERT INTO recompare_due (person_key, due_date, because, basis_event_id, fired_at)
         SELECT r.person_key, r.due_date::date, ARRAY(SELECT jsonb_array_elements_text(r.because)), r.basis_event_id, NULL
           FROM jsonb_to_recordset($1::jsonb) AS r(person_key text, due_date text, because jsonb, basis_event_id text)
         ON CONFLICT (person_key) DO UPDATE
           SET due_date = EXCLUDED.due_date, because = EXCLUDED.because, basis_event_id = EXCLUDED.basis_event_id, fired_at = NULL`,
        [JSON.stringify(upserts.map((r) => ({ person_key: this.keys.stored(r.personKey), due_date: r.due?.dueDate, because: r.due?.because, basis_event_id: r.basisEventId })))],
      );
    }
    if (deletes.length > 0) await manager.query(`DELETE FROM recompare_due WHERE person_key = ANY($1::text[])`, [deletes]);
  }

  /** Rows due on or before `today` and not fired since they were computed, in day then stored key (person ID) order. */
  async due(manager: EntityManager, today: string, limit: number): Promise<DueRow[]> {
    const rows: { person_key: string; due_date: string; because: string[]; basis_event_id: string }[] = await manager.query(
      `SELECT person_key, to_char(due_date, 'YYYY-MM-DD') AS due_date, because, basis_event_id
         FROM recompare_due WHERE fired_at IS NULL AND due_date <= $1::date
        ORDER BY due_date, person_key LIMIT $2`,
      [today, limit],
    );
    return rows.map((r) => ({ personKey: this.keys.key(r.person_key), dueDate: r.due_date, because: r.because, basisEventId: r.basis_event_id }));
  }

  /** Marks rows fired, unless the projection recomputed them meanwhile (another basis). */
  async markFired(manager: EntityManager, rows: readonly DueRow[]): Promise<void> {
    if (rows.length === 0) return;
    await manager.query(
      `UPDATE recompare_due d SET fired_at = now()
         FROM unnest($1::text[], $2::text[]) AS f(person_key, basis_event_id)
        WHERE d.person_key = f.person_key AND d.basis_event_id = f.basis_event_id`,
      [rows.map((r) => this.keys.stored(r.personKey)), rows.map((r) => r.basisEventId)],
    );
  }

  async forPerson(manager: EntityManager, personKey: string): Promise<DueRow | null> {
    const rows: { person_key: string; due_date: string; because: string[]; basis_event_id: string }[] = await manager.query(
      `SELECT person_key, to_char(due_date, 'YYYY-MM-DD') AS due_date, because, basis_event_id FROM recompare_due WHERE person_key = $1`,
      [this.keys.stored(personKey)],
    );
    const r = rows[0];
    return r ? { personKey: this.keys.key(r.person_key), dueDate: r.due_date, because: r.because, basisEventId: r.basis_event_id } : null;
  }
}
