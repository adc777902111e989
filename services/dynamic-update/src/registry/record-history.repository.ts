import { Injectable } from '@nestjs/common';
import { parseEvent } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import { PersonalDataSealer, PersonKeyColumn } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';
import type { ItemChange } from './registry-items';

/** One change of a person's record: the event, who and what caused it, and what it changed. */
export interface HistoryRow {
  version: number;
  eventId: string;
  type: string;
  source: string;
  actor: string;
  occurredAt: string;
  /** When the event was recorded (null for rows from before issue 9). */
  recordedAt: string | null;
  correlationId: string | null;
  /** The event that caused this one (a decision's trigger), if any. */
  causationId: string | null;
  /** From when the registry held this version: the largest recordedAt of the history up to it. */
  heldFrom: string | null;
  changes: ItemChange[];
}

export interface HistoryInsert {
  event: RegistrationEvent;
  record: RegistrationRecord;
  changes: ItemChange[];
  heldFrom: string;
}

const COLUMNS = `version, event_id AS "eventId", type, source, actor, occurred_at AS "occurredAt", recorded_at AS "recordedAt",
  correlation_id AS "correlationId", causation_id AS "causationId", held_from AS "heldFrom", changes, sealed`;

/** Where a history row's changes and event are sealed (the AAD names it: a value sealed here opens nowhere else). */
export const RECORD_HISTORY_PLACE = 'record_history';

/** What a history row seals: what the event changed and the event as the log carried it. */
interface Sealed {
  changes: ItemChange[];
  event: unknown;
}

function row(r: Record<string, unknown>): HistoryRow {
  const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());
  return {
    version: Number(r['version']),
    eventId: String(r['eventId']),
    type: String(r['type']),
    source: String(r['source']),
    actor: String(r['actor']),
    occurredAt: iso(r['occurredAt']) as string,
    recordedAt: iso(r['recordedAt']),
    correlationId: (r['correlationId'] as string | null) ?? null,
    causationId: (r['causationId'] as string | null) ?? null,
    heldFrom: iso(r['heldFrom']),
    changes: (r['changes'] as ItemChange[] | null) ?? [],
  };
}

/**
 * `record_history`: one row per event applied to a person, in log order. All SQL of the table.
 *
 * At rest (ADR 0011, stage 4) a row's `changes` and `event` (names, phones, addresses; the event's
 * facts) are `sealed` under the person's data key, `changes` left `[]` and `event` null; the other
 * columns (versions, types, sources, times) are what SQL selects on. A row written before that has
 * `sealed` null and its changes and event as they were. Each read opens its rows in one call.
 * `person_key` holds the person ID (stage 5, `PersonKeyColumn`): converted here, both ways.
 */
@Injectable()
export class RecordHistoryRepository {
  constructor(
    private readonly sealer: PersonalDataSealer,
    private readonly keys: PersonKeyColumn,
  ) {}

  /** Rows as read (with `sealed`), their changes opened in one keyring call; an erased person's rows are left out. */
  private async opened(personKey: string, rows: readonly Record<string, unknown>[]): Promise<HistoryRow[]> {
    const values = await this.sealer.open<Sealed>(
      RECORD_HISTORY_PLACE,
      rows.map((r) => ({ personKey, sealed: (r['sealed'] as Buffer | null) ?? null, plain: { changes: r['changes'], event: null } })),
    );
    return rows.flatMap((r, i) => {
      const v = values[i];
      return v === undefined ? [] : [row({ ...r, changes: v.changes })];
    });
  }

  /**
   * History rows of events, each with the person's record right after it and what it changed; one
   * statement, sealed in one keyring call. An erased person's rows (key shredded) are not written
   * (ADR 0010 deleted theirs).
   */
  async insertMany(manager: EntityManager, all: readonly HistoryInsert[]): Promise<void> {
    if (all.length === 0) return;
    const sealed = await this.sealer.seal(RECORD_HISTORY_PLACE, all.map(({ event, changes }) => ({ personKey: event.personKey, value: { changes, event } })));
    const rows = all.flatMap((r, i) => {
      const bytes = sealed[i];
      return bytes ? [{ ...r, sealed: bytes.toString('base64') }] : [];
    });
    if (rows.length === 0) return;
    await manager.query(
      `INSERT INTO record_history (person_key, version, event_id, type, source, actor, occurred_at, recorded_at, correlation_id, causation_id, held_from, changes, event, sealed)
       SELECT r.person_key, r.version, r.event_id, r.type, r.source, r.actor, r.occurred_at, r.recorded_at, r.correlation_id, r.causation_id, r.held_from, '[]'::jsonb, NULL, decode(r.sealed, 'base64')
         FROM jsonb_to_recordset($1::jsonb) AS r(person_key text, version int, event_id text, type text, source text, actor text, occurred_at timestamptz,
              recorded_at timestamptz, correlation_id text, causation_id text, held_from timestamptz, sealed text)`,
      [
        JSON.stringify(
          rows.map(({ event, record, heldFrom, sealed: bytes }) => ({
            person_key: this.keys.stored(event.personKey),
            version: record.version,
            event_id: event.eventId,
            type: event.type,
            source: event.source,
            actor: event.actor,
            occurred_at: event.occurredAt,
            recorded_at: event.recordedAt,
            correlation_id: event.correlationId,
            causation_id: event.causationId,
            held_from: heldFrom,
            sealed: bytes,
          })),
        ),
      ],
    );
  }

  /** The latest heldFrom of each of these people (one statement). */
  async lastHeldFrom(manager: EntityManager, personKeys: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (personKeys.length === 0) return out;
    const rows: { person_key: string; held_from: Date | null }[] = await manager.query(
      `SELECT DISTINCT ON (person_key) person_key, held_from FROM record_history
        WHERE person_key = ANY($1::text[]) ORDER BY person_key, version DESC`,
      [this.keys.storedAll(new Set(personKeys))],
    );
    for (const r of rows) if (r.held_from) out.set(this.keys.key(r.person_key), new Date(r.held_from).toISOString());
    return out;
  }

  /** A person's history, oldest first, up to a version (all of it by default). */
  async forPerson(manager: EntityManager, personKey: string, upToVersion?: number): Promise<HistoryRow[]> {
    const rows: Record<string, unknown>[] = await manager.query(
      `SELECT ${COLUMNS} FROM record_history WHERE person_key = $1 AND ($2::int IS NULL OR version <= $2) ORDER BY version`,
      [this.keys.stored(personKey), upToVersion ?? null],
    );
    return this.opened(personKey, rows);
  }

  /** A page of a person's history, oldest first, and how many rows it has. */
  async page(manager: EntityManager, personKey: string, limit: number, offset: number): Promise<{ total: number; items: HistoryRow[] }> {
    const [count]: { n: number }[] = await manager.query(`SELECT count(*)::int AS n FROM record_history WHERE person_key = $1`, [this.keys.stored(personKey)]);
    const rows: Record<string, unknown>[] = await manager.query(`SELECT ${COLUMNS} FROM record_history WHERE person_key = $1 ORDER BY version LIMIT $2 OFFSET $3`, [
      this.keys.stored(personKey),
      limit,
      offset,
    ]);
    return { total: count?.n ?? 0, items: await this.opened(personKey, rows) };
  }

  /** The last version the registry held at `at` (null: the person was not in the registry yet). */
  async versionHeldAt(manager: EntityManager, personKey: string, at: string): Promise<number | null> {
    const rows: { v: number | null }[] = await manager.query(`SELECT max(version) AS v FROM record_history WHERE person_key = $1 AND held_from <= $2`, [this.keys.stored(personKey), at]);
    return rows[0]?.v ?? null;
  }

  /** The events after `fromVersion` up to `toVersion`, in order, as the log carried them. */
  async eventsBetween(manager: EntityManager, personKey: string, fromVersion: number, toVersion: number): Promise<RegistrationEvent[]> {
    const rows: { event: unknown; sealed: Buffer | null }[] = await manager.query(
      `SELECT event, sealed FROM record_history WHERE person_key = $1 AND version > $2 AND version <= $3 ORDER BY version`,
      [this.keys.stored(personKey), fromVersion, toVersion],
    );
    const values = await this.sealer.open<Sealed>(RECORD_HISTORY_PLACE, rows.map((r) => ({ personKey, sealed: r.sealed, plain: { changes: [], event: r.event } })));
    return values.flatMap((v) => {
      // An erased person's rows open as nothing (the erasure deletes them).
      if (v === undefined) return [];
      if (v.event === null || v.event === undefined) throw new Error('history from before the registry kept events: rebuild the projection (npm run projection -- dynamic-update rebuild)');
      return [parseEvent(v.event, { owned: true })];
    });
  }
}
