import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { RegistrationEvent } from '@qmcb/contracts';
import { LogContext, PersonRecordRepository, Projection, REGISTRATION_LOG } from '@qmcb/service-kit';
import { RecordHistoryRepository } from '../registry/record-history.repository';

/** The authoritative registry view (登记库): every event folded into the person's record, with history. */
@Projection()
export class RegistryProjection {
  constructor(
    private readonly records: PersonRecordRepository,
    private readonly history: RecordHistoryRepository,
  ) {}

  @EventPattern(REGISTRATION_LOG)
  async handle(@Payload() events: RegistrationEvent[], @Ctx() log: LogContext): Promise<void> {
    const { after } = await this.records.fold(log.manager, events);
    const rows = events.flatMap((event, i) => {
      const record = after[i];
      return record ? [{ event, record }] : [];
    });
    await this.history.insertMany(log.manager, rows);
  }
}
