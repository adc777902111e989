import { citizenIdsIn } from '@qmcb/domain';
import type { ContractViolation, Department, FactKind } from '@qmcb/contracts';
import type { PersonalDataSealer, PersonKeyColumn } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';

export interface SnapshotCounts {
  /** Data lines read: unchanged + added + updated + older + duplicates + quarantined. */
  rows: number;
  unchanged: number;
  added: number;
  updated: number;
  /** Rows older than what we hold of their slot: nothing changes. */
  older: number;
  /** A person's slot listed a second time in the roster. */
  duplicates: number;
  quarantined: number;
  quarantinedByReason: Record<string, number>;
  /** Held slots the roster left out, flagged now. */
  absent: number;
  /** Held slots left out that an earlier roster (as of the same day or later) already flagged. */
  alreadyAbsent: number;
  /** Held slots left out but newer than the roster: not flagged. */
  newerThanRoster: number;
  /** Events appended: added + updated + absent. */
  events: number;
}

export function emptySnapshotCounts(): SnapshotCounts {
  return { rows: 0, unchanged: 0, added: 0, updated: 0, older: 0, duplicates: 0, quarantined: 0, quarantinedByReason: {}, absent: 0, alreadyAbsent: 0, newerThanRoster: 0, events: 0 };
}

export interface SnapshotMeta {
  snapshotId: string;
  department: Department;
  kind: FactKind;
  scope: string;
  asOf: string;
  actor: string;
  startedAt: string;
}

export interface SnapshotReport extends SnapshotMeta, SnapshotCounts {
  status: 'running' | 'completed' | 'failed';
  finishedAt: string | null;
  error: string | null;
}

export type SnapshotChangeKind = 'added' | 'updated' | 'absent';

export interface SnapshotChange {
  personKey: string;
  slot: string;
  /** Line of the roster (null for an absence). */
  line: number | null;
  change: SnapshotChangeKind;
  items: string[];
  eventId: string;
}

export interface QuarantinedLine {
  line: number;
  reason: string;
  raw: string;
  violations: ContractViolation[];
}

/** Where a refused roster line is sealed (ADR 0011): under a data key of its snapshot's own. */
export const SNAPSHOT_QUARANTINE_PLACE = 'snapshot_quarantine.raw';
const quarantineKey = (snapshotId: string): string => `snapshot:${snapshotId}`;

/**
 * The snapshot tables of the operational schema: all their SQL. `person_key` of `snapshot_member`
 * and `snapshot_change` holds the person ID (ADR 0011 stage 5, `PersonKeyColumn`): converted here. A
 * refused line is kept as sent but sealed (`raw_sealed`, under the snapshot's own data key), with the
 * person refs of the citizen IDs in it (`person_refs`) for erasure; one refused before has `raw`.
 */
export class SnapshotRepository {
  constructor(
    private readonly keys: PersonKeyColumn,
    private readonly sealer: PersonalDataSealer,
  ) {}

  async create(manager: EntityManager, meta: SnapshotMeta): Promise<void> {
    await manager.query(
      `INSERT INTO snapshot (snapshot_id, department, kind, scope, as_of, actor, status, counts, started_at) VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8)`,
      [meta.snapshotId, meta.department, meta.kind, meta.scope, meta.asOf, meta.actor, JSON.stringify(emptySnapshotCounts()), meta.startedAt],
    );
  }

  /** Roster members of a chunk; returns those listed for the first time in this snapshot. */
  async addMembers(manager: EntityManager, snapshotId: string, members: readonly { personKey: string; slot: string }[]): Promise<Set<string>> {
    if (members.length === 0) return new Set();
    const rows: { person_key: string; slot: string }[] = await manager.query(
      `INSERT INTO snapshot_member (snapshot_id, person_key, slot) SELECT $1, p, s FROM unnest($2::text[], $3::text[]) AS m(p, s)
       ON CONFLICT DO NOTHING RETURNING person_key, slot`,
      [snapshotId, this.keys.storedAll(members.map((m) => m.personKey)), members.map((m) => m.slot)],
    );
    return new Set(rows.map((r) => `${this.keys.key(r.person_key)}\u0000${r.slot}`));
  }

  /** Which of these (person, slot) the roster listed. */
  async listed(manager: EntityManager, snapshotId: string, items: readonly { personKey: string; slot: string }[]): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const rows: { person_key: string; slot: string }[] = await manager.query(
      `SELECT m.person_key, m.slot FROM snapshot_member m JOIN unnest($2::text[], $3::text[]) AS q(p, s) ON m.person_key = q.p AND m.slot = q.s WHERE m.snapshot_id = $1`,
      [snapshotId, this.keys.storedAll(items.map((i) => i.personKey)), items.map((i) => i.slot)],
    );
    return new Set(rows.map((r) => `${this.keys.key(r.person_key)}\u0000${r.slot}`));
  }

  async record(manager: EntityManager, snapshotId: string, changes: readonly SnapshotChange[], quarantined: readonly QuarantinedLine[], counts: SnapshotCounts): Promise<void> {
    if (changes.length > 0) {
      await manager.query(
        `INSERT INTO snapshot_change (snapshot_id, person_key, slot, line, change, items, event_id)
         SELECT $1, c."personKey", c.slot, c.line, c.change, ARRAY(SELECT jsonb_array_elements_text(c.items)), c."eventId"
           FROM jsonb_to_recordset($2::jsonb) AS c("personKey" text, slot text, line int, change text, items jsonb, "eventId" text)
         ON CONFLICT DO NOTHING`,
        [snapshotId, JSON.stringify(changes.map((c) => ({ ...c, personKey: this.keys.stored(c.personKey) })))],
      );
    }
    if (quarantined.length > 0) {
      // One keyring call for the chunk's lines (a key of the snapshot's own: a refused line may name nobody valid).
      const sealed = await this.sealer.seal(SNAPSHOT_QUARANTINE_PLACE, quarantined.map((q) => ({ personKey: quarantineKey(snapshotId), value: q.raw })));
      const refs = await Promise.all(quarantined.map(async (q) => Promise.all(citizenIdsIn(q.raw).map((id) => this.sealer.personRef(id)))));
      const rows = quarantined.map((q, i) => {
        const bytes = sealed[i];
        if (!bytes) throw new Error('the snapshot’s data key is gone: its refused lines cannot be kept');
        return { line: q.line, reason: q.reason, raw_sealed: bytes.toString('base64'), person_refs: refs[i], violations: q.violations };
      });
      await manager.query(
        `INSERT INTO snapshot_quarantine (snapshot_id, line, reason, raw, raw_sealed, person_refs, violations)
         SELECT $1, q.line, q.reason, NULL, decode(q.raw_sealed, 'base64'), ARRAY(SELECT jsonb_array_elements_text(q.person_refs)), q.violations
           FROM jsonb_to_recordset($2::jsonb) AS q(line int, reason text, raw_sealed text, person_refs jsonb, violations jsonb)
         ON CONFLICT DO NOTHING`,
        [snapshotId, JSON.stringify(rows)],
      );
    }
    await manager.query(`UPDATE snapshot SET counts = $2 WHERE snapshot_id = $1`, [snapshotId, JSON.stringify(counts)]);
  }

  /** The end: the status, and the roster's members are dropped (the report and changes stay). */
  async finish(manager: EntityManager, snapshotId: string, status: 'completed' | 'failed', counts: SnapshotCounts, finishedAt: string, error: string | null): Promise<void> {
    await manager.query(`UPDATE snapshot SET status = $2, counts = $3, finished_at = $4, error = $5 WHERE snapshot_id = $1`, [snapshotId, status, JSON.stringify(counts), finishedAt, error]);
    await manager.query(`DELETE FROM snapshot_member WHERE snapshot_id = $1`, [snapshotId]);
  }

  async report(manager: EntityManager, snapshotId: string): Promise<SnapshotReport | null> {
    const rows: Record<string, unknown>[] = await manager.query(`SELECT * FROM snapshot WHERE snapshot_id = $1`, [snapshotId]);
    const r = rows[0];
    if (!r) return null;
    const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());
    return {
      snapshotId: String(r['snapshot_id']),
      department: r['department'] as Department,
      kind: r['kind'] as FactKind,
      scope: String(r['scope']),
      asOf: iso(r['as_of']) as string,
      actor: String(r['actor']),
      status: r['status'] as SnapshotReport['status'],
      ...(r['counts'] as SnapshotCounts),
      startedAt: iso(r['started_at']) as string,
      finishedAt: iso(r['finished_at']),
      error: (r['error'] as string | null) ?? null,
    };
  }

  async changes(manager: EntityManager, snapshotId: string, change: SnapshotChangeKind | null, limit: number, offset: number): Promise<{ total: number; items: SnapshotChange[] }> {
    const [count]: { n: number }[] = await manager.query(`SELECT count(*)::int AS n FROM snapshot_change WHERE snapshot_id = $1 AND ($2::text IS NULL OR change = $2)`, [snapshotId, change]);
    const rows: { person_key: string; slot: string; line: number | null; change: SnapshotChangeKind; items: string[]; event_id: string }[] = await manager.query(
      `SELECT person_key, slot, line, change, items, event_id FROM snapshot_change WHERE snapshot_id = $1 AND ($2::text IS NULL OR change = $2)
        ORDER BY line NULLS LAST, person_key, slot LIMIT $3 OFFSET $4`,
      [snapshotId, change, limit, offset],
    );
    return { total: count?.n ?? 0, items: rows.map((r) => ({ personKey: this.keys.key(r.person_key), slot: r.slot, line: r.line, change: r.change, items: r.items, eventId: r.event_id })) };
  }

  async quarantine(manager: EntityManager, snapshotId: string, limit: number, offset: number): Promise<{ total: number; items: QuarantinedLine[] }> {
    const [count]: { n: number }[] = await manager.query(`SELECT count(*)::int AS n FROM snapshot_quarantine WHERE snapshot_id = $1`, [snapshotId]);
    const rows: (Omit<QuarantinedLine, 'raw'> & { raw: string | null; raw_sealed: Buffer | null })[] = await manager.query(
      `SELECT line, reason, raw, raw_sealed, violations FROM snapshot_quarantine WHERE snapshot_id = $1 ORDER BY line LIMIT $2 OFFSET $3`,
      [snapshotId, limit, offset],
    );
    // One keyring look-up for the page; a line refused before sealing is read as it is.
    const raws = await this.sealer.open<string>(SNAPSHOT_QUARANTINE_PLACE, rows.map((r) => ({ personKey: quarantineKey(snapshotId), sealed: r.raw_sealed, plain: r.raw })));
    return {
      total: count?.n ?? 0,
      items: rows.flatMap((r, i) => {
        const raw = raws[i];
        return raw === undefined ? [] : [{ line: r.line, reason: r.reason, raw, violations: r.violations }];
      }),
    };
  }
}
