import { Injectable, Logger } from '@nestjs/common';
import { ContractViolationError, newId } from '@qmcb/contracts';
import type { Department } from '@qmcb/contracts';
import { EventLogProducer } from '@qmcb/event-log';
import { AuditService, DomainError } from '@qmcb/platform';
import { admitBatch } from './record-admission';
import type { BatchAcceptedDto } from './record-batch.dto';
import { buildSourceRecordEvent } from './source-record-event';

@Injectable()
export class IngestionService {
  private readonly logger = new Logger('Ingestion');

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
    try {
      await this.producer.append(events);
    } catch (e) {
      if (e instanceof ContractViolationError) throw e;
      // The log is the record: whatever it could not acknowledge (a broker down, its disk full, its
      // directory unwritable) is reported as such, and the department sends the batch again.
      const reason = e instanceof Error ? e.message : String(e);
      this.logger.error({ msg: 'the log did not acknowledge a batch', department, records: events.length, err: reason });
      throw new DomainError('UNAVAILABLE', `the registration log did not acknowledge the batch (${reason}); none of it counts as received: send it again`, { cause: e });
    }
    return {
      accepted: events.length,
      records: events.map((e) => ({ sourceRecordId: e.payload.sourceRecordId, eventId: e.eventId, citizenIdValid: e.payload.citizenIdValid })),
    };
  }
}
