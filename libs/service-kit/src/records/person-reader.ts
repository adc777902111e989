import { Inject, Injectable } from '@nestjs/common';
import { assertInDivision } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { filingDivision, personKeyFor } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { AuditService, DomainError } from '@qmcb/platform';
import { DataSource } from 'typeorm';
import { SERVICE_OPTIONS } from '../service-options';
import type { ServiceOptions } from '../service-options';
import { PersonRecordRepository } from './person-record.repository';

/**
 * Reads one person's record for a caller: accepts a citizen ID in any accepted form or a person
 * key, answers 404 both for an unknown person and for one outside the caller's division (so the
 * answer never reveals whether the person exists), and audits every read by a person.
 */
@Injectable()
export class PersonReader {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly records: PersonRecordRepository,
    @Inject(SERVICE_OPTIONS) private readonly options: ServiceOptions,
  ) {}

  async read(principal: Principal, idOrKey: string, purpose: string): Promise<RegistrationRecord> {
    const personKey = /^X-[0-9a-f]{32}$/.test(idOrKey) ? idOrKey : personKeyFor(idOrKey);
    const record = await this.records.find(this.dataSource.manager, personKey);
    if (!record) throw new DomainError('NOT_FOUND', 'no such person');
    assertInDivision(principal, filingDivision(record) ?? '', 'no such person');
    if (principal.kind === 'person') {
      await this.audit.recordRead({ principal, personKey, service: this.options.name, purpose });
    }
    return record;
  }
}
