import { Injectable } from '@nestjs/common';
import type { Principal } from '@qmcb/auth';
import { foldEvents } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { DomainError } from '@qmcb/platform';
import { PersonReader } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { provenance } from './provenance';
import type { ItemProvenance } from './provenance';
import { RecordHistoryRepository } from './record-history.repository';
import type { HistoryRow } from './record-history.repository';
import { RecordSnapshotRepository } from './record-snapshot.repository';

export interface RegistryView {
  personId: string;
  version: number;
  /** The moment asked for (null: now). */
  asOf: string | null;
  /** From when the registry held this version. */
  heldFrom: string | null;
  items: Record<string, ItemProvenance>;
  record: RegistrationRecord;
}

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
    private readonly snapshots: RecordSnapshotRepository,
  ) {}

  /** A person's registry record and its change history, for a caller in scope (audited). */
  async person(principal: Principal, who: { personId: string } | { citizenId: string }): Promise<RegistryPerson> {
    const record = 'personId' in who ? await this.reader.read(principal, who.personId) : await this.reader.lookup(principal, who.citizenId);
    return { personId: this.reader.personIdOf(record.personKey), record, history: await this.history.forPerson(this.dataSource.manager, record.personKey) };
  }

  /**
   * The registry's items of a person with the source and time of each value, now or as the registry
   * held them at `asOf` (audited; scope is the person's current filing division).
   */
  async view(principal: Principal, personId: string, asOf: string | null): Promise<RegistryView> {
    const current = await this.reader.read(principal, personId);
    const manager = this.dataSource.manager;
    const record = asOf ? await this.recordAt(manager, current.personKey, asOf) : current;
    if (!record) throw new DomainError('NOT_FOUND', `the registry held no record of this person at ${asOf}`);
    const history = await this.history.forPerson(manager, record.personKey, record.version);
    return {
      personId: this.reader.personIdOf(record.personKey),
      version: record.version,
      asOf,
      heldFrom: history[history.length - 1]?.heldFrom ?? null,
      items: provenance(record, history),
      record,
    };
  }

  /** The record as the registry held it at `at`: the newest whole record before, then the events after it. */
  async recordAt(manager: EntityManager, personKey: string, at: string): Promise<RegistrationRecord | null> {
    const version = await this.history.versionHeldAt(manager, personKey, at);
    if (version === null) return null;
    const base = await this.snapshots.latestUpTo(manager, personKey, version);
    const events = await this.history.eventsBetween(manager, personKey, base?.version ?? 0, version);
    return foldEvents(events, base);
  }

  async historyPage(principal: Principal, personId: string, limit: number, offset: number): Promise<{ personId: string; total: number; items: HistoryRow[] }> {
    const record = await this.reader.read(principal, personId);
    return { personId: this.reader.personIdOf(record.personKey), ...(await this.history.page(this.dataSource.manager, record.personKey, limit, offset)) };
  }
}
