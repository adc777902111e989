import type { Principal } from '@qmcb/auth';
import { auditRow } from '@qmcb/platform';
import type { DataSource } from 'typeorm';

/** The `service` of this service's audit rows. */
export const AUDIT_SERVICE = 'comparison';

/**
 * Audits reads of many people's records at once (a list page, an export batch): one `audit_read`
 * row per person, in one statement, in the row format of `AuditService.recordRead`. Await it before
 * the data is sent: a read that cannot be audited fails.
 */
export async function auditReads(dataSource: DataSource, principal: Principal, personKeys: readonly string[], purpose: string): Promise<void> {
  if (personKeys.length === 0) return;
  const [actor, role, division, , service] = auditRow({ principal, personKey: personKeys[0], service: AUDIT_SERVICE, purpose });
  await dataSource.query(
    `INSERT INTO audit_read (actor, actor_role, actor_division, person_key, service, purpose)
     SELECT $1, $2, $3, k, $5, $6 FROM unnest($4::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n`,
    [actor, role, division, personKeys, service, purpose],
  );
}
