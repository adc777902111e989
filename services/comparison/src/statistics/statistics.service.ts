import { Injectable, Logger } from '@nestjs/common';
import { assertInDivision } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { INSURANCE_TYPES } from '@qmcb/contracts';
import type { InsuranceType } from '@qmcb/contracts';
import { findDivision, isSurrogatePersonKey, maskCitizenId } from '@qmcb/domain';
import { AuditService, DomainError, PersonIds, exportStallMs, maskPersonalData } from '@qmcb/platform';
import { RegionPolicyProvider } from '@qmcb/service-kit';
import type { Writable } from 'stream';
import { DataSource } from 'typeorm';
import { ageOn, chinaDate } from '../rules';
import { CoverageRepository } from './coverage.repository';
import type { ChangeScope, DetailRow, Scope } from './coverage.repository';
import { CHANGE_DIRECTIONS, areaLength, bornBy, figureName, isStatisticsDivision, parseFigure, reportOf, statisticsLevel } from './figures';
import type { AreaFigures, ChangeDirection, Figure, StatisticsLevel } from './figures';
import { beijingTime, detailCells, detailColumns, detailTitle, summaryTable } from './report-layout';
import type { DetailItem } from './report-layout';
import { csvDetailWriter, ndjsonDetailWriter, summaryCsv, writeSummaryXlsx, xlsxDetailWriter } from './report-writers';
import type { DetailWriter, ReportFormat, TextSink } from './report-writers';

export interface CoverageStatistics {
  division: string;
  name: string | null;
  level: StatisticsLevel;
  /** The time the figures are as of (ISO 8601). */
  asOf: string;
  total: AreaFigures;
  /** Townships of a county, villages of a township; none for a village. */
  areas: AreaFigures[];
}

export interface ChangeFigures {
  division: string;
  name: string | null;
  from: string;
  to: string;
  total: Record<InsuranceType, Record<ChangeDirection, number>>;
  areas: { division: string; name: string | null; types: Record<InsuranceType, Record<ChangeDirection, number>> }[];
}

export interface DetailQuery {
  division: string;
  figure: string;
  asOf?: string;
  from?: string;
  to?: string;
}

export interface DetailPage {
  division: string;
  figure: string;
  asOf: string | null;
  from: string | null;
  to: string | null;
  /** Everyone the figure counts: the numerator of the figure (its detail list, all pages). */
  total: number;
  limit: number;
  offset: number;
  items: DetailItem[];
}

/** Detail exports running at once in one replica: each holds a database connection for its whole run. */
export const MAX_CONCURRENT_DETAIL_EXPORTS = 2;
/** A whole detail export (the route's deadline): past it the stream is cut. */
export const DETAIL_EXPORT_TIMEOUT_MS = 30 * 60_000;

function emptyChanges(): Record<InsuranceType, Record<ChangeDirection, number>> {
  return Object.fromEntries(INSURANCE_TYPES.map((t) => [t, Object.fromEntries(CHANGE_DIRECTIONS.map((d) => [d, 0]))])) as Record<InsuranceType, Record<ChangeDirection, number>>;
}

/**
 * The statistics of procedure §27-§31 (docs/design/coverage-statistics.md) over the statistics rows
 * the comparison projection keeps: figures of a county, township or village as of any time, changes
 * between two times, the detail list behind each figure (paged or streamed, masked, every listed
 * person audited by the platform: a page names them, an export discloses each batch before it is
 * sent), and the reports as CSV and XLSX.
 */
@Injectable()
export class StatisticsService {
  private readonly logger = new Logger('StatisticsService');
  private exporting = 0;
  /** A reader that takes nothing for this long is gone: the export stops and frees its slot and transaction. */
  readonly stallMs = exportStallMs();

  constructor(
    private readonly dataSource: DataSource,
    private readonly coverage: CoverageRepository,
    private readonly policies: RegionPolicyProvider,
    private readonly audit: AuditService,
    private readonly ids: PersonIds,
  ) {}

  /** The division asked for: a county, township or village within the caller's (404 outside it). */
  private checkDivision(principal: Principal, division: string): void {
    if (!isStatisticsDivision(division)) {
      throw new DomainError('VALIDATION_FAILED', 'division must be a 6-digit county, 9-digit township or 12-digit village code', {
        violations: [{ field: 'division', rule: 'statisticsDivision', message: 'division must be a 6-digit county, 9-digit township or 12-digit village code' }],
      });
    }
    assertInDivision(principal, division);
  }

  private scope(division: string, asOf: string | undefined): Scope {
    const at = asOf ? new Date(asOf).toISOString() : null;
    const policy = this.policies.forDivision(division);
    return { division, asOf: at, agedBornBy: bornBy(chinaDate(at ?? new Date().toISOString()), policy.pensionAgeCheck) };
  }

  private changeScope(division: string, from: string | undefined, to: string | undefined): ChangeScope {
    if (!from) throw new DomainError('VALIDATION_FAILED', 'from is required for newly covered and newly uncovered', { violations: [{ field: 'from', rule: 'isDefined', message: 'from must be an ISO 8601 time' }] });
    const f = new Date(from).toISOString();
    const t = to ? new Date(to).toISOString() : new Date().toISOString();
    if (Date.parse(t) <= Date.parse(f)) throw new DomainError('VALIDATION_FAILED', 'to must be after from', { violations: [{ field: 'to', rule: 'after', message: 'to must be after from' }] });
    return { division, from: f, to: t };
  }

  async figures(principal: Principal, division: string, asOf?: string): Promise<CoverageStatistics> {
    this.checkDivision(principal, division);
    const scope = this.scope(division, asOf);
    const rows = await this.coverage.counts(this.dataSource.manager, scope, areaLength(division));
    const { total, areas } = reportOf(division, rows, this.policies.forDivision(division));
    return { division, name: total.name, level: statisticsLevel(division), asOf: scope.asOf ?? new Date().toISOString(), total, areas };
  }

  async changes(principal: Principal, division: string, from: string | undefined, to: string | undefined): Promise<ChangeFigures> {
    this.checkDivision(principal, division);
    const scope = this.changeScope(division, from, to);
    const rows = await this.coverage.changeCounts(this.dataSource.manager, scope, areaLength(division));
    const total = emptyChanges();
    const byArea = new Map<string, Record<InsuranceType, Record<ChangeDirection, number>>>();
    for (const r of rows) {
      total[r.type][r.direction] += r.n;
      const area = byArea.get(r.area) ?? emptyChanges();
      area[r.type][r.direction] += r.n;
      byArea.set(r.area, area);
    }
    const areas = division.length === 12 ? [] : [...byArea.keys()].sort().map((code) => ({ division: code, name: findDivision(code)?.name ?? null, types: byArea.get(code) as Record<InsuranceType, Record<ChangeDirection, number>> }));
    return { division, name: findDivision(division)?.name ?? null, from: scope.from, to: scope.to, total, areas };
  }

  private figureOf(name: string): Figure {
    const figure = parseFigure(name);
    if (typeof figure === 'string') throw new DomainError('VALIDATION_FAILED', figure, { violations: [{ field: 'figure', rule: 'figure', message: figure }] });
    return figure;
  }

  private scopeFor(figure: Figure, q: DetailQuery): Scope | ChangeScope {
    return figure.kind === 'change' ? this.changeScope(q.division, q.from, q.to) : this.scope(q.division, q.asOf);
  }

  private item(row: DetailRow, scope: Scope | ChangeScope): DetailItem {
    const on = chinaDate('asOf' in scope ? (scope.asOf ?? new Date().toISOString()) : scope.to);
    const masked = maskPersonalData({ name: row.name }) as { name: string | null };
    const coverage = {} as DetailItem['coverage'];
    for (const t of INSURANCE_TYPES) {
      const c = row.coverage[t];
      coverage[t] = { status: c.status, reason: c.reason, regions: c.regions ? c.regions.split(',') : [] };
    }
    return {
      personId: this.ids.idOf(row.personKey),
      // A person under an invalid ID is keyed by a surrogate: the ID as sent is what the officer knows.
      citizenIdMasked: maskCitizenId(isSurrogatePersonKey(row.personKey) ? (row.citizenId ?? row.personKey) : row.personKey),
      nameMasked: masked.name,
      village: row.village,
      villageName: row.village ? (findDivision(row.village)?.name ?? null) : null,
      age: row.birthDate ? ageOn(row.birthDate, on) : null,
      outcome: row.outcome,
      surveyedReason: row.surveyedReason,
      coverage,
      ...('from' in scope ? { statusBefore: row.statusBefore } : {}),
    };
  }

  /** One page of the detail list behind a figure; every listed person is named to the request's audit entry. */
  async detailPage(principal: Principal, q: DetailQuery, limit: number, offset: number): Promise<DetailPage> {
    this.checkDivision(principal, q.division);
    const figure = this.figureOf(q.figure);
    const scope = this.scopeFor(figure, q);
    const { manager } = this.dataSource;
    const { total, rows } = await this.coverage.detailPage(manager, scope, figure, limit, offset);
    this.audit.concerns(rows.map((r) => r.personKey));
    return {
      division: q.division,
      figure: figureName(figure),
      asOf: 'asOf' in scope ? scope.asOf : null,
      from: 'from' in scope ? scope.from : null,
      to: 'to' in scope ? scope.to : null,
      total,
      limit,
      offset,
      items: rows.map((r) => this.item(r, scope)),
    };
  }

  /** Claims a detail export slot, or refuses with 503 before anything is sent. */
  acquire(): () => void {
    if (this.exporting >= MAX_CONCURRENT_DETAIL_EXPORTS) throw new DomainError('UNAVAILABLE', `${MAX_CONCURRENT_DETAIL_EXPORTS} detail exports are already running; retry later`);
    this.exporting += 1;
    let released = false;
    return () => {
      if (!released) this.exporting -= 1;
      released = true;
    };
  }

  /** Checks a detail export before anything is sent: the division, the figure, the times. */
  prepareDetails(principal: Principal, q: DetailQuery): { figure: Figure; scope: Scope | ChangeScope; title: string } {
    this.checkDivision(principal, q.division);
    const figure = this.figureOf(q.figure);
    return { figure, scope: this.scopeFor(figure, q), title: detailTitle(figure) };
  }

  /**
   * Streams the whole detail list behind a figure through a cursor in one REPEATABLE READ snapshot
   * (consistent, never all in memory), auditing each batch before it is written. Returns how many
   * people went out, and whether the reader went away first.
   */
  async exportDetails(
    principal: Principal,
    q: DetailQuery,
    prepared: { figure: Figure; scope: Scope | ChangeScope; title: string },
    format: ReportFormat,
    out: { sink: TextSink; stream: Writable },
  ): Promise<{ people: number; aborted: boolean }> {
    const { figure, scope, title } = prepared;
    const place = `${findDivision(q.division)?.name ?? ''}(${q.division})`;
    const when = 'asOf' in scope ? `统计时点:${beijingTime(scope.asOf ?? new Date().toISOString())}(北京时间)` : `统计期间:${beijingTime(scope.from)} 至 ${beijingTime(scope.to)}(北京时间)`;
    const meta = [`填报单位:${place}`, when, `指标:${figureName(figure)}`];
    const columns = detailColumns(figure);
    const writer: DetailWriter =
      format === 'csv' ? csvDetailWriter(out.sink, title, meta, columns) : format === 'ndjson' ? ndjsonDetailWriter(out.sink) : xlsxDetailWriter(out.stream, title, meta, columns);
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const result = { people: 0, aborted: false };
    try {
      await runner.startTransaction('REPEATABLE READ');
      await runner.query(`SET TRANSACTION READ ONLY`);
      // If this process ever stops fetching (a bug, a hang), PostgreSQL ends the transaction itself.
      await runner.query(`SELECT set_config('statement_timeout', $1, true), set_config('idle_in_transaction_session_timeout', $2, true)`, [
        `${this.stallMs * 2}ms`,
        `${this.stallMs * 2}ms`,
      ]);
      await this.coverage.openDetails(runner, scope, figure);
      for (;;) {
        const rows = await this.coverage.nextDetails(runner, figure);
        if (rows.length === 0) break;
        if (out.sink.closed()) {
          result.aborted = true;
          break;
        }
        // Disclosed (audited) before they are sent; a failed audit write stops the stream.
        await this.audit.disclose(rows.map((r) => r.personKey));
        const items = rows.map((r) => this.item(r, scope));
        await writer.write(items.map((item, i) => detailCells(item, result.people + i + 1, figure)), items);
        result.people += rows.length;
      }
      if (out.sink.closed()) result.aborted = true;
      await runner.commitTransaction();
    } catch (e) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw e;
    } finally {
      await runner.release();
    }
    if (!result.aborted) await writer.end();
    this.logger.log({ msg: 'statistics detail exported', division: q.division, figure: figureName(figure), format, people: result.people, aborted: result.aborted });
    return result;
  }

  /** The summary report of figures (`figures`) as CSV or XLSX, written to `stream`. */
  async writeReport(figures: CoverageStatistics, format: 'csv' | 'xlsx', stream: Writable): Promise<void> {
    const table = summaryTable(figures, figures.asOf, new Date().toISOString());
    if (format === 'csv') {
      await new Promise<void>((resolve, reject) => stream.write(summaryCsv(table), (e) => (e ? reject(e) : resolve())));
      return;
    }
    await writeSummaryXlsx(table, stream);
  }
}
