import { evolve } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import type { RegistrationEvent } from '@qmcb/contracts';
import type { EntityManager } from 'typeorm';

/**
 * The division a record is filed under for scoping: household village, else residence, else the
 * county where the person is insured (a non-local insured person is still someone's to serve).
 */
export function recordDivision(record: RegistrationRecord): string | null {
  if (record.hukouDivision ?? record.residenceDivision) return record.hukouDivision ?? record.residenceDivision;
  const regions = Object.values(record.insurance)
    .filter((i) => i.status === 'active')
    .map((i) => i.region)
    .sort();
  return regions[0] ?? null;
}

export async function loadRecord(manager: EntityManager, personKey: string, forUpdate = false): Promise<RegistrationRecord | null> {
  const rows: { record: RegistrationRecord }[] = await manager.query(
    `SELECT record FROM person_record WHERE person_key = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [personKey],
  );
  return rows[0]?.record ?? null;
}

export async function saveRecord(manager: EntityManager, record: RegistrationRecord): Promise<void> {
  await manager.query(
    `INSERT INTO person_record (person_key, record, version, division, updated_at)
     VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (person_key) DO UPDATE
       SET record = EXCLUDED.record, version = EXCLUDED.version, division = EXCLUDED.division, updated_at = now()`,
    [record.personKey, JSON.stringify(record), record.version, recordDivision(record)],
  );
}

/** Folds one event into the stored record and returns the new record. */
export async function applyToRecord(manager: EntityManager, event: RegistrationEvent): Promise<RegistrationRecord> {
  const next = evolve(await loadRecord(manager, event.personKey, true), event);
  await saveRecord(manager, next);
  return next;
}

/** The records of these people, in one statement; `forUpdate` locks them (in person-key order). */
export async function loadRecords(manager: EntityManager, personKeys: readonly string[], forUpdate = false): Promise<Map<string, RegistrationRecord>> {
  const out = new Map<string, RegistrationRecord>();
  if (personKeys.length === 0) return out;
  const rows: { person_key: string; record: RegistrationRecord }[] = await manager.query(
    `SELECT person_key, record FROM person_record WHERE person_key = ANY($1::text[]) ORDER BY person_key${forUpdate ? ' FOR UPDATE' : ''}`,
    [[...new Set(personKeys)]],
  );
  for (const r of rows) out.set(r.person_key, r.record);
  return out;
}

/**
 * Upserts many records in one statement (at most one record per person). The rows travel as one JSON
 * array (jsonb_to_recordset): a text[] of JSON documents costs several times more, in the driver
 * escaping every quote into an array literal and in PostgreSQL parsing it back.
 */
export async function saveRecords(manager: EntityManager, records: readonly RegistrationRecord[]): Promise<void> {
  if (records.length === 0) return;
  await manager.query(
    `INSERT INTO person_record (person_key, record, version, division, updated_at)
     SELECT r.person_key, r.record, r.version, r.division, now()
       FROM jsonb_to_recordset($1::jsonb) AS r(person_key text, record jsonb, version int, division text)
     ON CONFLICT (person_key) DO UPDATE
       SET record = EXCLUDED.record, version = EXCLUDED.version, division = EXCLUDED.division, updated_at = now()`,
    [JSON.stringify(records.map((r) => ({ person_key: r.personKey, record: r, version: r.version, division: recordDivision(r) })))],
  );
}

/**
 * The batch form of applyToRecord: loads the records of every person in `events` in one statement
 * (locked), folds the events in log order with `evolve`, upserts the results in one statement.
 * Returns the record right after each event (`after[i]` for `events[i]`, what applyToRecord would
 * have returned for it) and the final record per person. `insert(i, record)` may return events to
 * fold right after events[i] (say, what the handler emits because of it: the per-event path applies
 * those right after their cause); their records are in `inserted`.
 */
export async function applyToRecords(
  manager: EntityManager,
  events: readonly RegistrationEvent[],
  insert?: (index: number, record: RegistrationRecord) => RegistrationEvent[],
): Promise<{ after: RegistrationRecord[]; inserted: Map<string, RegistrationRecord>; records: Map<string, RegistrationRecord> }> {
  const records = await loadRecords(manager, events.map((e) => e.personKey), true);
  const after: RegistrationRecord[] = [];
  const inserted = new Map<string, RegistrationRecord>();
  const changed = new Set<string>();
  events.forEach((event, i) => {
    let record = evolve(records.get(event.personKey) ?? null, event);
    after.push(record);
    for (const extra of insert?.(i, record) ?? []) {
      record = evolve(record, extra);
      inserted.set(extra.eventId, record);
    }
    records.set(event.personKey, record);
    changed.add(event.personKey);
  });
  await saveRecords(manager, [...changed].map((k) => records.get(k) as RegistrationRecord));
  return { after, inserted, records };
}
