/**
 * Statistics at scale (issue 10, item 4): every figure of a county of BENCH_PEOPLE people (default
 * 1,000,000) as the comparison service answers it over HTTP, beside the floor PostgreSQL itself sets
 * on the same table. The service runs as its own process on a fresh database (its migrations make the
 * tables); the statistics rows (coverage_current, coverage_history) and a minimal person_record per
 * person (name and citizen ID: what the detail lists read) are then written straight in by SQL, with
 * the shares of the 高州/滕州 plans and three versions for most people (household only, first
 * decision, a later change for 30%) so past dates and changes have history to read. Each figure is
 * asked BENCH_RUNS times after a warm-up, median kept. Not part of the test run:
 * `npm run bench:statistics` (bench/README.md); the machine is shared, so read the numbers beside the
 * baseline of the same run.
 */
import { mintToken } from '@qmcb/auth';
import { villagesOf, childrenOf } from '@qmcb/domain';
import { TEST_RATE_LIMITS, createTestDatabase, createTestTopic, deleteTestTopic, startService } from '@qmcb/testing';
import { randomBytes } from 'crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Client } from 'pg';
import { useRunSecrets } from './support';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const COUNTY = process.env.BENCH_COUNTY ?? '440981';
const RESULTS = join(__dirname, 'results');
const PORT = Number(process.env.BENCH_PORT ?? 3312);
const JWT_SECRET = randomBytes(32).toString('base64url');
/** The target of issue 10: every figure of a county of a million in under a second. */
const TARGET_MS = 1000;

// Three times on the registry's clock: the household records, the first decisions, later changes.
const T0 = '2026-09-01T00:00:00Z';
const T1 = '2026-10-01T00:00:00Z';
const T2 = '2026-11-01T00:00:00Z';
const BETWEEN = '2026-10-15T00:00:00Z';

interface Measure {
  label: string;
  rows: number | null;
  ms: number;
  note?: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, value };
}

async function measure<T>(label: string, fn: () => Promise<T>, rowsOf: (v: T) => number | null, note?: string): Promise<Measure> {
  await fn(); // warm: plans and pages in cache, as a dashboard asking every minute finds them
  const times: number[] = [];
  let rows: number | null = null;
  for (let i = 0; i < RUNS; i += 1) {
    const { ms, value } = await timed(fn);
    times.push(ms);
    rows = rowsOf(value);
  }
  const m: Measure = { label, rows, ms: median(times), ...(note ? { note } : {}) };
  process.stdout.write(`  ${label}: ${m.ms.toFixed(1)} ms\n`);
  return m;
}

/**
 * The county as statistics rows, by SQL (a few seconds per million): people spread over the real
 * villages; per type a status drawn with the plans' shares (pension: 6% never enrolled, 2% lapsed,
 * 4% elsewhere, students 4% and military/prisoners outside; medical 97% insured; the employment types
 * due for 30% employed), ages 0-95.
 */
const FILL = `
  WITH p AS (
    SELECT g AS i, (hashint4(g) & 2147483647)::float / 2147483647 AS r1, (hashint4(g + 7777777) & 2147483647)::float / 2147483647 AS r2,
           (hashint4(g + 3333333) & 2147483647)::float / 2147483647 AS r3
      FROM generate_series(1, $1::int) g
  ), v AS (SELECT array_agg(code ORDER BY code) AS codes FROM unnest($2::text[]) code)
  SELECT p.i,
         lpad(p.i::text, 11, '0') AS seq,
         v.codes[1 + (p.i % array_length(v.codes, 1))] AS village,
         (date '2026-11-01' - ((p.r1 * 95 * 365.25)::int)) AS birth,
         p.r2, p.r3
    FROM p, v`;

const STATUS_SQL = (r: string, employed: string, young: string) => ({
  pension: `CASE WHEN ${young} THEN 'not-due' WHEN ${r} < 0.04 THEN 'exempt' WHEN ${r} < 0.10 THEN 'not-insured' WHEN ${r} < 0.12 THEN 'not-insured' WHEN ${r} < 0.16 THEN 'insured-elsewhere' ELSE 'insured-here' END`,
  pensionReason: `CASE WHEN ${young} THEN 'UNDER_AGE' WHEN ${r} < 0.035 THEN 'STUDENT' WHEN ${r} < 0.04 THEN 'MILITARY' WHEN ${r} < 0.10 THEN 'NEVER_ENROLLED' WHEN ${r} < 0.12 THEN 'LAPSED' ELSE NULL END`,
  medical: `CASE WHEN ${r} > 0.995 THEN 'exempt' WHEN ${r} > 0.97 THEN 'not-insured' WHEN ${r} > 0.93 THEN 'insured-elsewhere' ELSE 'insured-here' END`,
  medicalReason: `CASE WHEN ${r} > 0.995 THEN 'MILITARY' WHEN ${r} > 0.985 THEN 'LAPSED' WHEN ${r} > 0.97 THEN 'NEVER_ENROLLED' ELSE NULL END`,
  other: `CASE WHEN NOT ${employed} THEN 'not-due' WHEN ${r} < 0.1 THEN 'not-insured' ELSE 'insured-here' END`,
  otherReason: `CASE WHEN NOT ${employed} THEN 'NOT_EMPLOYED' WHEN ${r} < 0.1 THEN 'NEVER_ENROLLED' ELSE NULL END`,
});

/**
 * services/comparison/src/statistics/signature.ts restated (a benchmark may not import a service):
 * the codes of (status, reason); the bench checks the service's figures against counts of the text
 * columns, so a drift shows.
 */
const STATUS_CODES: readonly (readonly [string | null, string | null])[] = [
  [null, null],
  ['insured-here', null],
  ['insured-elsewhere', null],
  ['not-insured', 'NEVER_ENROLLED'],
  ['not-insured', 'LAPSED'],
  ['not-due', 'UNDER_AGE'],
  ['not-due', 'NOT_EMPLOYED'],
  ['not-due', 'NOT_ASSESSED'],
  ['exempt', 'DECEASED'],
  ['exempt', 'MOVED_OUT'],
  ['exempt', 'MILITARY'],
  ['exempt', 'PRISONER'],
  ['exempt', 'STUDENT'],
  ['exempt', 'LINKED'],
];

/** The signature of the text columns, in SQL: what the projection computes in TypeScript. */
function signatureSql(): string {
  const types = ['pension', 'medical', 'unemployment', 'work_injury', 'maternity'];
  const code = (t: string): string =>
    `(CASE ${STATUS_CODES.map(([s, r], i) => (s === null ? '' : `WHEN ${t}_status = '${s}' AND ${r === null ? `${t}_reason IS NULL` : `${t}_reason = '${r}'`} THEN ${i}`)).join(' ')} ELSE 0 END)`;
  const outcome = `(CASE outcome WHEN 'registered' THEN 1 WHEN 'duplicate' THEN 2 WHEN 'needs-survey' THEN 3 WHEN 'exempt' THEN 4 ELSE 0 END)`;
  const surveyed = `(CASE surveyed_reason WHEN 'cannot-afford' THEN 2 ELSE 0 END)`;
  return `${outcome} | (${surveyed} << 3) | ${types.map((t, i) => `(${code(t)} << ${7 + 4 * i})`).join(' | ')}`;
}

function rowsSql(table: 'coverage_current' | 'coverage_history', version: 'household' | 'first' | 'now'): string {
  const s = STATUS_SQL('f.r2', 'f.r3 < 0.3', `f.birth > date '2010-11-01'`);
  const decided = version !== 'household';
  // The later change: 30% of people; half of them newly covered in pension, half lost medical.
  const changed = `f.r3 >= 0.7`;
  const pension = version === 'first' ? `CASE WHEN ${changed} AND f.r3 < 0.85 THEN 'not-insured' ELSE ${s.pension} END` : s.pension;
  const pensionReason = version === 'first' ? `CASE WHEN ${changed} AND f.r3 < 0.85 THEN 'NEVER_ENROLLED' ELSE ${s.pensionReason} END` : s.pensionReason;
  const medical = version === 'first' ? `CASE WHEN ${changed} AND f.r3 >= 0.85 THEN 'insured-here' ELSE ${s.medical} END` : s.medical;
  const medicalReason = version === 'first' ? `CASE WHEN ${changed} AND f.r3 >= 0.85 THEN NULL ELSE ${s.medicalReason} END` : s.medicalReason;
  const cols = (v: string, r: string): string => (decided ? `${v}, ${r}, CASE WHEN ${v} LIKE 'insured%' THEN '${COUNTY}' END` : 'NULL, NULL, NULL');
  const validFrom = version === 'household' ? `'${T0}'` : version === 'first' ? `'${T1}'` : `CASE WHEN ${changed} THEN '${T2}'::timestamptz ELSE '${T1}'::timestamptz END`;
  const validTo = version === 'household' ? `, '${T1}'::timestamptz` : version === 'first' ? `, '${T2}'::timestamptz` : '';
  const where = version === 'first' ? `WHERE ${changed}` : '';
  const outcome = decided ? `CASE WHEN f.r2 < 0.04 THEN 'exempt' WHEN f.r2 < 0.2 THEN 'needs-survey' ELSE 'registered' END` : `'none'`;
  return `INSERT INTO ${table} (person_key, valid_from, village, division, in_population, birth_date, outcome, surveyed_reason,
            pension_status, pension_reason, pension_regions, medical_status, medical_reason, medical_regions,
            unemployment_status, unemployment_reason, unemployment_regions, work_injury_status, work_injury_reason, work_injury_regions,
            maternity_status, maternity_reason, maternity_regions, sig${validTo ? ', valid_to' : ''})
          SELECT '${COUNTY}' || f.seq || '0', ${validFrom}::timestamptz, f.village, f.village, true, f.birth, ${outcome},
                 ${decided ? `CASE WHEN ${s.pension} = 'not-insured' AND f.r3 < 0.5 THEN 'cannot-afford' END` : 'NULL'},
                 ${cols(pension, pensionReason)}, ${cols(medical, medicalReason)},
                 ${cols(s.other, s.otherReason)}, ${cols(s.other, s.otherReason)}, ${cols(s.other, s.otherReason)}, 0${validTo}
            FROM (${FILL}) f ${where}`;
}


async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'qmcb-stats-bench-'));
  const policies = join(dir, 'region-policies.json');
  writeFileSync(policies, JSON.stringify({ regions: { [COUNTY]: { coverageTargets: { medical: 0.97, pension: 0.9 } } } }));
  mkdirSync(join(RESULTS, 'logs'), { recursive: true });
  process.stdout.write(`statistics bench: ${PEOPLE.toLocaleString('en')} people of ${COUNTY}, ${RUNS} runs per figure (median), over HTTP\n`);
  const topic = await createTestTopic(1);
  const db = await createTestDatabase();
  const service = await startService('comparison', {
    port: PORT,
    logDir: join(RESULTS, 'logs'),
    logName: 'statistics',
    env: {
      DATABASE_URL: db.url,
      LOG_TOPIC: topic,
      CONSUMER_GROUP: `comparison-statistics-bench-${topic.slice(-8)}`,
      LOG_LEVEL: 'warn',
      // A benchmark measures throughput, not the per-caller budgets.
      RATE_LIMITS: process.env.RATE_LIMITS ?? TEST_RATE_LIMITS,
      AUTH_JWT_SECRET: JWT_SECRET,
      REGION_POLICIES_FILE: policies,
      COVERAGE_GAUGES_INTERVAL_MS: '0',
      COMPARISON_GAUGES_INTERVAL_MS: '0',
    },
  });
  const sql = new Client({ connectionString: db.url, options: '-c search_path=comparison' });
  await sql.connect();
  try {
    const villages = villagesOf(COUNTY).map((v) => v.code);
    const fill = await timed(async () => {
      for (const [table, version] of [['coverage_history', 'household'], ['coverage_history', 'first'], ['coverage_current', 'now']] as const) {
        await sql.query(rowsSql(table, version), [PEOPLE, villages]);
      }
      for (const table of ['coverage_current', 'coverage_history']) await sql.query(`UPDATE ${table} SET sig = ${signatureSql()}`);
      await sql.query(
        `INSERT INTO person_record (person_key, record, version, division)
         SELECT '${COUNTY}' || f.seq || '0', jsonb_build_object('name', '张' || (f.i % 1000), 'citizenId', '${COUNTY}' || f.seq || '0'), 1, f.village FROM (${FILL}) f`,
        [PEOPLE, villages],
      );
      for (const table of ['coverage_current', 'coverage_history', 'person_record']) await sql.query(`VACUUM ANALYZE ${table}`);
    });
    const { rows: [counts] } = await sql.query<{ current: number; history: number }>(`SELECT (SELECT count(*) FROM coverage_current)::int AS current, (SELECT count(*) FROM coverage_history)::int AS history`);
    const { current, history } = counts as { current: number; history: number };
    process.stdout.write(`  written: ${current.toLocaleString('en')} current rows, ${history.toLocaleString('en')} history rows, ${PEOPLE.toLocaleString('en')} person records in ${(fill.ms / 1000).toFixed(1)} s\n`);

    const token = mintToken({ sub: 'bench', name: 'bench', role: 'analyst', division: COUNTY, ttlSeconds: 7200 }, JWT_SECRET);
    const headers = { authorization: `Bearer ${token}` };
    const base = `http://127.0.0.1:${PORT}`;
    const json = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${base}${path}`, { headers });
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const bytes = async (path: string): Promise<{ size: number; firstMs: number }> => {
      const started = Date.now();
      const res = await fetch(`${base}${path}`, { headers });
      if (res.status !== 200 || !res.body) throw new Error(`${path}: ${res.status}`);
      let size = 0;
      let firstMs = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        if (firstMs === 0) firstMs = Date.now() - started;
        size += chunk.length;
      }
      return { size, firstMs };
    };

    interface Figures { total: { population: number; types: Record<string, { due: number; insuredHere: number; notInsured: number }> } }
    // The service counts what the text columns say (the restated signature agrees with the service's).
    const check = await json<Figures>(`/statistics/coverage?division=${COUNTY}`);
    const { rows: direct } = await sql.query<{ here: number; not: number }>(
      `SELECT count(*) FILTER (WHERE pension_status = 'insured-here')::int AS here, count(*) FILTER (WHERE pension_status = 'not-insured')::int AS not FROM coverage_current WHERE in_population`,
    );
    if (check.total.population !== current || check.total.types['pension']?.insuredHere !== direct[0]?.here || check.total.types['pension']?.notInsured !== direct[0]?.not) {
      throw new Error(`the service's figures disagree with the rows: ${JSON.stringify(check.total.types['pension'])} vs ${JSON.stringify(direct[0])}`);
    }

    const township = (childrenOf(COUNTY)[0] as { code: string }).code;
    const village = (childrenOf(township)[0] as { code: string }).code;
    const prefix = `${COUNTY}%`;
    const results: Measure[] = [];
    const q = encodeURIComponent;

    // The floor: PostgreSQL alone walking the rows a county figure needs.
    results.push(await measure('baseline: count(*) of the county (seq scan)', () => sql.query(`SELECT count(*) FROM coverage_current WHERE in_population AND village LIKE $1`, [prefix]), () => current));
    results.push(await measure('baseline: one GROUP BY (pension status)', () => sql.query(`SELECT pension_status, count(*) FROM coverage_current WHERE in_population AND village LIKE $1 GROUP BY 1`, [prefix]), () => current));
    results.push(await measure('county: every figure, by township, now', () => json<Figures>(`/statistics/coverage?division=${COUNTY}`), (s) => s.total.population));
    results.push(await measure('county: every figure, as of a past date', () => json<Figures>(`/statistics/coverage?division=${COUNTY}&asOf=${q(BETWEEN)}`), (s) => s.total.population));
    results.push(await measure('county: every figure, before any decision', () => json<Figures>(`/statistics/coverage?division=${COUNTY}&asOf=${q('2026-09-15T00:00:00Z')}`), (s) => s.total.population));
    results.push(await measure('township: every figure, by village, now', () => json<Figures>(`/statistics/coverage?division=${township}`), (s) => s.total.population));
    results.push(await measure('village: every figure, now', () => json<Figures>(`/statistics/coverage?division=${village}`), (s) => s.total.population));
    interface Changes { total: Record<string, Record<string, number>> }
    results.push(await measure('county: newly covered / uncovered since a date', () => json<Changes>(`/statistics/changes?division=${COUNTY}&from=${q(BETWEEN)}`), (c) => (c.total['pension']?.['newly-covered'] ?? 0) + (c.total['medical']?.['newly-uncovered'] ?? 0)));
    interface Page { total: number }
    results.push(await measure('detail page 1 (50) of county pension:not-insured', () => json<Page>(`/statistics/details?division=${COUNTY}&figure=pension:not-insured`), (p) => p.total));
    results.push(await measure('detail page at offset 50,000 of county pension:due', () => json<Page>(`/statistics/details?division=${COUNTY}&figure=pension:due&offset=50000`), (p) => p.total));
    results.push(await measure('detail page 1 of county medical:not-insured, past date', () => json<Page>(`/statistics/details?division=${COUNTY}&figure=medical:not-insured&asOf=${q(BETWEEN)}`), (p) => p.total));
    results.push(await measure('detail page 1 of county pension:newly-covered', () => json<Page>(`/statistics/details?division=${COUNTY}&figure=pension:newly-covered&from=${q(BETWEEN)}`), (p) => p.total));
    results.push(await measure('detail page 1 of a township pension:not-insured', () => json<Page>(`/statistics/details?division=${township}&figure=pension:not-insured`), (p) => p.total));
    let first = 0;
    const csv = await measure('stream county pension:not-insured, CSV (whole list)', async () => {
      const r = await bytes(`/statistics/details/export?division=${COUNTY}&figure=pension:not-insured&format=csv`);
      first = r.firstMs;
      return r;
    }, () => null);
    results.push({ ...csv, note: `first bytes after ${first} ms` });
    const xlsx = await measure('stream county pension:not-insured, XLSX (whole list)', async () => {
      const r = await bytes(`/statistics/details/export?division=${COUNTY}&figure=pension:not-insured&format=xlsx`);
      first = r.firstMs;
      return r;
    }, () => null);
    results.push({ ...xlsx, note: `first bytes after ${first} ms` });
    results.push(await measure('report of the county, XLSX', () => bytes(`/statistics/report?division=${COUNTY}&format=xlsx`), () => null));
    results.push(await measure('report of the county, CSV', () => bytes(`/statistics/report?division=${COUNTY}&format=csv`), () => null));

    const width = Math.max(...results.map((r) => r.label.length));
    const lines = [
      '',
      `${'figure'.padEnd(width)}  ${'people'.padStart(9)}  ${'median ms'.padStart(9)}  under 1 s`,
      ...results.map((r) => `${r.label.padEnd(width)}  ${(r.rows === null ? '' : r.rows.toLocaleString('en')).padStart(9)}  ${r.ms.toFixed(1).padStart(9)}  ${r.label.startsWith('baseline') || r.label.startsWith('stream') ? '' : r.ms < TARGET_MS ? 'yes' : 'NO'}${r.note ? `  (${r.note})` : ''}`),
      '',
      `Over HTTP to the comparison service (one process), ${RUNS} runs after one warm-up, median. ${PEOPLE.toLocaleString('en')} people, ${history.toLocaleString('en')} history rows.`,
      'The gauges recount a county with the same query as its figures (every minute by default).',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, `statistics-${PEOPLE}-${Date.now()}.json`), JSON.stringify({ people: PEOPLE, runs: RUNS, current, history, results }, null, 2));
  } finally {
    await sql.end();
    await service.stop();
    // BENCH_KEEP=1 leaves the database to look at plans (EXPLAIN) afterwards.
    if (process.env.BENCH_KEEP === '1') process.stdout.write(`database kept: ${db.url}\n`);
    else await db.drop();
    await deleteTestTopic(topic);
  }
}

useRunSecrets();
main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
