import { Injectable } from '@nestjs/common';
import { ContractViolationError, newId } from '@qmcb/contracts';
import type { Department } from '@qmcb/contracts';
import { EventLogProducer } from '@qmcb/event-log';
import type { BatchAcceptedDto, SourceRecordDto } from './record-batch.dto';
import { buildSourceRecordEvent, departmentMaySend, unknownDivisionViolation } from './source-record-event';

export class DepartmentMismatchError extends Error {
  constructor(readonly index: number, readonly kind: string, readonly department: string) {
    super(`records[${index}].facts.kind '${kind}' may not be sent by department '${department}'`);
  }
}

@Injectable()
export class IngestionService {
  constructor(private readonly producer: EventLogProducer) {}

  /** Validated records become events; the call resolves only when the log acknowledged them all. */
  async ingest(department: Department, actor: string, records: SourceRecordDto[]): Promise<BatchAcceptedDto> {
    records.forEach((r, i) => {
      if (!departmentMaySend(department, r.facts.kind)) throw new DepartmentMismatchError(i, r.facts.kind, department);
    });
    const unknown = records.flatMap((r, i) => unknownDivisionViolation(r.facts, `records.${i}.`) ?? []);
    if (unknown.length) throw new ContractViolationError(unknown);
    const ctx = { department, actor, correlationId: newId(), recordedAt: new Date().toISOString() };
    const events = records.map((r) => buildSourceRecordEvent(r, ctx));
    await this.producer.append(events);
    return {
      accepted: events.length,
      records: events.map((e) => ({ sourceRecordId: e.payload.sourceRecordId, eventId: e.eventId, citizenIdValid: e.payload.citizenIdValid })),
    };
  }
}
