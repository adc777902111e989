import { Injectable } from '@nestjs/common';
import type { RegistrationRecord } from '@qmcb/domain';
import type { EntityManager } from 'typeorm';

/** People whose household registration moved out of a division (the handover list): all its SQL over person_record. */
@Injectable()
export class HandoverRepository {
  async movedOutOf(manager: EntityManager, division: string, after: string | null, limit: number): Promise<RegistrationRecord[]> {
    const rows: { record: RegistrationRecord }[] = await manager.query(
      `SELECT record FROM person_record
        WHERE (record->'migration'->>'movedOutOn') IS NOT NULL AND (record->'migration'->>'movedOutFrom') LIKE $1 || '%'
          AND ($2::text IS NULL OR person_key > $2)
        ORDER BY person_key LIMIT $3`,
      [division, after, limit],
    );
    return rows.map((r) => r.record);
  }
}
