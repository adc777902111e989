import { Injectable } from '@nestjs/common';
import type { RegistrationEvent } from '@qmcb/contracts';
import { evolve, filingDivision, isPersonKey } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import type { EntityManager } from 'typeorm';
import { PersonKeyColumn } from './person-key-column';
import { factsOf, RecordSealer } from './record-sealer';
import type { StoredRecordRow } from './record-sealer';

/** Records folded from a batch of events: the record right after each event, and the last per person. */
export interface Folded {
  /**
   * `after[i]` is the person's record right after `events[i]`; null for an event of an
   * organisational stream (`O-…`: a campaign, a team), which is no person's.
   */
  after: (RegistrationRecord | null)[];
  /** The record of every person in the batch after all of it. */
  records: Map<string, RegistrationRecord>;
  /** `before[i]` is the person's record right before `events[i]` (null: none yet, or no person's event). */
  before: (RegistrationRecord | null)[];
}

/** Records per upsert statement (one parameter each, besides the JSON of the other columns). */
const SAVE_ROWS_PER_STATEMENT = 10_000;

/**
 * `person_record`: every service's fold of the registration record per person (evolve over the log),
 * so each can answer for a person from its own schema. All SQL of the table is here except the few
 * readers that select on its facts (they open what they read with `open`); every method runs in the
 * manager's transaction.
 *
 * At rest (ADR 0011, stage 3) the whole record is `sealed` under the person's data key; `record`
 * holds only its facts (`factsOf`: statuses, divisions, dates), which is what SQL may look into.
 * A row written before that has `sealed` null and the whole record in `record`: read as it is,
 * sealed when next written (or by a rebuild). `person_key` holds the person ID (stage 5,
 * `PersonKeyColumn`); the maps this returns are keyed by person key.
 */
@Injectable()
export class PersonRecordRepository {
  constructor(
    private readonly sealer: RecordSealer,
    readonly keys: PersonKeyColumn,
  ) {}

  /**
   * The records of rows read from `person_record` (`person_key` as stored, `record`, `sealed`),
   * opened, by person key; an erased person's are absent.
   */
  open(rows: readonly StoredRecordRow[]): Promise<Map<string, RegistrationRecord>> {
    return this.sealer.open(rows.map((r) => ({ ...r, person_key: this.keys.key(r.person_key) })));
  }

  async find(manager: EntityManager, personKey: string, forUpdate = false): Promise<RegistrationRecord | null> {
    const rows: StoredRecordRow[] = await manager.query(
      `SELECT person_key, record, sealed FROM person_record WHERE person_key = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [this.keys.stored(personKey)],
    );
    return (await this.open(rows)).get(personKey) ?? null;
  }

  /** The records of these people, in one statement; `forUpdate` locks them (in person-key order, so two batches cannot deadlock). */
  async findMany(manager: EntityManager, personKeys: readonly string[], forUpdate = false): Promise<Map<string, RegistrationRecord>> {
    const out = new Map<string, RegistrationRecord>();
    if (personKeys.length === 0) return out;
    const rows: StoredRecordRow[] = await manager.query(
      `SELECT person_key, record, sealed FROM person_record WHERE person_key = ANY($1::text[]) ORDER BY person_key${forUpdate ? ' FOR UPDATE' : ''}`,
      [this.keys.storedAll(new Set(personKeys))],
    );
    return this.open(rows);
  }

  /**
   * Upserts records, one statement per 10,000 (at most one record per person). The rows' other columns travel as
   * one JSON array (jsonb_to_recordset: a text[] of JSON documents costs several times more, in the
   * driver escaping every quote into an array literal and in PostgreSQL parsing it back); each
   * sealed record as a parameter of its own, sent in binary (base64 inside the JSON cost a third
   * more bytes, the encoding in Node, and PostgreSQL parsing a ~5 KB string per row and decoding it).
   */
  async saveMany(manager: EntityManager, records: readonly RegistrationRecord[]): Promise<void> {
    if (records.length === 0) return;
    const sealed = await this.sealer.seal(records);
    // An erased person (key shredded) is not written again: ADR 0010 deleted their row.
    const kept = records.filter((r) => sealed.has(r.personKey));
    // A statement takes at most 65,535 parameters: bigger batches (CONSUMER_APPLY_BATCH_SIZE goes to 100,000) in parts.
    for (let i = 0; i < kept.length; i += SAVE_ROWS_PER_STATEMENT) await this.upsert(manager, kept.slice(i, i + SAVE_ROWS_PER_STATEMENT), sealed);
  }

  private async upsert(manager: EntityManager, kept: readonly RegistrationRecord[], sealed: ReadonlyMap<string, Buffer>): Promise<void> {
    const values: unknown[] = [
      JSON.stringify(kept.map((r, i) => ({ i: i + 1, person_key: this.keys.stored(r.personKey), record: factsOf(r), version: r.version, division: filingDivision(r) }))),
      ...kept.map((r) => sealed.get(r.personKey) as Buffer),
    ];
    await manager.query(
      `INSERT INTO person_record (person_key, record, sealed, version, division, updated_at)
       SELECT r.person_key, r.record, s.sealed, r.version, r.division, now()
         FROM jsonb_to_recordset($1::jsonb) AS r(i int, person_key text, record jsonb, version int, division text)
         JOIN unnest(ARRAY[${kept.map((_, i) => `$${i + 2}::bytea`).join(',')}]) WITH ORDINALITY AS s(sealed, n) ON s.n = r.i
       ON CONFLICT (person_key) DO UPDATE
         SET record = EXCLUDED.record, sealed = EXCLUDED.sealed, version = EXCLUDED.version, division = EXCLUDED.division, updated_at = now()`,
      values,
    );
  }

  /**
   * Seals the rows written before ADR 0011 (`sealed` null), up to `limit` of them after `after`
   * (stored key order; `after` and the answer are stored values), in the manager's transaction: each is locked, read as it is and written
   * back sealed with its version unchanged. Returns the last key looked at (null: none left) and
   * how many were sealed; a person erased meanwhile is left to the erasure (not written again).
   */
  async sealPlainRows(manager: EntityManager, after: string | null, limit: number): Promise<{ last: string | null; sealed: number }> {
    const rows: StoredRecordRow[] = await manager.query(
      `SELECT person_key, record, sealed FROM person_record
        WHERE sealed IS NULL AND ($1::text IS NULL OR person_key > $1) ORDER BY person_key LIMIT $2 FOR UPDATE`,
      [after, limit],
    );
    if (rows.length === 0) return { last: null, sealed: 0 };
    const records = [...(await this.open(rows)).values()];
    await this.saveMany(manager, records);
    const still: { n: number }[] = await manager.query(`SELECT count(*)::int AS n FROM person_record WHERE person_key = ANY($1::text[]) AND sealed IS NULL`, [rows.map((r) => r.person_key)]);
    return { last: (rows[rows.length - 1] as StoredRecordRow).person_key, sealed: rows.length - Number(still[0]?.n ?? 0) };
  }

  /**
   * Folds a batch into the records: loads (and locks) everyone in it in one statement, applies the
   * events in log order with `evolve`, upserts the results in one statement.
   */
  async fold(manager: EntityManager, events: readonly RegistrationEvent[]): Promise<Folded> {
    const people = events.filter((e) => isPersonKey(e.personKey));
    const records = await this.findMany(manager, people.map((e) => e.personKey), true);
    const after: (RegistrationRecord | null)[] = [];
    const before: (RegistrationRecord | null)[] = [];
    const changed = new Set<string>();
    for (const event of events) {
      if (!isPersonKey(event.personKey)) {
        after.push(null);
        before.push(null);
        continue;
      }
      const previous = records.get(event.personKey) ?? null;
      const record = evolve(previous, event);
      before.push(previous);
      after.push(record);
      records.set(event.personKey, record);
      changed.add(event.personKey);
    }
    await this.saveMany(manager, [...changed].map((k) => records.get(k) as RegistrationRecord));
    return { after, records, before };
  }
}
