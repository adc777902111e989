import { evolve } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import type { RegistrationEvent } from '@qmcb/contracts';
import type { EntityManager } from 'typeorm';

/** The division a record is filed under for scoping: household village, else residence. */
export function recordDivision(record: RegistrationRecord): string | null {
  return record.hukouDivision ?? record.residenceDivision ?? null;
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
