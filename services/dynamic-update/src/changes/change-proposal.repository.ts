import { Injectable } from '@nestjs/common';
import { PersonKeyColumn } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';
import type { ChangeProposal } from './change-proposal.decider';

const COLUMNS = `proposal_id AS "proposalId", person_key AS "personKey", division, type, change_event_id AS "changeEventId",
  occurred_at AS "occurredAt", proposed_at AS "proposedAt", reason, status, decided_by AS "decidedBy", decided_at AS "decidedAt",
  decision_event_id AS "decisionEventId"`;

function toProposal(r: Record<string, unknown>, keys: PersonKeyColumn): ChangeProposal {
  const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());
  return {
    proposalId: String(r['proposalId']),
    personKey: keys.key(String(r['personKey'])),
    division: (r['division'] as string | null) ?? null,
    type: r['type'] as ChangeProposal['type'],
    changeEventId: String(r['changeEventId']),
    occurredAt: iso(r['occurredAt']) as string,
    proposedAt: iso(r['proposedAt']) as string,
    reason: String(r['reason']),
    status: r['status'] as ChangeProposal['status'],
    decidedBy: (r['decidedBy'] as string | null) ?? null,
    decidedAt: iso(r['decidedAt']),
    decisionEventId: (r['decisionEventId'] as string | null) ?? null,
  };
}

/** `change_proposal`: all SQL of the table. `person_key` holds the person ID (ADR 0011 stage 5, `PersonKeyColumn`). */
@Injectable()
export class ChangeProposalRepository {
  constructor(private readonly keys: PersonKeyColumn) {}

  async find(manager: EntityManager, proposalId: string, forUpdate = false): Promise<ChangeProposal | null> {
    const rows: Record<string, unknown>[] = await manager.query(`SELECT ${COLUMNS} FROM change_proposal WHERE proposal_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [proposalId]);
    return rows[0] ? toProposal(rows[0], this.keys) : null;
  }

  async findMany(manager: EntityManager, proposalIds: readonly string[]): Promise<Map<string, ChangeProposal>> {
    const out = new Map<string, ChangeProposal>();
    if (proposalIds.length === 0) return out;
    const rows: Record<string, unknown>[] = await manager.query(`SELECT ${COLUMNS} FROM change_proposal WHERE proposal_id = ANY($1::uuid[])`, [[...new Set(proposalIds)]]);
    for (const r of rows) out.set(String(r['proposalId']), toProposal(r, this.keys));
    return out;
  }

  async saveMany(manager: EntityManager, proposals: readonly ChangeProposal[]): Promise<void> {
    if (proposals.length === 0) return;
    await manager.query(
      `INSERT INTO change_proposal (proposal_id, person_key, division, type, change_event_id, occurred_at, proposed_at, reason, status, decided_by, decided_at, decision_event_id)
       SELECT r."proposalId", r."personKey", r.division, r.type, r."changeEventId", r."occurredAt", r."proposedAt", r.reason, r.status, r."decidedBy", r."decidedAt", r."decisionEventId"
         FROM jsonb_to_recordset($1::jsonb) AS r("proposalId" uuid, "personKey" text, division text, type text, "changeEventId" text, "occurredAt" timestamptz,
              "proposedAt" timestamptz, reason text, status text, "decidedBy" text, "decidedAt" timestamptz, "decisionEventId" text)
       ON CONFLICT (proposal_id) DO UPDATE SET division = EXCLUDED.division, status = EXCLUDED.status, decided_by = EXCLUDED.decided_by,
         decided_at = EXCLUDED.decided_at, decision_event_id = EXCLUDED.decision_event_id`,
      [JSON.stringify(proposals.map((p) => ({ ...p, personKey: this.keys.stored(p.personKey) })))],
    );
  }

  /** Waiting proposals of people filed within a division, oldest first. */
  async pending(manager: EntityManager, division: string, limit: number, offset: number): Promise<{ total: number; items: ChangeProposal[] }> {
    const [count]: { n: number }[] = await manager.query(`SELECT count(*)::int AS n FROM change_proposal WHERE status = 'pending' AND division LIKE $1 || '%'`, [division]);
    const rows: Record<string, unknown>[] = await manager.query(
      `SELECT ${COLUMNS} FROM change_proposal WHERE status = 'pending' AND division LIKE $1 || '%' ORDER BY proposed_at, proposal_id LIMIT $2 OFFSET $3`,
      [division, limit, offset],
    );
    return { total: count?.n ?? 0, items: rows.map((r) => toProposal(r, this.keys)) };
  }
}
