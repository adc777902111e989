import { Injectable } from '@nestjs/common';
import { INSURANCE_TYPES } from '@qmcb/contracts';
import type { CoverageReason, CoverageStatus, InsuranceType, NotInsuredReason, Outcome } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import { PersonKeyColumn, PersonRecordRepository } from '@qmcb/service-kit';
import type { EntityManager, QueryRunner } from 'typeorm';
import { TYPE_COLUMN } from './coverage-row';
import type { CoverageRow, TypeCoverage } from './coverage-row';
import { DUE_STATUSES, INSURED_STATUSES, REGISTERED_OUTCOMES } from './figures';
import { fromSignature, signatureOf } from './signature';
import type { ChangeDirection, CountRow, Figure } from './figures';

/** A statistics row and the time from which it holds. */
export interface CoverageVersion {
  row: CoverageRow;
  /** ISO 8601. */
  validFrom: string;
}

/** One person of a detail list, as the statistics rows hold them (and their name now). */
export interface DetailRow {
  personKey: string;
  /** The citizen ID as last sent (for a person keyed by a surrogate: the invalid ID itself). */
  citizenId: string | null;
  name: string | null;
  village: string | null;
  birthDate: string | null;
  outcome: Outcome | 'none';
  surveyedReason: NotInsuredReason | null;
  coverage: Record<InsuranceType, TypeCoverage>;
  /** For changes between two times: the type's status at the first. */
  statusBefore: CoverageStatus | null;
}

export interface Scope {
  /** Division code (6, 9 or 12 digits): the household villages counted start with it. */
  division: string;
  /** ISO time the figures are asked as of; null: as they stand. */
  asOf: string | null;
  /** YYYY-MM-DD: born on or before it is at or over the region's pensionAgeCheck on the date asked. */
  agedBornBy: string;
}

export interface ChangeScope {
  division: string;
  from: string;
  to: string;
}

/** Rows fetched from a detail cursor at a time: what is in memory at once. */
export const DETAIL_FETCH_SIZE = 1000;

const TYPE_COLUMNS = INSURANCE_TYPES.flatMap((t) => [`${TYPE_COLUMN[t]}_status`, `${TYPE_COLUMN[t]}_reason`, `${TYPE_COLUMN[t]}_regions`]);
const COLUMNS = ['person_key', 'valid_from', 'village', 'division', 'in_population', 'birth_date', 'outcome', 'surveyed_reason', 'sig', ...TYPE_COLUMNS];
const COLUMN_LIST = COLUMNS.join(', ');
const RECORDSET = COLUMNS.map((c) => `${c} ${c === 'valid_from' ? 'timestamptz' : c === 'in_population' ? 'boolean' : c === 'birth_date' ? 'date' : c === 'sig' ? 'integer' : 'text'}`).join(', ');

type Plain = Record<string, unknown>;

/** A version as a row of the tables; `stored`: the person key as `person_key` holds it. */
function plain(version: CoverageVersion, stored: (personKey: string) => string): Plain {
  const { row } = version;
  const out: Plain = {
    person_key: stored(row.personKey),
    valid_from: version.validFrom,
    village: row.village,
    division: row.division,
    in_population: row.inPopulation,
    birth_date: row.birthDate,
    outcome: row.outcome,
    surveyed_reason: row.surveyedReason,
    sig: signatureOf({ outcome: row.outcome, surveyedReason: row.surveyedReason, statuses: row.coverage }),
  };
  for (const t of INSURANCE_TYPES) {
    const c = row.coverage[t];
    out[`${TYPE_COLUMN[t]}_status`] = c.status;
    out[`${TYPE_COLUMN[t]}_reason`] = c.reason;
    out[`${TYPE_COLUMN[t]}_regions`] = c.regions;
  }
  return out;
}

const isoOf = (v: unknown): string => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());
const dateOf = (v: unknown): string | null => {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return `${v.getFullYear()}-${String(v.getMonth() + 1).padStart(2, '0')}-${String(v.getDate()).padStart(2, '0')}`;
  return String(v).slice(0, 10);
};

function coverageOf(r: Plain): Record<InsuranceType, TypeCoverage> {
  const out = {} as Record<InsuranceType, TypeCoverage>;
  for (const t of INSURANCE_TYPES) {
    out[t] = {
      status: (r[`${TYPE_COLUMN[t]}_status`] as CoverageStatus | null) ?? null,
      reason: (r[`${TYPE_COLUMN[t]}_reason`] as CoverageReason | null) ?? null,
      regions: (r[`${TYPE_COLUMN[t]}_regions`] as string | null) ?? null,
    };
  }
  return out;
}

/** A row read back; `key`: the person key of the stored `person_key`. */
function versionOf(r: Plain, key: (stored: string) => string): CoverageVersion {
  return {
    validFrom: isoOf(r['valid_from']),
    row: {
      personKey: key(String(r['person_key'])),
      village: (r['village'] as string | null) ?? null,
      division: (r['division'] as string | null) ?? null,
      inPopulation: r['in_population'] === true,
      birthDate: dateOf(r['birth_date']),
      outcome: r['outcome'] as Outcome | 'none',
      surveyedReason: (r['surveyed_reason'] as NotInsuredReason | null) ?? null,
      coverage: coverageOf(r),
    },
  };
}

/**
 * Settings for counting a county in one pass (bench/README.md, statistics): memory enough to hash the
 * groups rather than sort them on disk (the planner underestimates how few signatures there are), and
 * no JIT (compiling the expressions costs a hundred milliseconds a query, more than it saves here).
 */
const COUNTING = [`SET LOCAL work_mem = '64MB'`, `SET LOCAL jit = off`];

/** Runs `fn` in a read-only transaction with the counting settings (in the caller's when it has one). */
async function counting<T>(manager: EntityManager, fn: (m: EntityManager) => Promise<T>): Promise<T> {
  const run = async (m: EntityManager): Promise<T> => {
    for (const s of COUNTING) await m.query(s);
    return fn(m);
  };
  if (manager.queryRunner?.isTransactionActive) return run(manager);
  return manager.transaction('READ COMMITTED', async (m) => {
    await m.query('SET TRANSACTION READ ONLY');
    return run(m);
  });
}

/** SQL text and its parameters, built up together. */
class Sql {
  readonly params: unknown[] = [];
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}

/** The statistics rows valid at `asOf` (null: now): the current ones, or the versions that held then. */
function rowsAt(sql: Sql, asOf: string | null): string {
  if (asOf === null) return `(SELECT ${COLUMN_LIST} FROM coverage_current)`;
  const at = sql.param(asOf);
  return `(SELECT ${COLUMN_LIST} FROM coverage_current WHERE valid_from <= ${at}::timestamptz
           UNION ALL
           SELECT ${COLUMN_LIST} FROM coverage_history WHERE valid_from <= ${at}::timestamptz AND valid_to > ${at}::timestamptz)`;
}

const inList = (values: readonly string[]): string => `(${values.map((v) => `'${v}'`).join(', ')})`;

/** The condition of a figure on a row `s` (change figures have their own query). */
function figureCondition(sql: Sql, figure: Exclude<Figure, { kind: 'change' }>, agedBornBy: string): string {
  switch (figure.kind) {
    case 'population':
      return 'true';
    case 'registered':
      return `s.outcome IN ${inList(REGISTERED_OUTCOMES)}`;
    case 'not-registered':
      return `s.outcome NOT IN ${inList(REGISTERED_OUTCOMES)}`;
    case 'aged-without-pension':
      return `s.pension_status = 'not-insured' AND s.birth_date <= ${sql.param(agedBornBy)}::date`;
    case 'surveyed': {
      const column = `s.${TYPE_COLUMN[figure.type]}`;
      const reason = figure.reason === 'not-surveyed' ? 's.surveyed_reason IS NULL' : `s.surveyed_reason = ${sql.param(figure.reason)}`;
      return `${column}_status = 'not-insured' AND ${reason}`;
    }
    case 'type': {
      const column = `s.${TYPE_COLUMN[figure.type]}`;
      const status =
        figure.status === 'due' ? `${column}_status IN ${inList(DUE_STATUSES)}` : figure.status === 'insured' ? `${column}_status IN ${inList(INSURED_STATUSES)}` : `${column}_status = ${sql.param(figure.status)}`;
      return figure.reason === null ? status : `${status} AND ${column}_reason = ${sql.param(figure.reason)}`;
    }
  }
}

function changeCondition(type: InsuranceType, direction: ChangeDirection): string {
  const c = TYPE_COLUMN[type];
  return direction === 'newly-covered'
    ? `b.${c}_before = 'not-insured' AND s.${c}_status IN ${inList(INSURED_STATUSES)}`
    : `b.${c}_before IN ${inList(INSURED_STATUSES)} AND s.${c}_status = 'not-insured'`;
}

/**
 * People whose row changed between `from` and `to`, with their row at `to` (`s`) and what held at
 * `from` (`b.sig_before`, `b.<type>_before`): the versions valid at `from` that ended by `to`, joined
 * (a hash join, not a lookup per person) to the rows valid at `to`. Both times in the population.
 */
function changedBetween(sql: Sql, scope: ChangeScope): { from: string; where: string } {
  const from = sql.param(scope.from);
  const to = sql.param(scope.to);
  const before = INSURANCE_TYPES.map((t) => `h.${TYPE_COLUMN[t]}_status AS ${TYPE_COLUMN[t]}_before`).join(', ');
  const prefix = sql.param(`${scope.division}%`);
  return {
    from: `(SELECT h.person_key, h.sig AS sig_before, ${before} FROM coverage_history h
             WHERE h.valid_from <= ${from}::timestamptz AND h.valid_to > ${from}::timestamptz AND h.valid_to <= ${to}::timestamptz AND h.in_population) b
           JOIN (SELECT ${COLUMN_LIST} FROM coverage_current WHERE valid_from <= ${to}::timestamptz
                 UNION ALL
                 SELECT ${COLUMN_LIST} FROM coverage_history WHERE valid_from <= ${to}::timestamptz AND valid_to > ${to}::timestamptz) s
             ON s.person_key = b.person_key`,
    where: `s.in_population AND s.village LIKE ${prefix}`,
  };
}

const ROW_COLUMNS = `s.person_key, s.village, s.birth_date, s.outcome, s.surveyed_reason, ${TYPE_COLUMNS.map((c) => `s.${c}`).join(', ')}`;
// The person's record is sealed (ADR 0011): its row is read with the page and opened in Node for the ID and the name.
const DETAIL_COLUMNS = `${ROW_COLUMNS}, p.person_key AS p_key, p.record AS p_record, p.sealed AS p_sealed`;

/** A detail row; `personKey`: of the row's stored `person_key`; `records`: by person key. */
function detailOf(r: Plain, personKey: string, records: Map<string, RegistrationRecord>, statusBefore: CoverageStatus | null = null): DetailRow {
  const record = records.get(personKey);
  return {
    personKey,
    citizenId: record?.citizenId ?? null,
    name: record?.name ?? null,
    village: (r['village'] as string | null) ?? null,
    birthDate: dateOf(r['birth_date']),
    outcome: r['outcome'] as Outcome | 'none',
    surveyedReason: (r['surveyed_reason'] as NotInsuredReason | null) ?? null,
    coverage: coverageOf(r),
    statusBefore,
  };
}

/**
 * All SQL of `coverage_current` and `coverage_history` (migration CoverageStatistics1700000010200):
 * the projection's writes, and the statistics' counts and detail lists. `person_key` holds the
 * person ID (ADR 0011 stage 5, `PersonKeyColumn`): converted here both ways; what this takes and
 * returns is in person keys, and detail lists are in stored key order (the `personId` they show).
 */
@Injectable()
export class CoverageRepository {
  private readonly keys: PersonKeyColumn;

  constructor(private readonly records: PersonRecordRepository) {
    this.keys = records.keys;
  }

  private readonly stored = (personKey: string): string => this.keys.stored(personKey);
  private readonly key = (stored: string): string => this.keys.key(stored);

  private detail(r: Plain, records: Map<string, RegistrationRecord>, figure: Figure): DetailRow {
    return detailOf(r, this.key(String(r['person_key'])), records, figure.kind === 'change' ? ((r['status_before'] as CoverageStatus | null) ?? null) : null);
  }

  /** The records of a page's people (their `person_record` row read beside them), opened. */
  private recordsOf(rows: Plain[]): Promise<Map<string, RegistrationRecord>> {
    return this.records.open(
      rows.filter((r) => r['p_key'] !== null && r['p_key'] !== undefined).map((r) => ({ person_key: String(r['p_key']), record: r['p_record'], sealed: (r['p_sealed'] as Buffer | null) ?? null })),
    );
  }
  async current(manager: EntityManager, personKeys: readonly string[]): Promise<Map<string, CoverageVersion>> {
    const out = new Map<string, CoverageVersion>();
    if (personKeys.length === 0) return out;
    const rows: Plain[] = await manager.query(`SELECT ${COLUMN_LIST} FROM coverage_current WHERE person_key = ANY($1::text[])`, [this.keys.storedAll(personKeys)]);
    for (const r of rows) {
      const version = versionOf(r, this.key);
      out.set(version.row.personKey, version);
    }
    return out;
  }

  async insertHistory(manager: EntityManager, versions: readonly (CoverageVersion & { validTo: string })[]): Promise<void> {
    if (versions.length === 0) return;
    await manager.query(
      `INSERT INTO coverage_history (${COLUMN_LIST}, valid_to)
       SELECT ${COLUMN_LIST}, valid_to FROM jsonb_to_recordset($1::jsonb) AS r(${RECORDSET}, valid_to timestamptz)`,
      [JSON.stringify(versions.map((v) => ({ ...plain(v, this.stored), valid_to: v.validTo })))],
    );
  }

  async saveCurrent(manager: EntityManager, versions: readonly CoverageVersion[], gone: readonly string[]): Promise<void> {
    if (gone.length > 0) await manager.query(`DELETE FROM coverage_current WHERE person_key = ANY($1::text[])`, [this.keys.storedAll(gone)]);
    if (versions.length === 0) return;
    const updates = COLUMNS.filter((c) => c !== 'person_key').map((c) => `${c} = EXCLUDED.${c}`).join(', ');
    await manager.query(
      `INSERT INTO coverage_current (${COLUMN_LIST})
       SELECT ${COLUMN_LIST} FROM jsonb_to_recordset($1::jsonb) AS r(${RECORDSET})
       ON CONFLICT (person_key) DO UPDATE SET ${updates}`,
      [JSON.stringify(versions.map((v) => plain(v, this.stored)))],
    );
  }

  /**
   * The population of a division as of a time, counted by area (the first `areaLength` digits of
   * the household village), outcome, status and reason per type and age band: one pass.
   */
  async counts(manager: EntityManager, scope: Scope, areaLength: number): Promise<CountRow[]> {
    const sql = new Sql();
    const from = rowsAt(sql, scope.asOf);
    const prefix = sql.param(`${scope.division}%`);
    const aged = sql.param(scope.agedBornBy);
    // One small integer per person holds everything counted but place and age (signature.ts).
    const rows: { area: string; sig: number; aged: boolean; n: number }[] = await counting(manager, (m) => m.query(
      `SELECT left(s.village, ${Number(areaLength)}) AS area, s.sig, coalesce(s.birth_date <= ${aged}::date, false) AS aged, count(*)::int AS n
         FROM ${from} s
        WHERE s.in_population AND s.village LIKE ${prefix}
        GROUP BY 1, 2, 3`,
      sql.params,
    ));
    return rows.map((r) => ({ area: String(r.area), aged: r.aged === true, n: Number(r.n), ...fromSignature(Number(r.sig)) }));
  }

  /** The counties with people of the population now (for the gauges). */
  async counties(manager: EntityManager): Promise<string[]> {
    // A loose index scan on the village index (pattern operators: byte order whatever the collation): one probe per county.
    const rows: { county: string }[] = await manager.query(
      `WITH RECURSIVE c(county) AS (
         (SELECT left(village, 6) FROM coverage_current WHERE in_population AND village LIKE '%' ORDER BY village USING ~<~ LIMIT 1)
         UNION ALL
         SELECT (SELECT left(village, 6) FROM coverage_current WHERE in_population AND village ~>=~ (c.county || 'a') ORDER BY village USING ~<~ LIMIT 1)
           FROM c WHERE c.county IS NOT NULL
       )
       SELECT county FROM c WHERE county IS NOT NULL`,
    );
    return rows.map((r) => r.county);
  }

  /** People newly covered and newly uncovered per type between two times, by area. */
  async changeCounts(manager: EntityManager, scope: ChangeScope, areaLength: number): Promise<{ area: string; type: InsuranceType; direction: ChangeDirection; n: number }[]> {
    const sql = new Sql();
    const { from, where } = changedBetween(sql, scope);
    const rows: { area: string; before: number; after: number; n: number }[] = await counting(manager, (m) =>
      m.query(`SELECT left(s.village, ${Number(areaLength)}) AS area, b.sig_before AS before, s.sig AS after, count(*)::int AS n FROM ${from} WHERE ${where} GROUP BY 1, 2, 3`, sql.params),
    );
    const insured = (status: CoverageStatus | null): boolean => status !== null && (INSURED_STATUSES as readonly string[]).includes(status);
    const out: { area: string; type: InsuranceType; direction: ChangeDirection; n: number }[] = [];
    for (const r of rows) {
      const was = fromSignature(Number(r.before)).statuses;
      const is = fromSignature(Number(r.after)).statuses;
      for (const type of INSURANCE_TYPES) {
        if (was[type].status === 'not-insured' && insured(is[type].status)) out.push({ area: String(r.area), type, direction: 'newly-covered', n: Number(r.n) });
        if (insured(was[type].status) && is[type].status === 'not-insured') out.push({ area: String(r.area), type, direction: 'newly-uncovered', n: Number(r.n) });
      }
    }
    return out;
  }

  /** How many people a figure counts (the denominator of its detail list). */
  async detailTotal(manager: EntityManager, scope: Scope | ChangeScope, figure: Figure): Promise<number> {
    const { text, params } = this.detailQuery(scope, figure, 'count');
    const rows: { n: number }[] = await counting(manager, (m) => m.query(text, params));
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * One page of a figure's detail list, ordered by stored person key (person ID), and how many the figure counts (in
   * the same pass: a window count; a page past the end counts again). Names and IDs are read for the
   * page's people only.
   */
  async detailPage(manager: EntityManager, scope: Scope | ChangeScope, figure: Figure, limit: number, offset: number): Promise<{ total: number; rows: DetailRow[] }> {
    const { text, params } = this.detailQuery(scope, figure, 'page');
    const rows: Plain[] = await counting(manager, (m) =>
      m.query(
        `WITH page AS (${text} ORDER BY s.person_key LIMIT ${Number(limit)} OFFSET ${Number(offset)})
         SELECT page.*, p.person_key AS p_key, p.record AS p_record, p.sealed AS p_sealed
           FROM page LEFT JOIN person_record p ON p.person_key = page.person_key
          ORDER BY page.person_key`,
        params,
      ),
    );
    const total = rows.length > 0 ? Number(rows[0]?.['total']) : await this.detailTotal(manager, scope, figure);
    const records = await this.recordsOf(rows);
    return { total, rows: rows.map((r) => this.detail(r, records, figure)) };
  }

  /** Opens a cursor over a whole detail list in the runner's transaction (ordered by stored person key: person ID). */
  async openDetails(runner: QueryRunner, scope: Scope | ChangeScope, figure: Figure): Promise<void> {
    const { text, params } = this.detailQuery(scope, figure, 'rows');
    for (const s of COUNTING) await runner.query(s);
    await runner.query(`DECLARE coverage_details NO SCROLL CURSOR FOR ${text} ORDER BY s.person_key`, params);
  }

  async nextDetails(runner: QueryRunner, figure: Figure): Promise<DetailRow[]> {
    const rows: Plain[] = await runner.query(`FETCH ${DETAIL_FETCH_SIZE} FROM coverage_details`);
    const records = await this.recordsOf(rows);
    return rows.map((r) => this.detail(r, records, figure));
  }

  /** `count`: how many; `rows`: every row with name and ID (the cursor); `page`: the rows without them, with a window count. */
  private detailQuery(scope: Scope | ChangeScope, figure: Figure, what: 'count' | 'rows' | 'page'): { text: string; params: unknown[] } {
    const sql = new Sql();
    const columns = what === 'rows' ? DETAIL_COLUMNS : `${ROW_COLUMNS}, count(*) OVER ()::int AS total`;
    const join = what === 'rows' ? 'LEFT JOIN person_record p ON p.person_key = s.person_key' : '';
    if (figure.kind === 'change') {
      const change = scope as ChangeScope;
      const { from, where } = changedBetween(sql, change);
      const condition = changeCondition(figure.type, figure.direction);
      const select = what === 'count' ? 'count(*)::int AS n' : `${columns}, b.${TYPE_COLUMN[figure.type]}_before AS status_before`;
      return { text: `SELECT ${select} FROM ${from} ${what === 'count' ? '' : join} WHERE ${where} AND ${condition}`, params: sql.params };
    }
    const at = scope as Scope;
    const from = rowsAt(sql, at.asOf);
    const prefix = sql.param(`${at.division}%`);
    const condition = figureCondition(sql, figure, at.agedBornBy);
    const select = what === 'count' ? 'count(*)::int AS n' : columns;
    return { text: `SELECT ${select} FROM ${from} s ${what === 'count' ? '' : join} WHERE s.in_population AND s.village LIKE ${prefix} AND ${condition}`, params: sql.params };
  }
}
