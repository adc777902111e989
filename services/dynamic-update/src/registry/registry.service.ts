import { Injectable } from '@nestjs/common';
import type { Principal } from '@qmcb/auth';
import type { RegistrationRecord } from '@qmcb/domain';
import { PersonReader } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import { RecordHistoryRepository } from './record-history.repository';
import type { HistoryRow } from './record-history.repository';

export interface RegistryPerson {
  personId: string;
  record: RegistrationRecord;
  history: HistoryRow[];
}

@Injectable()
export class RegistryService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly reader: PersonReader,
    private readonly history: RecordHistoryRepository,
  ) {}

  /** A person's registry record and its change history, for a caller in scope (audited). */
  async person(principal: Principal, who: { personId: string } | { citizenId: string }): Promise<RegistryPerson> {
    const record = 'personId' in who ? await this.reader.read(principal, who.personId) : await this.reader.lookup(principal, who.citizenId);
    return { personId: this.reader.personIdOf(record.personKey), record, history: await this.history.forPerson(this.dataSource.manager, record.personKey) };
  }
}
