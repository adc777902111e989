import { Injectable } from '@nestjs/common';
import { assertInDivision } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { OUTCOMES } from '@qmcb/contracts';
import type { Outcome } from '@qmcb/contracts';
import { maskCitizenId } from '@qmcb/domain';
import { DataSource } from 'typeorm';
import { auditReads } from './audit-reads';
import type { FlagListDto, FlagSummaryDto, FlaggedPersonDto } from './flags.dto';

export interface FlagFilter {
  division?: string;
  outcome?: Outcome;
  reason?: string;
  limit: number;
  offset: number;
}

interface FlagRow {
  personKey: string;
  citizenId: string | null;
  name: string | null;
  division: string;
  outcome: Outcome;
  reasonCodes: string[];
  decidedAt: Date;
}

/** The division asked for, checked against the caller's (404 outside it, as for a person). */
export function scopeOf(principal: Principal, division: string | undefined): string {
  const within = division ?? (principal.kind === 'person' ? principal.division : '');
  assertInDivision(principal, within);
  return within;
}

/**
 * Flagged people by outcome and reason within a division, from `current_outcome`. The division is
 * the one the person record is filed under now (`person_record.division`, as `GET /persons` checks
 * it), so the list never shows someone the caller could not open, and follows a person who moved.
 */
@Injectable()
export class FlagsService {
  constructor(private readonly dataSource: DataSource) {}

  async list(principal: Principal, filter: FlagFilter): Promise<FlagListDto> {
    const within = scopeOf(principal, filter.division);
    const params: unknown[] = [`${within}%`];
    const where = [`p.division LIKE $1`];
    if (filter.outcome) {
      params.push(filter.outcome);
      where.push(`c.outcome = $${params.length}`);
    }
    if (filter.reason) {
      params.push([filter.reason]);
      where.push(`c.reason_codes @> $${params.length}::text[]`);
    }
    const from = `FROM current_outcome c JOIN person_record p ON p.person_key = c.person_key WHERE ${where.join(' AND ')}`;
    const [{ total }]: { total: number }[] = await this.dataSource.query(`SELECT count(*)::int AS total ${from}`, params);
    const rows: FlagRow[] = await this.dataSource.query(
      `SELECT c.person_key AS "personKey", p.record->>'citizenId' AS "citizenId", p.record->>'name' AS name, p.division,
              c.outcome, c.reason_codes AS "reasonCodes", c.decided_at AS "decidedAt"
         ${from}
        ORDER BY p.division, c.person_key
        LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, filter.limit, filter.offset],
    );
    // A list names people: each listed person is a read of their record (invariant 6).
    if (principal.kind === 'person') await auditReads(this.dataSource, principal, rows.map((r) => r.personKey), 'comparison:flags');
    return { total, limit: filter.limit, offset: filter.offset, items: rows.map(toItem) };
  }

  async summary(principal: Principal, division: string | undefined): Promise<FlagSummaryDto> {
    const within = scopeOf(principal, division);
    const params = [`${within}%`];
    const from = `FROM current_outcome c JOIN person_record p ON p.person_key = c.person_key WHERE p.division LIKE $1`;
    const outcomes: { outcome: Outcome; n: number }[] = await this.dataSource.query(
      `SELECT c.outcome, count(*)::int AS n ${from} GROUP BY c.outcome`,
      params,
    );
    const reasons: { code: string; n: number }[] = await this.dataSource.query(
      `SELECT r.code, count(*)::int AS n
         FROM current_outcome c JOIN person_record p ON p.person_key = c.person_key CROSS JOIN LATERAL unnest(c.reason_codes) AS r(code)
        WHERE p.division LIKE $1 GROUP BY r.code ORDER BY r.code`,
      params,
    );
    const byOutcome = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
    for (const { outcome, n } of outcomes) byOutcome[outcome] = n;
    return {
      division: within,
      total: outcomes.reduce((sum, { n }) => sum + n, 0),
      byOutcome,
      byReason: Object.fromEntries(reasons.map(({ code, n }) => [code, n])),
    };
  }
}

function toItem(row: FlagRow): FlaggedPersonDto {
  return {
    personKey: row.personKey,
    citizenIdMasked: row.citizenId === null ? null : maskCitizenId(row.citizenId),
    name: row.name,
    division: row.division,
    outcome: row.outcome,
    reasonCodes: row.reasonCodes,
    decidedAt: new Date(row.decidedAt).toISOString(),
  };
}
