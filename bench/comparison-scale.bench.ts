/**
 * Scale benchmark (issue 3, item 8): a county of BENCH_PEOPLE people (default 1,000,000) with four
 * source records each, loaded the production way (`npm run load -- --file -`, one load per
 * department, the file streamed into its stdin as it is generated) into a fresh log topic while the
 * comparison service runs as its own process on a fresh database, until every person is compared;
 * beside the raw PostgreSQL bulk upsert of the same rows on the same machine. Not part of the test
 * run: `npm run bench:comparison` (bench/README.md).
 */
import type { Department } from '@qmcb/contracts';
import { checkCharacter, villagesOf } from '@qmcb/domain';
import { TEST_RATE_LIMITS, createTestDatabase, createTestTopic, deleteTestTopic, startService } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import { spawn } from 'child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { Client } from 'pg';
import { useRunSecrets } from './support';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000_000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const COUNTY = process.env.BENCH_COUNTY ?? '440981';
const PORT = Number(process.env.BENCH_PORT ?? 3311);
const UPSERT_BATCH = Number(process.env.BENCH_UPSERT_BATCH ?? 5_000);
/** Minutes the county may take to be compared (issue 3: under ten on this 2-core machine). */
const TARGET_MINUTES = 10;
const COUNTY_PEOPLE = 1_000_000;
const AS_OF = '2026-11-01T00:00:00Z';
/** Extra Node flags for the service and the load commands (say `--cpu-prof --cpu-prof-dir=/tmp/prof`). */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a.length > 0);
const ROOT = join(__dirname, '..');
const RESULTS = join(__dirname, 'results');

// ---------------------------------------------------------------- the county

type Json = Record<string, unknown>;

interface Line {
  sourceRecordId: string;
  citizenId: string;
  mode: 'snapshot';
  asOf: string;
  facts: Json;
}

const VILLAGES = villagesOf(COUNTY).map((v) => v.code);
const SURNAMES = ['陈', '李', '黄', '张', '梁', '林', '王', '吴', '刘', '杨', '何', '罗', '邓', '冯', '谢', '曾', '朱', '钟'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '强', '磊', '洋', '艳', '勇', '军', '杰', '娟', '涛', '明', '超', '秀英', '华', '平', '桂英'];
const FIRST_DAY = Date.UTC(1936, 0, 1);
/** Birth days from 1936 to 2010 (everyone 16 or older): ~27,000 days × 1,000 sequence numbers. */
const DAYS = Math.floor((Date.UTC(2010, 11, 31) - FIRST_DAY) / 86_400_000);

/** A well-mixed 32-bit hash of (i, salt): the same county every run. */
function h(i: number, salt: number): number {
  let x = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35);
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

interface Person {
  citizenId: string;
  name: string;
  sex: 'male' | 'female';
  birthDate: string;
  age: number;
  village: string;
  phone: string | undefined;
  address: string | undefined;
  /** 0 tax, 1 education, 2 civil affairs, 3 justice: the fourth source. */
  fourth: number;
  employed: boolean;
}

function person(i: number): Person {
  // Distinct IDs for up to ~27 million people: the birth day cycles, the sequence number counts.
  const day = (i * 7919) % DAYS;
  const seq = Math.floor(i / DAYS) * 7 + (h(i, 1) % 7);
  const birth = new Date(FIRST_DAY + day * 86_400_000).toISOString().slice(0, 10);
  const id17 = `${COUNTY}${birth.replace(/-/g, '')}${String(seq % 1000).padStart(3, '0')}`;
  const sex = Number(id17[16]) % 2 === 1 ? 'male' : 'female';
  const age = 2026 - Number(birth.slice(0, 4));
  const r = h(i, 2) % 1000;
  return {
    citizenId: `${id17}${checkCharacter(id17)}`,
    name: `${SURNAMES[h(i, 3) % SURNAMES.length]}${GIVEN[h(i, 4) % GIVEN.length]}`,
    sex,
    birthDate: birth,
    age,
    village: VILLAGES[h(i, 5) % VILLAGES.length] as string,
    phone: r < 950 ? `13${String(h(i, 6) % 1_000_000_000).padStart(9, '0')}` : undefined,
    address: r < 970 ? `高州市${h(i, 7) % 900}号` : undefined,
    fourth: i % 4,
    employed: age >= 18 && age < 60 && h(i, 8) % 100 < 45,
  };
}

function household(i: number, p: Person): Line {
  const r = h(i, 9) % 1000;
  const status = r < 8 && p.age > 50 ? 'deceased' : r < 18 ? 'moved-out' : r < 21 && p.sex === 'male' && p.age < 25 ? 'military' : r < 24 ? 'prison' : 'normal';
  const facts: Json = { kind: 'household', name: p.name, sex: p.sex, birthDate: p.birthDate, ethnicity: '汉', villageCode: p.village, hukouType: 'agricultural', status };
  if (p.address) facts['address'] = p.address;
  if (p.phone) facts['phone'] = p.phone;
  return { sourceRecordId: `HJ-${i}`, citizenId: p.citizenId, mode: 'snapshot', asOf: AS_OF, facts };
}

function insurance(i: number, p: Person, type: 'pension' | 'medical'): Line {
  const r = h(i, type === 'pension' ? 10 : 11) % 1000;
  const scheme = p.employed ? 'employee' : 'resident';
  const status = r < (type === 'pension' ? 70 : 35) ? 'ended' : 'active';
  const facts: Json = { kind: 'insurance', insuranceType: type, scheme, status, region: COUNTY, since: '2015-01-01', name: p.name };
  if (type === 'pension' && p.age >= 60 && status === 'active') {
    facts['receivingBenefit'] = true;
    facts['benefitStatus'] = 'receiving';
  }
  return { sourceRecordId: `${type === 'pension' ? 'YL' : 'YB'}-${i}`, citizenId: p.citizenId, mode: 'snapshot', asOf: AS_OF, facts };
}

const FOURTH = [
  { department: 'tax', prefix: 'SW' },
  { department: 'education', prefix: 'JY' },
  { department: 'civil-affairs', prefix: 'MZ' },
  { department: 'justice', prefix: 'SF' },
] as const;

function fourth(i: number, p: Person): Line {
  const spec = FOURTH[p.fourth] as (typeof FOURTH)[number];
  let facts: Json;
  switch (p.fourth) {
    case 0:
      facts = p.employed
        ? { kind: 'tax', employed: true, employer: `高州市第${h(i, 12) % 500}公司`, lastContributionMonth: '2026-10', monthlyWage: 3000 + (h(i, 13) % 5000), name: p.name }
        : { kind: 'tax', employed: false, name: p.name };
      break;
    case 1:
      facts = { kind: 'enrolment', enrolled: p.age < 23, school: '高州中学', level: p.age < 19 ? 'senior-secondary' : 'higher', name: p.name, sex: p.sex, birthDate: p.birthDate };
      break;
    case 2:
      facts = { kind: 'welfare', category: 'minimum-living-allowance', active: h(i, 14) % 10 < 8, since: '2020-01-01', name: p.name };
      break;
    default:
      facts = { kind: 'custody', inCustody: h(i, 15) % 50 === 0, since: '2019-03-01', name: p.name };
  }
  return { sourceRecordId: `${spec.prefix}-${i}`, citizenId: p.citizenId, mode: 'snapshot', asOf: AS_OF, facts };
}

interface FileSpec {
  name: string;
  department: Department;
  /** The rows of person i in this file. */
  rows(i: number, p: Person): Line[];
  /** Which people have rows here. */
  has(p: Person): boolean;
}

/** One load per department, in the order an operator would run them. */
const FILES: FileSpec[] = [
  { name: 'households.ndjson', department: 'public-security', rows: (i, p) => [household(i, p)], has: () => true },
  { name: 'insurance.ndjson', department: 'social-insurance', rows: (i, p) => [insurance(i, p, 'pension'), insurance(i, p, 'medical')], has: () => true },
  ...FOURTH.map((f, k): FileSpec => ({ name: `${f.prefix.toLowerCase()}.ndjson`, department: f.department, rows: (i, p) => [fourth(i, p)], has: (p) => p.fourth === k })),
];

/** The file as NDJSON chunks of about 1,000 lines, generated as they are read: never held whole. */
async function* ndjson(spec: FileSpec): AsyncGenerator<Buffer> {
  let out = '';
  let lines = 0;
  for (let i = 0; i < PEOPLE; i++) {
    const p = person(i);
    if (!spec.has(p)) continue;
    for (const row of spec.rows(i, p)) {
      out += `${JSON.stringify(row)}\n`;
      lines += 1;
    }
    if (lines >= 1_000) {
      yield Buffer.from(out);
      out = '';
      lines = 0;
    }
  }
  if (out) yield Buffer.from(out);
}

/** Household, pension, medical and one more: four rows per person. */
const ROWS = 4 * PEOPLE;

// ---------------------------------------------------------------- measuring

interface Result {
  measure: string;
  rows: number;
  seconds: number;
  peakRssMb: number | null;
}

function vm(pid: number | 'self', field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * CPU seconds per part of the pipeline, from /proc (utime + stime), sampled every second so that
 * processes that end in between (load commands, their PostgreSQL backends) still count up to their
 * last sample. Other processes on the machine are not counted.
 */
class CpuMeter {
  private readonly seen = new Map<number, { group: string; start: number; last: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly groupOf: (pid: number, comm: string) => string | null) {
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), 1_000);
  }

  private sample(initial: boolean): void {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const comm = /\((.*)\)/.exec(stat)?.[1] ?? '';
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
        const known = this.seen.get(pid);
        if (known) known.last = seconds;
        else {
          const group = this.groupOf(pid, comm);
          // What a process that already ran had used before the meter started does not count.
          if (group) this.seen.set(pid, { group, start: initial ? seconds : 0, last: seconds });
        }
      } catch {
        // ended meanwhile
      }
    }
  }

  stop(): Record<string, number> {
    this.sample(false);
    clearInterval(this.timer);
    const out: Record<string, number> = {};
    for (const { group, start, last } of this.seen.values()) out[group] = (out[group] ?? 0) + last - start;
    return out;
  }
}

function printTable(rows: Result[]): void {
  const header = ['measure', 'rows', 'seconds', 'rows/s', 'peak RSS MB'];
  const cells = rows.map((r) => [
    r.measure,
    r.rows.toLocaleString('en-US'),
    r.seconds.toFixed(1),
    Math.round(r.rows / r.seconds).toLocaleString('en-US'),
    r.peakRssMb === null ? '' : r.peakRssMb.toFixed(0),
  ]);
  const widths = header.map((h0, i) => Math.max(h0.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]): string => `| ${c.map((x, i) => (i === 0 ? x.padEnd(widths[i] as number) : x.padStart(widths[i] as number))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

const elapsed = (t0: number): string => `${((Date.now() - t0) / 1000).toFixed(0)} s`;

// ---------------------------------------------------------------- baseline: raw PostgreSQL upsert

/**
 * The same rows, in the same order, upserted straight into a person-keyed table (each row's facts
 * merged into the person's jsonb), batches of UPSERT_BATCH rows, one statement and one commit each:
 * what PostgreSQL alone does with this data on this machine, without log, validation or rules.
 */
async function rawUpsert(): Promise<Result> {
  const db = await createTestDatabase();
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE person_source (person_key text PRIMARY KEY, record jsonb NOT NULL, version int NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
    let rows = 0;
    const t0 = Date.now();
    for (const spec of FILES) {
      let batch = new Map<string, Json>();
      let inBatch = 0;
      const flush = async (): Promise<void> => {
        if (batch.size === 0) return;
        await client.query(
          `INSERT INTO person_source (person_key, record, version)
           SELECT k, r, 1 FROM unnest($1::text[], $2::jsonb[]) AS t(k, r)
           ON CONFLICT (person_key) DO UPDATE SET record = person_source.record || EXCLUDED.record, version = person_source.version + 1, updated_at = now()`,
          [[...batch.keys()], [...batch.values()].map((v) => JSON.stringify(v))],
        );
        batch = new Map();
        inBatch = 0;
      };
      for (let i = 0; i < PEOPLE; i++) {
        const p = person(i);
        if (!spec.has(p)) continue;
        for (const row of spec.rows(i, p)) {
          const kind = String(row.facts['kind']);
          const key = kind === 'insurance' ? `insurance:${String(row.facts['insuranceType'])}` : kind;
          // Two rows of one person in one statement (pension and medical) are merged first:
          // ON CONFLICT DO UPDATE may touch a row once per statement.
          batch.set(row.citizenId, { ...batch.get(row.citizenId), [key]: { ...row.facts, sourceRecordId: row.sourceRecordId, asOf: row.asOf } });
          rows += 1;
          inBatch += 1;
        }
        if (inBatch >= UPSERT_BATCH) await flush();
      }
      await flush();
    }
    const seconds = (Date.now() - t0) / 1000;
    return { measure: `baseline: raw PostgreSQL upsert (unnest, ${UPSERT_BATCH.toLocaleString('en-US')} rows per statement)`, rows, seconds, peakRssMb: null };
  } finally {
    await client.end();
    await db.drop();
  }
}

// ---------------------------------------------------------------- the pipeline


/** A counter of the service's /metrics (0 when absent). */
async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${PORT + 1000}/metrics`)).text(); // the management port
  const m = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** What `npm run load` prints on stdout at the end (docs/api/bulk-load.md). */
interface LoadReport {
  rows: number;
  accepted: number;
  duplicates: number;
  quarantined: number;
  status: string;
  durationMs: number;
}

/**
 * One department file through the load command, streamed into its stdin as it is generated (with
 * back-pressure: the generator waits while the loader is behind). Resolves with its report and the
 * loader process's peak RSS.
 */
const loaderPids = new Set<number>();

async function loadFile(spec: FileSpec, env: NodeJS.ProcessEnv, logFile: string): Promise<{ report: LoadReport; peakRssMb: number }> {
  const child = spawn(
    process.execPath,
    [...NODE_ARGS, '-r', join(ROOT, 'tools/register.js'), join(ROOT, 'services/comparison/src/load-cli.ts'), '--department', spec.department, '--file', '-', '--format', 'ndjson', '--file-name', spec.name],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  if (child.pid) loaderPids.add(child.pid);
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stderr?.pipe(log);
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, vm(child.pid as number, 'VmHWM') ?? 0);
  }, 500);
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  const stdin = child.stdin;
  if (!stdin) throw new Error('the load command has no stdin');
  try {
    for await (const chunk of ndjson(spec)) {
      if (!stdin.write(chunk)) await new Promise<void>((resolve) => stdin.once('drain', resolve));
    }
    stdin.end();
    const code = await exited;
    if (code !== 0) throw new Error(`load of ${spec.name} exited with ${code}; see ${logFile}`);
  } finally {
    clearInterval(sampler);
  }
  return { report: JSON.parse(stdout) as LoadReport, peakRssMb: peak };
}

interface PipelineResult {
  load: Result;
  compared: Result;
  settled: Result;
  reports: LoadReport[];
  outcomes: Record<string, number>;
  emitted: number;
  fallbacks: number;
  deadLetters: number;
  cpu: Record<string, number>;
}

async function pipeline(expectedRows: number): Promise<PipelineResult> {
  mkdirSync(join(RESULTS, 'logs'), { recursive: true });
  const topic = await createTestTopic(PARTITIONS);
  const db: TestDatabase = await createTestDatabase();
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: db.url,
    LOG_TOPIC: topic,
    LOG_PARTITIONS: String(PARTITIONS),
    CONSUMER_GROUP: `comparison-bench-${topic.slice(-8)}`,
    LOG_LEVEL: 'warn',
    // A benchmark measures throughput, not the per-caller budgets.
    RATE_LIMITS: process.env.RATE_LIMITS ?? TEST_RATE_LIMITS,
  };
  const service = await startService('comparison', { env, port: PORT, logDir: join(RESULTS, 'logs'), logName: 'comparison-scale', nodeArgs: NODE_ARGS });
  const pid = service.pid;
  const probe = new Client({ connectionString: db.url });
  await probe.connect();
  let serviceRss = 0;
  const sampler = setInterval(() => {
    serviceRss = Math.max(serviceRss, vm(pid, 'VmRSS') ?? 0);
  }, 1_000);
  const reports: LoadReport[] = [];
  const meter = new CpuMeter((p, comm) =>
    p === pid ? 'comparison service' : loaderPids.has(p) ? 'load commands' : comm.startsWith('postgres') ? 'PostgreSQL' : comm === 'java' ? 'Kafka broker' : p === process.pid ? 'bench (generator)' : null,
  );
  const t0 = Date.now();
  let loading = true;
  const progress = setInterval(() => {
    void metric('qmcb_events_applied_total', 'projection="comparison"')
      .then((n) => {
        const loaded = reports.reduce((s, r) => s + r.accepted, 0);
        console.log(
          `  ${elapsed(t0)}: ${loading ? `loading (${reports.length}/${FILES.length} files done, ${loaded.toLocaleString('en-US')} rows)` : 'loaded'}, ` +
            `compared ${n.toLocaleString('en-US')}/${expectedRows.toLocaleString('en-US')} events, service RSS ${(vm(pid, 'VmRSS') ?? 0).toFixed(0)} MB`,
        );
      })
      .catch(() => undefined);
  }, 10_000);
  try {
    let loaderRss = 0;
    for (const spec of FILES) {
      const { report, peakRssMb } = await loadFile(spec, env, join(RESULTS, 'logs', 'comparison-scale-load.log'));
      if (report.status !== 'completed') throw new Error(`load of ${spec.name}: ${report.status}`);
      reports.push(report);
      loaderRss = Math.max(loaderRss, peakRssMb);
      console.log(`  ${elapsed(t0)}: loaded ${spec.name}: ${report.accepted.toLocaleString('en-US')} accepted, ${report.quarantined} quarantined, ${report.duplicates} duplicates, ${Math.round((report.rows * 1000) / report.durationMs).toLocaleString('en-US')} rows/s`);
    }
    loading = false;
    const loadSeconds = (Date.now() - t0) / 1000;
    const accepted = reports.reduce((s, r) => s + r.accepted, 0);

    // Compared: every accepted source event applied (an outcome is emitted and applied in the same
    // transaction as the event that caused it).
    while ((await metric('qmcb_events_applied_total', 'projection="comparison"')) < accepted) await new Promise((r) => setTimeout(r, 500));
    const comparedSeconds = (Date.now() - t0) / 1000;
    const comparedRss = Math.max(serviceRss, vm(pid, 'VmHWM') ?? 0);

    // Settled: the outbox relayed to the log and those outcomes read back (and skipped).
    for (;;) {
      const { rows } = await probe.query(
        `SELECT (SELECT count(*) FROM comparison.outbox WHERE published_at IS NULL)::int AS pending, (SELECT count(*) FROM comparison.outbox)::int AS emitted`,
      );
      const skipped = await metric('qmcb_events_skipped_total', 'projection="comparison"');
      if (rows[0].pending === 0 && skipped >= rows[0].emitted) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const settledSeconds = (Date.now() - t0) / 1000;
    const cpu = meter.stop();

    const outcomes: Record<string, number> = {};
    for (const r of (await probe.query(`SELECT outcome, count(*)::int AS n FROM comparison.current_outcome GROUP BY outcome ORDER BY outcome`)).rows) outcomes[r.outcome] = r.n;
    const emitted = (await probe.query(`SELECT count(*)::int AS n FROM comparison.outbox`)).rows[0].n as number;
    const deadLetters = (await probe.query(`SELECT count(*)::int AS n FROM comparison.dead_letter`)).rows[0].n as number;
    const fallbacks = await metric('qmcb_chunk_splits_total', 'projection="comparison"');
    return {
      load: { measure: `bulk load → log (${FILES.length} runs of npm run load)`, rows: accepted, seconds: loadSeconds, peakRssMb: loaderRss },
      compared: { measure: 'pipeline: load start → every person compared', rows: accepted, seconds: comparedSeconds, peakRssMb: comparedRss },
      settled: { measure: '  … and every outcome relayed and read back', rows: accepted, seconds: settledSeconds, peakRssMb: Math.max(serviceRss, vm(pid, 'VmHWM') ?? 0) },
      reports,
      outcomes,
      emitted,
      fallbacks,
      deadLetters,
      cpu,
    };
  } finally {
    meter.stop();
    clearInterval(progress);
    clearInterval(sampler);
    await probe.end();
    await service.stop();
    await db.drop();
    await deleteTestTopic(topic);
  }
}

async function main(): Promise<void> {
  const rows = ROWS;
  console.log(`comparison scale benchmark: ${PEOPLE.toLocaleString('en-US')} people, ${rows.toLocaleString('en-US')} source rows (household, pension, medical, and one of tax/education/civil-affairs/justice), ${PARTITIONS} partitions, county ${COUNTY} (${VILLAGES.length} villages)`);
  console.log('baseline: raw PostgreSQL upsert of the same rows …');
  const baseline = await rawUpsert();
  console.log(`  ${baseline.seconds.toFixed(1)} s`);
  console.log('pipeline: bulk loads → log → comparison service …');
  const p = await pipeline(rows);
  const table = [baseline, p.load, p.compared, p.settled];
  console.log();
  printTable(table);
  const perPerson = p.compared.seconds / PEOPLE;
  const countyMinutes = (perPerson * COUNTY_PEOPLE) / 60;
  console.log();
  console.log(`people compared: ${Object.entries(p.outcomes).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')}`);
  console.log(`outcome events emitted: ${p.emitted.toLocaleString('en-US')}; batch fallbacks: ${p.fallbacks}; dead letters: ${p.deadLetters}`);
  const cpuTotal = Object.values(p.cpu).reduce((a, b) => a + b, 0);
  console.log(
    `CPU seconds until settled (2 cores × ${p.settled.seconds.toFixed(0)} s = ${(2 * p.settled.seconds).toFixed(0)} available): ` +
      `${Object.entries(p.cpu).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}; total ${cpuTotal.toFixed(0)} = ${((cpuTotal / p.compared.rows) * 1e6).toFixed(0)} µs per row`,
  );
  console.log(`pipeline / raw upsert throughput: ${((p.compared.rows / p.compared.seconds / (baseline.rows / baseline.seconds)) * 100).toFixed(1)}%`);
  console.log(
    `county of ${COUNTY_PEOPLE.toLocaleString('en-US')} people compared in ${countyMinutes.toFixed(1)} min${PEOPLE === COUNTY_PEOPLE ? '' : ' (extrapolated linearly from this run)'}: target < ${TARGET_MINUTES} min ${countyMinutes < TARGET_MINUTES ? 'MET' : 'NOT MET'}`,
  );
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(
    join(RESULTS, `comparison-scale-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
    JSON.stringify({ PEOPLE, PARTITIONS, COUNTY, rows: table, cpu: p.cpu, outcomes: p.outcomes, emitted: p.emitted, fallbacks: p.fallbacks, deadLetters: p.deadLetters, reports: p.reports, countyMinutes }, null, 2),
  );
  process.exit(0);
}

useRunSecrets();
main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
