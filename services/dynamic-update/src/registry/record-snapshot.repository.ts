import { Injectable } from '@nestjs/common';
import type { RegistrationRecord } from '@qmcb/domain';
import type { EntityManager } from 'typeorm';

/** A person's record is kept whole every this many versions, so an as-of fold replays fewer events. */
export const SNAPSHOT_EVERY = 64;

/** `record_snapshot`: all SQL of the table. */
@Injectable()
export class RecordSnapshotRepository {
  async insertMany(manager: EntityManager, records: readonly RegistrationRecord[]): Promise<void> {
    if (records.length === 0) return;
    await manager.query(
      `INSERT INTO record_snapshot (person_key, version, record)
       SELECT r.person_key, r.version, r.record FROM jsonb_to_recordset($1::jsonb) AS r(person_key text, version int, record jsonb)
       ON CONFLICT (person_key, version) DO NOTHING`,
      [JSON.stringify(records.map((r) => ({ person_key: r.personKey, version: r.version, record: r })))],
    );
  }

  /** The newest snapshot at or before `version`. */
  async latestUpTo(manager: EntityManager, personKey: string, version: number): Promise<RegistrationRecord | null> {
    const rows: { record: RegistrationRecord }[] = await manager.query(
      `SELECT record FROM record_snapshot WHERE person_key = $1 AND version <= $2 ORDER BY version DESC LIMIT 1`,
      [personKey, version],
    );
    return rows[0]?.record ?? null;
  }
}
