import { Injectable } from '@nestjs/common';
import type { RegistrationEvent } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import type { EntityManager } from 'typeorm';

export interface HistoryRow {
  version: number;
  eventId: string;
  type: string;
  source: string;
  actor: string;
  occurredAt: string;
}

/** `record_history`: one row per event applied to a person, in log order. All SQL of the table. */
@Injectable()
export class RecordHistoryRepository {
  /** History rows of events, each with the person's record right after it; one statement. */
  async insertMany(manager: EntityManager, rows: readonly { event: RegistrationEvent; record: RegistrationRecord }[]): Promise<void> {
    if (rows.length === 0) return;
    await manager.query(
      `INSERT INTO record_history (person_key, version, event_id, type, source, actor, occurred_at)
       SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])`,
      [
        rows.map((r) => r.event.personKey),
        rows.map((r) => r.record.version),
        rows.map((r) => r.event.eventId),
        rows.map((r) => r.event.type),
        rows.map((r) => r.event.source),
        rows.map((r) => r.event.actor),
        rows.map((r) => r.event.occurredAt),
      ],
    );
  }

  async forPerson(manager: EntityManager, personKey: string): Promise<HistoryRow[]> {
    return manager.query(
      `SELECT version, event_id AS "eventId", type, source, actor, occurred_at AS "occurredAt"
         FROM record_history WHERE person_key = $1 ORDER BY version`,
      [personKey],
    );
  }
}
