import { Injectable } from '@nestjs/common';
import type { RegistrationEvent } from '@qmcb/contracts';
import type { ApplyContext, ProjectionHandler } from '@qmcb/event-log';
import { applyToRecord } from '@qmcb/service-kit';

/** The authoritative registry view (登记库): every event folded into the person's record, with history. */
@Injectable()
export class RegistryHandler implements ProjectionHandler {
  async apply(event: RegistrationEvent, ctx: ApplyContext): Promise<void> {
    const record = await applyToRecord(ctx.manager, event);
    await ctx.manager.query(
      `INSERT INTO record_history (person_key, version, event_id, type, source, actor, occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [event.personKey, record.version, event.eventId, event.type, event.source, event.actor, event.occurredAt],
    );
  }
}
