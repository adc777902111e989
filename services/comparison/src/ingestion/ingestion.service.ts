import { Injectable } from '@nestjs/common';
import { DEPARTMENTS_BY_KIND, SOURCE_RECORD_RECEIVED, deterministicId, newId } from '@qmcb/contracts';
import type { Department, EventOf } from '@qmcb/contracts';
import { personKeyFor, validateCitizenId } from '@qmcb/domain';
import { EventLogProducer } from '@qmcb/event-log';
import { createHash } from 'crypto';
import type { BatchAcceptedDto, SourceRecordDto } from './record-batch.dto';

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
      if (!DEPARTMENTS_BY_KIND[r.facts.kind].includes(department)) throw new DepartmentMismatchError(i, r.facts.kind, department);
    });
    const correlationId = newId();
    const recordedAt = new Date().toISOString();
    const events = records.map((r): EventOf<typeof SOURCE_RECORD_RECEIVED> => {
      const content = createHash('sha256').update(JSON.stringify([r.citizenId, r.mode, r.asOf, r.facts])).digest('hex');
      return {
        eventId: deterministicId('source-record', department, r.sourceRecordId, content),
        type: SOURCE_RECORD_RECEIVED,
        schemaVersion: 1,
        personKey: personKeyFor(r.citizenId),
        occurredAt: new Date(r.asOf).toISOString(),
        recordedAt,
        source: `dept:${department}`,
        actor,
        correlationId,
        causationId: null,
        basedOnVersion: null,
        payload: {
          department,
          sourceRecordId: r.sourceRecordId,
          mode: r.mode,
          citizenIdAsSent: r.citizenId,
          citizenIdValid: validateCitizenId(r.citizenId).ok,
          asOf: r.asOf,
          facts: r.facts,
        },
      };
    });
    await this.producer.append(events);
    return {
      accepted: events.length,
      records: events.map((e) => ({ sourceRecordId: e.payload.sourceRecordId, eventId: e.eventId, citizenIdValid: e.payload.citizenIdValid })),
    };
  }
}
