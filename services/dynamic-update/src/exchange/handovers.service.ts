import { Injectable } from '@nestjs/common';
import { inDivision } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { insuranceEntries } from '@qmcb/domain';
import { AuditService, DomainError, PersonIds } from '@qmcb/platform';
import { DataSource } from 'typeorm';
import { HandoverRepository } from './handover.repository';

export interface Handover {
  /** The opaque person ID (never the person key). */
  personId: string;
  /** Full for the county and the higher registry exchanging them, masked for everyone else (the route's `unmasked`). */
  citizenId: string | null;
  name: string | null;
  movedOutFrom: string | null;
  movedOutOn: string | null;
  /** Where to, as public security reported it. */
  movedOutTo: string | null;
  /** Whether the household registration arrived somewhere this registry serves since. */
  arrived: boolean;
  /** The insurance held now: what the destination takes over (转移接续). */
  insurance: { key: string; status: string; heldBy: string | null; since: string | null }[];
}

/**
 * Moving between regions (procedure §24: migrants are tracked): who moved out of a division, to
 * where, with the insurance they hold; the higher registry takes them over from here (and by the feed,
 * kind household.moved-out). The person is never deleted: one record per citizen ID, whatever moves.
 */
@Injectable()
export class HandoversService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly handovers: HandoverRepository,
    private readonly audit: AuditService,
    private readonly ids: PersonIds,
  ) {}

  /** `after`: the previous page's `next`, the person ID of its last item (an opaque cursor: no citizen ID in a URL). */
  async movedOut(principal: Principal, division: string, after: string | null, limit: number): Promise<{ division: string; next: string | null; items: Handover[] }> {
    if (principal.kind === 'person' && !inDivision(principal.division, division)) throw new DomainError('NOT_FOUND', 'no such division in your scope');
    const afterKey = after === null ? null : this.ids.keyOf(after);
    if (afterKey === undefined) {
      throw new DomainError('VALIDATION_FAILED', 'after is no next this registry gave', {
        violations: [{ field: 'after', rule: 'cursor', message: "after must be the previous page's next, as it was given" }],
      });
    }
    const records = await this.handovers.movedOutOf(this.dataSource.manager, division, afterKey, limit);
    await this.audit.recordReads({ principal, service: 'dynamic-update', purpose: 'exchange:handovers' }, records.map((r) => r.personKey));
    const items = records.map((r) => ({
      personId: this.ids.idOf(r.personKey),
      citizenId: r.citizenId,
      name: r.name,
      movedOutFrom: r.migration?.movedOutFrom ?? null,
      movedOutOn: r.migration?.movedOutOn ?? null,
      movedOutTo: r.migration?.movedOutTo ?? null,
      arrived: r.hukouStatus === 'normal' && (r.migration?.movedInOn ?? null) !== null,
      insurance: insuranceEntries(r).map((e) => ({ key: `${e.insuranceType}:${e.scheme}:${e.region}`, status: e.status, heldBy: e.source === 'survey' ? 'survey' : e.department, since: e.since })),
    }));
    return { division, next: records.length === limit ? (items[items.length - 1]?.personId ?? null) : null, items };
  }
}
