import { Injectable } from '@nestjs/common';
import { assertInDivision } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { filingDivision, personKeyFor } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { AuditService, CITIZEN_ID_IN_URL_MESSAGE, CITIZEN_ID_LIKE, DomainError, PersonIds } from '@qmcb/platform';
import { DataSource } from 'typeorm';
import { PersonRecordRepository } from './person-record.repository';

/**
 * Reads one person's record for a caller, by person ID (URLs) or by citizen ID (a POST body, never a
 * URL). Answers 404 both for an unknown person and for one outside the caller's division (the answer
 * never reveals whether the person exists), and names the person to the audit either way (a refused
 * lookup is recorded with whom it asked for).
 */
@Injectable()
export class PersonReader {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly records: PersonRecordRepository,
    private readonly ids: PersonIds,
  ) {}

  /** By the person ID of a list or a view (`GET /persons/:personId`). */
  async read(principal: Principal, personId: string): Promise<RegistrationRecord> {
    const personKey = this.ids.keyOf(personId);
    if (!personKey) {
      if (CITIZEN_ID_LIKE.test(personId)) {
        throw new DomainError('VALIDATION_FAILED', CITIZEN_ID_IN_URL_MESSAGE, { violations: [{ field: 'personId', rule: 'notCitizenId', message: CITIZEN_ID_IN_URL_MESSAGE }] });
      }
      throw new DomainError('NOT_FOUND', 'no such person ID');
    }
    return this.readKey(principal, personKey);
  }

  /** By citizen ID, in any accepted form (`POST /persons/lookup`). */
  lookup(principal: Principal, citizenId: string): Promise<RegistrationRecord> {
    return this.readKey(principal, personKeyFor(citizenId));
  }

  /** The person key of a person ID this deployment made, or undefined. */
  keyOf(personId: string): string | undefined {
    return this.ids.keyOf(personId);
  }

  /** The person ID clients use for this person. */
  personIdOf(personKey: string): string {
    return this.ids.idOf(personKey);
  }

  private async readKey(principal: Principal, personKey: string): Promise<RegistrationRecord> {
    this.audit.concerns([personKey]);
    const record = await this.records.find(this.dataSource.manager, personKey);
    if (!record) throw new DomainError('NOT_FOUND', 'no such person');
    assertInDivision(principal, filingDivision(record) ?? '');
    return record;
  }
}
