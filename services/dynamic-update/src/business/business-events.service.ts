import { Injectable } from '@nestjs/common';
import { newId } from '@qmcb/contracts';
import type { Department } from '@qmcb/contracts';
import { EventLogProducer } from '@qmcb/event-log';
import { Clock, PersonRecordRepository, RegionPolicyProvider } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import { AppliedEventsRepository } from './applied-events.repository';
import { admitBusinessEvents } from './business-event-admission';
import type { BusinessEventsAcceptedDto } from './business-events.dto';
import { regionOf, route } from './business-routing';

@Injectable()
export class BusinessEventsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly producer: EventLogProducer,
    private readonly records: PersonRecordRepository,
    private readonly policies: RegionPolicyProvider,
    private readonly clock: Clock,
    private readonly applied: AppliedEventsRepository,
  ) {}

  /**
   * A business system's batch: admitted all or nothing, each event routed by the region policy of
   * its person (at once, or held for the county), appended; resolves when the log acknowledged all.
   */
  async post(department: Department, actor: string, raw: readonly unknown[]): Promise<BusinessEventsAcceptedDto> {
    const events = admitBusinessEvents(raw, { department, actor, correlationId: newId(), recordedAt: this.clock.now().toISOString() });
    const records = await this.records.findMany(this.dataSource.manager, events.map((e) => e.personKey));
    const routed = events.map((e) => {
      const record = records.get(e.personKey) ?? null;
      const region = regionOf(e, record);
      return { business: e, ...route(e, this.policies.forDivision(region), region) };
    });
    // A re-sent event the registry already applied is not appended again (its ID would be skipped anyway).
    const known = await this.applied.known(this.dataSource.manager, routed.map((r) => r.event.eventId));
    await this.producer.append(routed.filter((r) => !known.has(r.event.eventId)).map((r) => r.event));
    return {
      accepted: routed.length,
      events: routed.map((r) => ({
        businessId: r.business.payload.businessId,
        type: r.business.type,
        eventId: r.business.eventId,
        status: known.has(r.event.eventId) ? 'already-applied' : r.status,
        proposalId: r.proposalId,
      })),
    };
  }
}
