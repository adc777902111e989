import { Injectable } from '@nestjs/common';
import type { RegistrationEvent } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import type { ApplyContext, BatchApplyContext, ProjectionHandler } from '@qmcb/event-log';
import { applyToRecord, applyToRecords } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';

/** record_history rows of events, each with the person's record right after it; one statement. */
async function insertHistory(manager: EntityManager, rows: readonly { event: RegistrationEvent; record: RegistrationRecord }[]): Promise<void> {
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

/** The authoritative registry view (登记库): every event folded into the person's record, with history. */
@Injectable()
export class RegistryHandler implements ProjectionHandler {
  async apply(event: RegistrationEvent, ctx: ApplyContext): Promise<void> {
    const record = await applyToRecord(ctx.manager, event);
    await insertHistory(ctx.manager, [{ event, record }]);
  }

  /** A chunk at once: one record load, one upsert, one history insert (the same rows as one by one). */
  async applyBatch(events: RegistrationEvent[], ctx: BatchApplyContext): Promise<void> {
    const { after } = await applyToRecords(ctx.manager, events);
    await insertHistory(ctx.manager, events.map((event, i) => ({ event, record: after[i] as RegistrationRecord })));
  }
}
