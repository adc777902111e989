import { Injectable } from '@nestjs/common';
import type { RegistrationRecord } from '@qmcb/domain';
import { PersonRecordRepository } from '@qmcb/service-kit';
import type { StoredRecordRow } from '@qmcb/service-kit';
import type { QueryRunner } from 'typeorm';

/** Rows fetched from the cursor at a time: what is in memory at once. */
export const EXPORT_FETCH_SIZE = 500;

/**
 * The records of people insured in a county (an active entry there) whose household registration is
 * not there (absent, elsewhere or moved out), read through a server-side cursor in the runner's
 * transaction. Narrowed in SQL; nonLocalInsuredLines checks each again as it builds the lines.
 * Records under a mistyped ID linked to a person (proposed or confirmed, `person_link`) and records
 * under an invalid ID are not non-local people: left out.
 * `within`: only people filed (person_record.division, as GET /persons checks it) in that division.
 * The SQL looks only at the record's facts (`record`, ADR 0011); the whole record is opened here.
 * People come in stored key order (`person_key` holds the person ID, ADR 0011 stage 5): arbitrary but stable.
 */
@Injectable()
export class NonLocalInsuredRepository {
  constructor(private readonly records: PersonRecordRepository) {}

  async open(runner: QueryRunner, region: string, within: string | null): Promise<void> {
    await runner.query(
      `DECLARE non_local_insured NO SCROLL CURSOR FOR
         SELECT person_key, record, sealed FROM person_record
          WHERE jsonb_path_exists(record->'insurance', '$.* ? (@.region == $r && @.status == "active")', jsonb_build_object('r', $1::text))
            AND (record->>'hukouDivision' IS NULL OR left(record->>'hukouDivision', 6) <> $1 OR record->>'hukouStatus' = 'moved-out')
            AND (record->>'citizenIdValid')::boolean
            AND NOT EXISTS (SELECT 1 FROM person_link l WHERE l.record_key = person_record.person_key AND l.status IN ('proposed', 'confirmed'))
            AND ($2::text IS NULL OR division LIKE $2::text || '%')
          ORDER BY person_key`,
      [region, within],
    );
  }

  /** The next records of the cursor; empty at the end. */
  async next(runner: QueryRunner): Promise<RegistrationRecord[]> {
    const rows: StoredRecordRow[] = await runner.query(`FETCH ${EXPORT_FETCH_SIZE} FROM non_local_insured`);
    const records = await this.records.open(rows);
    // In the cursor's order; an erased person (key shredded, row not yet deleted) is left out.
    return rows.flatMap((r) => records.get(this.records.keys.key(r.person_key)) ?? []);
  }
}
