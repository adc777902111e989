import { Injectable } from '@nestjs/common';
import { newId } from '@qmcb/contracts';
import type { Department } from '@qmcb/contracts';
import { EventLogProducer } from '@qmcb/event-log';
import { AuditService } from '@qmcb/platform';
import { admitBatch } from './record-admission';
import type { BatchAcceptedDto } from './record-batch.dto';
import { buildSourceRecordEvent } from './source-record-event';

@Injectable()
export class IngestionService {
  constructor(
    private readonly producer: EventLogProducer,
    private readonly audit: AuditService,
  ) {}

  /**
   * A department's batch of records: admitted all or nothing (the admission of bulk loads too), made
   * into events, and appended; resolves only when the log acknowledged them all.
   */
  async ingest(department: Department, actor: string, records: readonly unknown[]): Promise<BatchAcceptedDto> {
    const admitted = admitBatch(records, department);
    const ctx = { department, actor, correlationId: newId(), recordedAt: new Date().toISOString() };
    const events = admitted.map((r) => buildSourceRecordEvent(r, ctx));
    this.audit.concerns(events.map((e) => e.personKey));
    await this.producer.append(events);
    return {
      accepted: events.length,
      records: events.map((e) => ({ sourceRecordId: e.payload.sourceRecordId, eventId: e.eventId, citizenIdValid: e.payload.citizenIdValid })),
    };
  }
}
