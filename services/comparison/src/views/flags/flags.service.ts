import { Injectable } from '@nestjs/common';
import { assertInDivision } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { OUTCOMES } from '@qmcb/contracts';
import type { Outcome } from '@qmcb/contracts';
import { maskCitizenId } from '@qmcb/domain';
import { PersonIds } from '@qmcb/platform';
import { DataSource } from 'typeorm';
import { OutcomeRepository } from '../../outcomes/outcome.repository';
import type { FlagRow } from '../../outcomes/outcome.repository';
import type { FlagListDto, FlagSummaryDto, FlaggedPersonDto } from './flags.dto';

export interface FlagFilter {
  division?: string;
  outcome?: Outcome;
  reason?: string;
  limit: number;
  offset: number;
}

/** The division asked for, checked against the caller's (404 outside it, as for a person). */
export function scopeOf(principal: Principal, division: string | undefined): string {
  const within = division ?? (principal.kind === 'person' ? principal.division : '');
  assertInDivision(principal, within);
  return within;
}

/**
 * Flagged people by outcome and reason within a division. The division is the one the person record
 * is filed under now (as `GET /persons` checks it), so the list never shows someone the caller could
 * not open, and follows a person who moved.
 */
@Injectable()
export class FlagsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outcomes: OutcomeRepository,
    private readonly ids: PersonIds,
  ) {}

  async list(principal: Principal, filter: FlagFilter): Promise<FlagListDto> {
    const within = scopeOf(principal, filter.division);
    const { total, items } = await this.outcomes.flags(this.dataSource.manager, { within, outcome: filter.outcome, reason: filter.reason, limit: filter.limit, offset: filter.offset });
    // The person ID, never the person key (the citizen ID) beside its masked form; the platform audits everyone listed.
    return { total, limit: filter.limit, offset: filter.offset, items: items.map((row) => toItem(row, this.ids.idOf(row.personKey))) };
  }

  async summary(principal: Principal, division: string | undefined): Promise<FlagSummaryDto> {
    const within = scopeOf(principal, division);
    const { byOutcome, byReason } = await this.outcomes.counts(this.dataSource.manager, within);
    const counts = Object.fromEntries(OUTCOMES.map((o) => [o, byOutcome.get(o) ?? 0])) as Record<Outcome, number>;
    return {
      division: within,
      total: Object.values(counts).reduce((sum, n) => sum + n, 0),
      byOutcome: counts,
      byReason: Object.fromEntries(byReason),
    };
  }
}

function toItem(row: FlagRow, personId: string): FlaggedPersonDto {
  return {
    personId,
    citizenIdMasked: row.citizenId === null ? null : maskCitizenId(row.citizenId),
    name: row.name,
    division: row.division,
    outcome: row.outcome,
    reasonCodes: row.reasonCodes,
    decidedAt: row.decidedAt,
  };
}
