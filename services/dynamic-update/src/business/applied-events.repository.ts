import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** Reads the event-log's `applied_event` of this projection: which events the registry already applied. */
@Injectable()
export class AppliedEventsRepository {
  async known(manager: EntityManager, eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const rows: { event_id: string }[] = await manager.query(`SELECT event_id FROM applied_event WHERE event_id = ANY($1::text[])`, [[...new Set(eventIds)]]);
    return new Set(rows.map((r) => r.event_id));
  }
}
