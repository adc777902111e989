import { Injectable } from '@nestjs/common';
import type { RegistrationRecord } from '@qmcb/domain';
import { PersonKeyColumn, PersonRecordRepository } from '@qmcb/service-kit';
import type { StoredRecordRow } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';

/**
 * People whose household registration moved out of a division (the handover list): all its SQL over
 * person_record. Pages are in `person_key` order, which holds the person ID (ADR 0011 stage 5): the
 * cursor `after` is a person key, compared by its stored value.
 */
@Injectable()
export class HandoverRepository {
  constructor(
    private readonly records: PersonRecordRepository,
    private readonly keys: PersonKeyColumn,
  ) {}

  async movedOutOf(manager: EntityManager, division: string, after: string | null, limit: number): Promise<RegistrationRecord[]> {
    // The SQL looks at the record's facts only (`record`, ADR 0011); the whole record is opened here.
    const rows: StoredRecordRow[] = await manager.query(
      `SELECT person_key, record, sealed FROM person_record
        WHERE (record->'migration'->>'movedOutOn') IS NOT NULL AND (record->'migration'->>'movedOutFrom') LIKE $1 || '%'
          AND ($2::text IS NULL OR person_key > $2)
        ORDER BY person_key LIMIT $3`,
      [division, after === null ? null : this.keys.stored(after), limit],
    );
    const records = await this.records.open(rows);
    return rows.flatMap((r) => records.get(this.keys.key(r.person_key)) ?? []);
  }
}
