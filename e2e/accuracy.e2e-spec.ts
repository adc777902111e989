import { mintApiKey, mintToken } from '@qmcb/auth';
import { SOURCE_RECORD_RECEIVED, decodeEvent } from '@qmcb/contracts';
import type { Department } from '@qmcb/contracts';
import { personKeyFor } from '@qmcb/domain';
import { freePort, httpJson, readAllRecords, startIsolatedStack, testKafkaSettings, waitFor } from '@qmcb/testing';
import type { IsolatedStack } from '@qmcb/testing';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { Client } from 'pg';
import { execFileSync } from 'child_process';

/**
 * Accuracy of comparison against the synthetic county's ground truth (issue 3, item 7). A fixed
 * population of 高州 is generated (tools/synthetic), every department file is loaded through
 * `POST /loads` with that department's key, each load report is checked against the manifest, and
 * once comparison has applied every record, each person's outcome and ordered reason codes are
 * compared with truth.ndjson: exact for every deterministic person. Prints precision and recall per
 * reason code and per outcome, and on a mismatch the first 20 people with their merged record.
 *
 * ACCURACY_PEOPLE and ACCURACY_SEED change the population (defaults 3,000 and 20261101).
 */
const PEOPLE = Number(process.env.ACCURACY_PEOPLE ?? 3000);
const SEED = Number(process.env.ACCURACY_SEED ?? 20261101);
const JWT_SECRET = 'e2e-accuracy-jwt-secret';
const KEY_SECRET = 'e2e-accuracy-api-key-secret';
// Data per run (another run of the suite may be generating beside this one), removed afterwards;
// the report of the last run of a population stays.
const OUT = join(__dirname, '..', 'tmp', 'accuracy', `${SEED}-${PEOPLE}-${process.pid}`);
const REPORT = join(__dirname, '..', 'tmp', 'accuracy', `report-${SEED}-${PEOPLE}.txt`);
const ROOT = join(__dirname, '..');

/**
 * The generator is used as people use it, through `npm run synth` and the files it writes
 * (docs/testing/synthetic-population.md): these are the parts of manifest.json and truth.ndjson read here.
 */
interface BadRow {
  line: number;
  reason: string;
  rule: string | null;
}
interface FileReport {
  path: string;
  department: Department;
  contentType: string;
  rows: number;
  expected: { accepted: number; duplicates: number; quarantined: number; quarantinedByRule: Record<string, number> };
  badRows: BadRow[];
}
interface Manifest {
  seed: number;
  county: string;
  countyName: string;
  loadOrder: string[];
  files: FileReport[];
  truth: { path: string };
  absentCitizenIds: string[];
}
interface TruthRow {
  citizenId: string;
  personKey: string;
  expectedOutcome: string;
  expectedReasons: string[];
  deterministic: boolean;
  injected: string[];
  evaluatedOn: string;
  age: number | null;
  openQuestion?: string;
}

/** The reason codes of docs/design/comparison-model.md in its order. */
const REASON_ORDER = [
  'BENEFIT_AFTER_DEATH', 'EXEMPT_DECEASED', 'EXEMPT_MOVED_OUT', 'EXEMPT_MILITARY', 'EXEMPT_PRISONER', 'EXEMPT_STUDENT',
  'DUPLICATE_PENSION', 'DUPLICATE_MEDICAL', 'DUPLICATE_REGION', 'INACCURATE_CITIZEN_ID', 'INACCURATE_NAME', 'INACCURATE_SEX',
  'INACCURATE_BIRTH_DATE', 'MISSING_PHONE', 'MISSING_ADDRESS', 'UNINSURED', 'PARTLY_INSURED_EMPLOYEE', 'PARTLY_INSURED_NO_PENSION',
  'AGE_60_NO_PENSION', 'COMPLETE',
];

interface Actual {
  outcome: string;
  reasons: string[];
}

interface LoadReport {
  loadId: string;
  status: string;
  rows: number;
  accepted: number;
  duplicates: number;
  quarantined: number;
  quarantinedByReason: Record<string, number>;
}


const apiKey = (department: Department): Record<string, string> => ({ 'x-api-key': mintApiKey(department, `${department}-accuracy`, KEY_SECRET) });
const admin = { authorization: `Bearer ${mintToken({ sub: 'accuracy', name: 'accuracy', role: 'admin', division: '44', ttlSeconds: 3600 }, JWT_SECRET)}` };

/** What the manifest expects of a load, in the report's own shape. */
function expectedReport(file: FileReport): Omit<LoadReport, 'loadId' | 'quarantinedByReason'> & { quarantinedByReason: Record<string, number> } {
  return {
    status: 'completed',
    rows: file.rows,
    accepted: file.expected.accepted,
    duplicates: file.expected.duplicates,
    quarantined: file.expected.quarantined,
    quarantinedByReason: file.expected.quarantinedByRule,
  };
}

/** Precision and recall of one label over the deterministic people. */
interface Score {
  label: string;
  expected: number;
  actual: number;
  tp: number;
}

function table(title: string, scores: Score[]): string {
  const pct = (n: number, d: number): string => (d === 0 ? '    -' : `${((100 * n) / d).toFixed(1).padStart(5)}%`);
  const rows = scores.map((s) => `${s.label.padEnd(27)} ${String(s.expected).padStart(8)} ${String(s.actual).padStart(8)} ${String(s.tp).padStart(8)} ${String(s.actual - s.tp).padStart(6)} ${String(s.expected - s.tp).padStart(6)}  ${pct(s.tp, s.actual)}  ${pct(s.tp, s.expected)}`);
  return [`${title.padEnd(27)} expected   actual       TP     FP     FN  precision  recall`, ...rows].join('\n');
}

/** What the service decided where the design page leaves the answer open (not asserted). */
function openRows(rows: TruthRow[], actualOf: (t: TruthRow) => Actual): string[] {
  if (rows.length === 0) return [];
  const seen = new Map<string, number>();
  for (const t of rows) {
    const a = actualOf(t);
    const key = `${t.openQuestion ?? '?'}: oracle ${t.expectedOutcome} [${t.expectedReasons.join(',')}], service ${a.outcome} [${a.reasons.join(',')}]`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [`open questions of the design page (not asserted): ${rows.length} people`, ...[...seen].map(([k, n]) => `  ${String(n).padStart(5)} × ${k}`)];
}

describe('accuracy of comparison on a synthetic county', () => {
  let manifest: Manifest;
  let truth: TruthRow[];
  let stack: IsolatedStack;
  let topic: string;
  let comparisonDb: string;
  const reportLines: string[] = [];
  /** What the loads reported appended, in all: exactly the source records the log must hold. */
  let appended = 0;
  const note = (text: string): void => {
    reportLines.push(text);
    writeFileSync(REPORT, `${reportLines.join('\n')}\n`);
  };

  async function sql<T extends object>(text: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: comparisonDb });
    await client.connect();
    try {
      return (await client.query<T>(text, params)).rows;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    writeFileSync(REPORT, '');
    execFileSync(process.execPath, ['-r', join(ROOT, 'tools/register.js'), join(ROOT, 'tools/synthetic/cli.ts'), '--people', String(PEOPLE), '--seed', String(SEED), '--out', OUT], { cwd: ROOT, stdio: 'pipe' });
    manifest = JSON.parse(readFileSync(join(OUT, 'manifest.json'), 'utf8')) as Manifest;
    truth = readFileSync(join(OUT, manifest.truth.path), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as TruthRow);

    stack = await startIsolatedStack({
      logDir: join(__dirname, '..', 'tmp', 'e2e-logs', 'accuracy'),
      // Free ports of the moment: another run of this suite (or of the whole e2e tier) may be up beside this one.
      ports: { comparison: await freePort(), 'survey-tasking': await freePort(), review: await freePort(), 'dynamic-update': await freePort() },
      env: () => ({ AUTH_JWT_SECRET: JWT_SECRET, API_KEY_SECRET: KEY_SECRET }),
    });
    ({ topic } = stack);
    comparisonDb = stack.databaseUrls.comparison;
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(OUT, { recursive: true, force: true });
  });

  it('loads every department file with exactly the counts of the manifest, bad rows quarantined by line', async () => {
    const problems: string[] = [];
    for (const path of manifest.loadOrder) {
      const file = manifest.files.find((f) => f.path === path) as FileReport;
      const started = Date.now();
      const res = await fetch(`${stack.urls.comparison}/loads?fileName=${encodeURIComponent(path)}`, {
        method: 'POST',
        headers: { ...apiKey(file.department), 'content-type': file.contentType },
        body: readFileSync(join(OUT, path)),
      });
      const report = (await res.json()) as LoadReport;
      const { loadId, quarantinedByReason, ...counts } = report;
      const got = { status: counts.status, rows: counts.rows, accepted: counts.accepted, duplicates: counts.duplicates, quarantined: counts.quarantined, quarantinedByReason };
      const want = expectedReport(file);
      // Rows no contract rule refuses (rule null) must still be quarantined, under whatever rule the loader names.
      const ruleless = file.badRows.filter((b) => b.rule === null).length;
      const byRuleOk = Object.entries(want.quarantinedByReason).every(([rule, n]) => quarantinedByReason?.[rule] === n)
        && Object.entries(quarantinedByReason ?? {}).filter(([rule]) => !(rule in want.quarantinedByReason)).reduce((s, [, n]) => s + n, 0) === ruleless;
      const countsOk = res.status === 201 && got.status === want.status && got.rows === want.rows && got.accepted === want.accepted && got.duplicates === want.duplicates && got.quarantined === want.quarantined;
      note(`load ${path.padEnd(44)} ${res.status} ${JSON.stringify(got)} in ${Date.now() - started} ms`);
      appended += counts.accepted ?? 0;
      if (!countsOk || !byRuleOk) {
        problems.push(`${path}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)} (+${ruleless} quarantined without a contract rule)`);
        continue;
      }
      const quarantine = await httpJson(stack.urls.comparison, 'GET', `/loads/${loadId}/quarantine?limit=1000`, apiKey(file.department));
      const lines = (quarantine.body.items as { line: number }[]).map((i) => i.line).sort((a, b) => a - b);
      const wantLines = file.badRows.map((b) => b.line).sort((a, b) => a - b);
      if (JSON.stringify(lines) !== JSON.stringify(wantLines)) problems.push(`${path}: quarantined lines ${lines.join(',')}, want ${wantLines.join(',')}`);
    }
    if (problems.length) note(`load problems:\n  ${problems.join('\n  ')}`);
    expect(problems).toEqual([]);
  }, 180_000);

  it('re-sending a file changes nothing: every good row a duplicate', async () => {
    const file = manifest.files.find((f) => f.path === manifest.loadOrder[0]) as FileReport;
    const res = await fetch(`${stack.urls.comparison}/loads?fileName=resent`, {
      method: 'POST',
      headers: { ...apiKey(file.department), 'content-type': file.contentType },
      body: readFileSync(join(OUT, file.path)),
    });
    const report = (await res.json()) as LoadReport;
    appended += report.accepted ?? 0;
    expect([res.status, report.rows, report.accepted, report.duplicates, report.quarantined]).toEqual([
      201,
      file.rows,
      0,
      file.expected.accepted + file.expected.duplicates,
      file.expected.quarantined,
    ]);
  }, 60_000);

  it('classifies every deterministic person exactly (outcome and ordered reason codes)', async () => {
    // Every record is on the log once its load answered: wait until comparison has consumed past it.
    const records = await readAllRecords(testKafkaSettings(topic));
    const high = new Map<number, number>();
    for (const r of records) high.set(r.partition, Math.max(high.get(r.partition) ?? 0, Number(r.offset) + 1));
    const sourceEvents = records.filter((r) => r.value !== null && decodeEvent(r.value).type === SOURCE_RECORD_RECEIVED).length;
    const acceptedTotal = manifest.files.reduce((s, f) => s + f.expected.accepted, 0);
    note(`log: ${records.length} events, ${sourceEvents} source records (loads appended ${appended}; manifest: ${acceptedTotal} good rows)`);
    expect(sourceEvents).toBe(appended);
    expect(appended).toBeGreaterThanOrEqual(acceptedTotal);
    const waitStarted = Date.now();
    await waitFor(async () => {
      const rows = await sql<{ partition: number; next_offset: string }>('SELECT partition, next_offset FROM comparison.projection_checkpoint WHERE topic = $1', [topic]);
      const at = new Map(rows.map((r) => [r.partition, Number(r.next_offset)]));
      return [...high].every(([p, h]) => (at.get(p) ?? 0) >= h);
    }, { timeoutMs: 150_000, intervalMs: 500, message: 'comparison to consume every loaded record' });
    note(`comparison caught up ${Date.now() - waitStarted} ms after the last load`);

    const rows = await sql<{ person_key: string; outcome: string; reason_codes: string[] }>('SELECT person_key, outcome, reason_codes FROM comparison.current_outcome');
    const actual = new Map<string, Actual>(rows.map((r) => [r.person_key, { outcome: r.outcome, reasons: r.reason_codes }]));
    const known = new Set(truth.map((t) => t.personKey));
    const ghosts = new Set(manifest.absentCitizenIds.map(personKeyFor));
    const unexpected = rows.filter((r) => !known.has(r.person_key));

    // Scores per reason code and per outcome, over the deterministic people.
    const deterministic = truth.filter((t) => t.deterministic);
    const actualOf = (t: TruthRow): Actual => actual.get(t.personKey) ?? { outcome: 'none', reasons: [] };
    const score = (label: string, expectedHas: (t: TruthRow) => boolean, actualHas: (a: Actual) => boolean): Score => {
      let e = 0;
      let a = 0;
      let tp = 0;
      for (const t of deterministic) {
        const x = expectedHas(t);
        const y = actualHas(actualOf(t));
        if (x) e += 1;
        if (y) a += 1;
        if (x && y) tp += 1;
      }
      return { label, expected: e, actual: a, tp };
    };
    const reasonScores = REASON_ORDER.map((code) => score(code, (t) => t.expectedReasons.includes(code), (a) => a.reasons.includes(code)));
    const outcomeScores = ['registered', 'duplicate', 'needs-survey', 'exempt', 'none'].map((o) => score(o, (t) => t.expectedOutcome === o, (a) => a.outcome === o));

    const mismatches = deterministic.filter((t) => {
      const a = actualOf(t);
      return a.outcome !== t.expectedOutcome || JSON.stringify(a.reasons) !== JSON.stringify(t.expectedReasons);
    });
    const categories = new Map<string, number>();
    for (const t of mismatches) {
      const a = actualOf(t);
      const key = `${t.expectedOutcome} [${t.expectedReasons.join(',')}] -> ${a.outcome} [${a.reasons.join(',')}]`;
      categories.set(key, (categories.get(key) ?? 0) + 1);
    }
    note([
      '',
      `${manifest.countyName} ${manifest.county}, seed ${manifest.seed}: ${truth.length} people, ${deterministic.length} deterministic, ${rows.length} compared by the service`,
      '',
      table('reason code', reasonScores),
      '',
      table('outcome', outcomeScores),
      '',
      `exact (outcome and ordered reasons): ${deterministic.length - mismatches.length} of ${deterministic.length}`,
      ...[...categories].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${String(n).padStart(5)} × ${k}`),
      ...openRows(truth.filter((t) => !t.deterministic), actualOf),
      unexpected.length ? `compared but not in the truth: ${unexpected.length} (${unexpected.filter((r) => ghosts.has(r.person_key)).length} of them from bad rows)` : 'nobody compared who is not in the truth',
    ].join('\n'));

    if (mismatches.length > 0) {
      const details: string[] = [];
      for (const t of mismatches.slice(0, 20)) {
        const person = await httpJson(stack.urls.comparison, 'GET', `/persons/${t.personKey}?asOf=${encodeURIComponent(`${t.evaluatedOn}T00:00:00Z`)}`, admin);
        const merged: unknown = person.status === 200 ? { record: person.body.record, comparison: person.body.comparison, fields: person.body.fields } : (await sql('SELECT * FROM comparison.person_record WHERE person_key = $1', [t.personKey]))[0] ?? person.body;
        details.push(JSON.stringify({ citizenId: t.citizenId, injected: t.injected, age: t.age, evaluatedOn: t.evaluatedOn, expected: [t.expectedOutcome, t.expectedReasons], actual: actualOf(t), person: merged }));
      }
      note(`first ${details.length} mismatches:\n${details.join('\n')}`);
    }
    process.stdout.write(`${reportLines.join('\n')}\n(report: ${REPORT})\n`);
    expect(unexpected.map((r) => `${r.person_key} ${r.outcome} ${r.reason_codes.join(',')}`)).toEqual([]);
    expect(mismatches.length).toBe(0);
  }, 240_000);
});
