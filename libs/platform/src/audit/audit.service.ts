import { Global, Injectable, Module } from '@nestjs/common';
import { actorOf } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

export interface ReadAuditEntry {
  principal: Principal;
  personKey: string;
  /** The service serving the read, e.g. `review`. */
  service: string;
  /** Why: the endpoint or business purpose, e.g. `review:item` or `window:lookup`. */
  purpose: string;
}

/** The row written for an entry: `actor` as in event envelopes (`user:<sub>` / `key:<keyId>`). */
export function auditRow(entry: ReadAuditEntry): [string, string | null, string | null, string, string, string] {
  const { principal } = entry;
  if (!entry.personKey || !entry.service || !entry.purpose) throw new Error('an audited read needs personKey, service and purpose');
  return principal.kind === 'person'
    ? [actorOf(principal), principal.role, principal.division, entry.personKey, entry.service, entry.purpose]
    : [actorOf(principal), `dept:${principal.department}`, null, entry.personKey, entry.service, entry.purpose];
}

/**
 * Audits reads of a person's record (table `audit_read` in the service's schema). Await it before
 * answering: a read that cannot be audited fails rather than going unrecorded.
 */
@Injectable()
export class AuditService {
  constructor(private readonly dataSource: DataSource) {}

  /** Pass `manager` to write inside the caller's transaction. */
  async recordRead(entry: ReadAuditEntry, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.query(
      `INSERT INTO audit_read (actor, actor_role, actor_division, person_key, service, purpose) VALUES ($1, $2, $3, $4, $5, $6)`,
      auditRow(entry),
    );
  }

  /**
   * Reads of many people's records at once (a list page, an export batch): one row per person, in
   * one statement. Await it before the data is sent: a read that cannot be audited fails.
   */
  async recordReads(entry: Omit<ReadAuditEntry, 'personKey'>, personKeys: readonly string[], manager: EntityManager = this.dataSource.manager): Promise<void> {
    if (personKeys.length === 0) return;
    const [actor, role, division, , service, purpose] = auditRow({ ...entry, personKey: personKeys[0] as string });
    await manager.query(
      `INSERT INTO audit_read (actor, actor_role, actor_division, person_key, service, purpose)
       SELECT $1, $2, $3, k, $5, $6 FROM unnest($4::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n`,
      [actor, role, division, personKeys, service, purpose],
    );
  }
}

/** Global, so any module serving records can inject AuditService. Needs a DataSource provider. */
@Global()
@Module({ providers: [AuditService], exports: [AuditService] })
export class AuditModule {}
