import { Injectable } from '@nestjs/common';
import type { Department, FactKind } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import { PersonKeyColumn } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';
import { holdingsOf } from './holdings';
import type { Holding } from './holdings';

/** Where a page of holdings ends: `storedKey` is the person key column's value as stored (opaque: the page order is by it). */
export interface HoldingPosition {
  scopeDivision: string;
  storedKey: string;
  slot: string;
}

/**
 * `department_holding`: all SQL of the table. `person_key` holds the person ID (ADR 0011 stage 5,
 * `PersonKeyColumn`): pages are in (division, person ID, slot) order, an arbitrary but stable order of people.
 */
@Injectable()
export class DepartmentHoldingRepository {
  constructor(private readonly keys: PersonKeyColumn) {}

  /** Replaces the holdings of these people with what their records hold now (two statements). */
  async replaceFor(manager: EntityManager, records: readonly RegistrationRecord[]): Promise<void> {
    if (records.length === 0) return;
    await manager.query(`DELETE FROM department_holding WHERE person_key = ANY($1::text[])`, [this.keys.storedAll(records.map((r) => r.personKey))]);
    const rows = records.flatMap((r) => holdingsOf(r).map((h) => ({ ...h, personKey: r.personKey })));
    if (rows.length === 0) return;
    await manager.query(
      `INSERT INTO department_holding (department, person_key, slot, kind, scope_division, as_of)
       SELECT r.department, r.person_key, r.slot, r.kind, r.scope_division, r.as_of
         FROM jsonb_to_recordset($1::jsonb) AS r(department text, person_key text, slot text, kind text, scope_division text, as_of timestamptz)`,
      [JSON.stringify(rows.map((h) => ({ department: h.department, person_key: this.keys.stored(h.personKey), slot: h.slot, kind: h.kind, scope_division: h.scopeDivision, as_of: h.asOf })))],
    );
  }

  /**
   * A page of what a department holds of a kind within a division, in (division, person, slot) order
   * after a position: the roster index serves it without sorting, however large the division.
   */
  async page(
    manager: EntityManager,
    q: { department: Department; kind: FactKind; scope: string; after: HoldingPosition | null; limit: number },
  ): Promise<(Holding & { personKey: string; position: HoldingPosition })[]> {
    const rows: { person_key: string; slot: string; kind: FactKind; scope_division: string; as_of: Date }[] = await manager.query(
      `SELECT person_key, slot, kind, scope_division, as_of FROM department_holding
        WHERE department = $1 AND kind = $2 AND scope_division LIKE $3 || '%'
          AND ($4::text IS NULL OR (scope_division, person_key, slot) > ($4::text, $5::text, $6::text))
        ORDER BY scope_division, person_key, slot LIMIT $7`,
      [q.department, q.kind, q.scope, q.after?.scopeDivision ?? null, q.after?.storedKey ?? null, q.after?.slot ?? null, q.limit],
    );
    return rows.map((r) => ({
      department: q.department,
      personKey: this.keys.key(r.person_key),
      slot: r.slot,
      kind: r.kind,
      scopeDivision: r.scope_division,
      asOf: new Date(r.as_of).toISOString(),
      position: { scopeDivision: r.scope_division, storedKey: r.person_key, slot: r.slot },
    }));
  }
}
