import { Injectable } from '@nestjs/common';
import type { RegistrationRecord } from '@qmcb/domain';
import { factsOf, PersonalDataSealer, PersonKeyColumn } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';

/** A person's record is kept whole every this many versions, so an as-of fold replays fewer events. */
export const SNAPSHOT_EVERY = 64;

/** Where a snapshot's record is sealed (the AAD names it: a value sealed here opens nowhere else). */
export const RECORD_SNAPSHOT_PLACE = 'record_snapshot.record';

/**
 * `record_snapshot`: all SQL of the table. At rest (ADR 0011, stage 4) the whole record is `sealed`
 * under the person's data key and `record` holds only its facts (`factsOf`); a row written before
 * that has `sealed` null and the whole record in `record`, and is read as it is. `person_key` holds
 * the person ID (stage 5, `PersonKeyColumn`).
 */
@Injectable()
export class RecordSnapshotRepository {
  constructor(
    private readonly sealer: PersonalDataSealer,
    private readonly keys: PersonKeyColumn,
  ) {}

  /** Whole records, sealed in one keyring call; an erased person's (key shredded) are not written (ADR 0010 deleted their rows). */
  async insertMany(manager: EntityManager, records: readonly RegistrationRecord[]): Promise<void> {
    if (records.length === 0) return;
    const sealed = await this.sealer.seal(RECORD_SNAPSHOT_PLACE, records.map((r) => ({ personKey: r.personKey, value: r })));
    const rows = records.flatMap((r, i) => {
      const bytes = sealed[i];
      return bytes ? [{ person_key: this.keys.stored(r.personKey), version: r.version, record: factsOf(r), sealed: bytes.toString('base64') }] : [];
    });
    if (rows.length === 0) return;
    await manager.query(
      `INSERT INTO record_snapshot (person_key, version, record, sealed)
       SELECT r.person_key, r.version, r.record, decode(r.sealed, 'base64')
         FROM jsonb_to_recordset($1::jsonb) AS r(person_key text, version int, record jsonb, sealed text)
       ON CONFLICT (person_key, version) DO NOTHING`,
      [JSON.stringify(rows)],
    );
  }

  /** The newest snapshot at or before `version` (null: none, or the person is erased). */
  async latestUpTo(manager: EntityManager, personKey: string, version: number): Promise<RegistrationRecord | null> {
    const rows: { record: RegistrationRecord; sealed: Buffer | null }[] = await manager.query(
      `SELECT record, sealed FROM record_snapshot WHERE person_key = $1 AND version <= $2 ORDER BY version DESC LIMIT 1`,
      [this.keys.stored(personKey), version],
    );
    const row = rows[0];
    if (!row) return null;
    const [record] = await this.sealer.open<RegistrationRecord>(RECORD_SNAPSHOT_PLACE, [{ personKey, sealed: row.sealed, plain: row.record }]);
    return record ?? null;
  }
}
