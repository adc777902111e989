import { Injectable } from '@nestjs/common';
import type { Principal } from '@qmcb/auth';
import type { RegistrationRecord } from '@qmcb/domain';
import { PersonReader } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import { RecordHistoryRepository } from './record-history.repository';
import type { HistoryRow } from './record-history.repository';

@Injectable()
export class RegistryService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly reader: PersonReader,
    private readonly history: RecordHistoryRepository,
  ) {}

  /** A person's registry record and its change history, for a caller in scope (audited). */
  async person(principal: Principal, personKey: string): Promise<{ record: RegistrationRecord; history: HistoryRow[] }> {
    const record = await this.reader.read(principal, personKey, 'registry:view');
    return { record, history: await this.history.forPerson(this.dataSource.manager, record.personKey) };
  }
}
