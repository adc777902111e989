import { citizenIdsIn } from '@qmcb/domain';
import type { Department } from '@qmcb/contracts';
import type { PersonalDataSealer, PlainRowSealer } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';
import type { DataSource } from 'typeorm';
import type { Violation } from '../record-admission';
import type { LoadFormat } from './rows';

export const LOAD_STATUSES = ['running', 'completed', 'failed'] as const;
export type LoadStatus = (typeof LOAD_STATUSES)[number];

/** Counts of a load; `rows === accepted + duplicates + quarantined` at every moment. */
export interface LoadCounts {
  rows: number;
  accepted: number;
  duplicates: number;
  quarantined: number;
  /** Quarantined rows by the rule of their first violation; the values add up to `quarantined`. */
  quarantinedByReason: Record<string, number>;
}

/** The report of a load, while it runs and when it ended (docs/api/bulk-load.md). */
export interface LoadReport extends LoadCounts {
  loadId: string;
  status: LoadStatus;
  department: Department;
  format: LoadFormat;
  fileName: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number;
  /** Why a failed load stopped. */
  error?: string;
}

export interface LoadMeta {
  loadId: string;
  department: Department;
  format: LoadFormat;
  fileName: string | null;
  actor: string;
  startedAt: Date;
}

export interface QuarantinedRow {
  line: number;
  raw: string;
  violations: Violation[];
}

export interface QuarantineItem extends QuarantinedRow {
  reason: string;
}

/** PostgreSQL text and jsonb cannot hold NUL characters. */
function noNul(text: string): string {
  return text.includes('\u0000') ? text.split('\u0000').join('\uFFFD') : text;
}

export function emptyCounts(): LoadCounts {
  return { rows: 0, accepted: 0, duplicates: 0, quarantined: 0, quarantinedByReason: {} };
}

interface LoadRow {
  id: string;
  department: Department;
  format: LoadFormat;
  file_name: string | null;
  status: LoadStatus;
  started_at: Date;
  finished_at: Date | null;
  rows: string;
  accepted: string;
  duplicates: string;
  quarantined: string;
  quarantined_by_reason: Record<string, number>;
  error: string | null;
}

export function toReport(meta: Omit<LoadMeta, 'actor'>, status: LoadStatus, counts: LoadCounts, finishedAt: Date | null, error?: string | null): LoadReport {
  const report: LoadReport = {
    loadId: meta.loadId,
    status,
    department: meta.department,
    format: meta.format,
    fileName: meta.fileName,
    rows: counts.rows,
    accepted: counts.accepted,
    duplicates: counts.duplicates,
    quarantined: counts.quarantined,
    quarantinedByReason: { ...counts.quarantinedByReason },
    startedAt: meta.startedAt.toISOString(),
    finishedAt: finishedAt ? finishedAt.toISOString() : null,
    durationMs: (finishedAt ?? new Date()).getTime() - meta.startedAt.getTime(),
  };
  if (error) report.error = error;
  return report;
}

/** Where a quarantined line is sealed (ADR 0011): under a data key of its load's own. */
const QUARANTINE_PLACE = 'load_quarantine.raw';
const quarantineKey = (loadId: string): string => `load:${loadId}`;

/**
 * PostgreSQL side of bulk loads: the `loads`, `load_quarantine` and `ingested_record` tables. A
 * quarantined line is kept as sent but sealed (ADR 0011), with the person refs of the citizen IDs
 * in it (`person_refs`) for erasure.
 */
export class LoadStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sealer: PersonalDataSealer,
  ) {}

  async create(meta: LoadMeta): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO loads (id, department, format, file_name, actor, status, started_at) VALUES ($1, $2, $3, $4, $5, 'running', $6)`,
      [meta.loadId, meta.department, meta.format, meta.fileName, meta.actor, meta.startedAt],
    );
  }

  /** Which of these event IDs some load (this one included) already appended. */
  async alreadyIngested(eventIds: string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const rows: { event_id: string }[] = await this.dataSource.query(`SELECT event_id FROM ingested_record WHERE event_id = ANY($1::text[])`, [eventIds]);
    return new Set(rows.map((r) => r.event_id));
  }

  /**
   * After the log acknowledged a chunk: its event IDs, its quarantined rows and the load's new
   * counts, in one transaction (so the table's counts always match what was recorded).
   */
  async commitChunk(loadId: string, ingested: { eventId: string; line: number }[], quarantined: QuarantinedRow[], counts: LoadCounts): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      if (ingested.length) {
        await m.query(
          `INSERT INTO ingested_record (event_id, load_id, line)
           SELECT e, $1, l FROM unnest($2::text[], $3::bigint[]) AS t(e, l)
           ON CONFLICT (event_id) DO NOTHING`,
          [loadId, ingested.map((i) => i.eventId), ingested.map((i) => i.line)],
        );
      }
      if (quarantined.length) {
        const raws = quarantined.map((q) => noNul(q.raw));
        const sealed = await this.sealer.seal(QUARANTINE_PLACE, raws.map((raw) => ({ personKey: quarantineKey(loadId), value: raw })));
        const refs = await Promise.all(raws.map(async (raw) => Promise.all(citizenIdsIn(raw).map((id) => this.sealer.personRef(id)))));
        await m.query(
          `INSERT INTO load_quarantine (load_id, line, reason, raw_sealed, person_refs, violations)
           SELECT $1, l, r, decode(w, 'base64'), ARRAY(SELECT jsonb_array_elements_text(p::jsonb)), v::jsonb
             FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t(l, r, w, p, v)
           ON CONFLICT (load_id, line) DO NOTHING`,
          [
            loadId,
            quarantined.map((q) => q.line),
            quarantined.map((q) => q.violations[0]?.rule ?? 'unknown'),
            sealed.map((b) => {
              // The load's own key is never shredded by an erasure (that deletes the lines instead).
              if (!b) throw new Error(`the keyring holds the load's key as shredded (load ${loadId})`);
              return b.toString('base64');
            }),
            refs.map((r) => JSON.stringify(r)),
            quarantined.map((q) => JSON.stringify(q.violations.map((v) => ({ field: noNul(v.field), rule: noNul(v.rule), message: noNul(v.message) })))),
          ],
        );
      }
      await this.updateCounts(m.query.bind(m), loadId, counts, 'running', null, null);
    });
  }

  async finish(loadId: string, status: LoadStatus, counts: LoadCounts, finishedAt: Date, error: string | null): Promise<void> {
    await this.updateCounts(this.dataSource.query.bind(this.dataSource), loadId, counts, status, finishedAt, error);
  }

  private async updateCounts(
    query: (sql: string, params: unknown[]) => Promise<unknown>,
    loadId: string,
    c: LoadCounts,
    status: LoadStatus,
    finishedAt: Date | null,
    error: string | null,
  ): Promise<void> {
    await query(
      `UPDATE loads SET rows = $2, accepted = $3, duplicates = $4, quarantined = $5, quarantined_by_reason = $6::jsonb,
              status = $7, finished_at = COALESCE($8, finished_at), error = COALESCE($9, error), updated_at = now()
        WHERE id = $1`,
      [loadId, c.rows, c.accepted, c.duplicates, c.quarantined, JSON.stringify(c.quarantinedByReason), status, finishedAt, error],
    );
  }

  async report(loadId: string): Promise<LoadReport | null> {
    const rows: LoadRow[] = await this.dataSource.query(
      `SELECT id, department, format, file_name, status, started_at, finished_at, rows, accepted, duplicates, quarantined, quarantined_by_reason, error
         FROM loads WHERE id = $1`,
      [loadId],
    );
    const r = rows[0];
    if (!r) return null;
    return toReport(
      { loadId: r.id, department: r.department, format: r.format, fileName: r.file_name, startedAt: r.started_at },
      r.status,
      {
        rows: Number(r.rows),
        accepted: Number(r.accepted),
        duplicates: Number(r.duplicates),
        quarantined: Number(r.quarantined),
        quarantinedByReason: r.quarantined_by_reason,
      },
      r.finished_at,
      r.error,
    );
  }

  async quarantine(loadId: string, limit: number, offset: number): Promise<{ total: number; items: QuarantineItem[] }> {
    const [count]: { n: string }[] = await this.dataSource.query(`SELECT count(*) AS n FROM load_quarantine WHERE load_id = $1`, [loadId]);
    const items: { line: string; reason: string; raw: string | null; raw_sealed: Buffer | null; violations: Violation[] }[] = await this.dataSource.query(
      `SELECT line, reason, raw, raw_sealed, violations FROM load_quarantine WHERE load_id = $1 ORDER BY line LIMIT $2 OFFSET $3`,
      [loadId, limit, offset],
    );
    // One keyring look-up for the page; a line quarantined before sealing is read as it is.
    const raws = await this.sealer.open<string>(QUARANTINE_PLACE, items.map((i) => ({ personKey: quarantineKey(loadId), sealed: i.raw_sealed, plain: i.raw })));
    return { total: Number(count?.n ?? 0), items: items.map((i, n) => ({ line: Number(i.line), reason: i.reason, raw: raws[n] ?? '', violations: i.violations })) };
  }
}

/**
 * `seal-records` for quarantined lines kept as text before ADR 0011 (`raw`): each sealed in place
 * (`raw_sealed`, and `person_refs` for erasure), `raw` cleared; key order `<load ID>:<line>`.
 */
export class QuarantinePlainRows implements PlainRowSealer {
  readonly table = 'load_quarantine';

  constructor(private readonly sealer: PersonalDataSealer) {}

  async countPlain(manager: EntityManager): Promise<number> {
    const [row]: { n: number }[] = await manager.query(`SELECT count(*)::int AS n FROM load_quarantine WHERE raw IS NOT NULL`);
    return Number(row?.n ?? 0);
  }

  async sealPlainRows(manager: EntityManager, after: string | null, limit: number): Promise<{ last: string | null; sealed: number }> {
    const key = `load_id::text || ':' || lpad(line::text, 20, '0')`;
    const rows: { load_id: string; line: string; raw: string; k: string }[] = await manager.query(
      `SELECT load_id, line, raw, ${key} AS k FROM load_quarantine
        WHERE raw IS NOT NULL AND ($1::text IS NULL OR ${key} > $1) ORDER BY ${key} LIMIT $2 FOR UPDATE`,
      [after, limit],
    );
    if (rows.length === 0) return { last: null, sealed: 0 };
    for (const r of rows) {
      const [sealed] = await this.sealer.seal(QUARANTINE_PLACE, [{ personKey: quarantineKey(r.load_id), value: r.raw }]);
      if (!sealed) continue;
      const refs = await Promise.all(citizenIdsIn(r.raw).map((id) => this.sealer.personRef(id)));
      await manager.query(`UPDATE load_quarantine SET raw_sealed = $3, person_refs = $4::text[], raw = NULL WHERE load_id = $1 AND line = $2`, [r.load_id, r.line, sealed, refs]);
    }
    return { last: (rows[rows.length - 1] as { k: string }).k, sealed: rows.length };
  }
}
