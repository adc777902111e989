/**
 * Scale benchmark of survey tasking (issue 7, item 7): a campaign of BENCH_TARGETS targets (default
 * 177,321, 高州's 78,647 uninsured + 98,674 with wrong information) over the county's real villages
 * (`villagesOf('440981')`), two teams of two per village: target generation from department records and
 * comparison outcomes through the survey projection, the balanced distribution township by township over
 * HTTP, progress queries and both ledgers streamed; each beside the raw PostgreSQL statement doing the
 * same rows' work on the same machine. Not part of the test run: `npm run bench:survey` under
 * `flock /tmp/qmcb-bench.lock` (bench/README.md).
 */
import { mintToken } from '@qmcb/auth';
import { OUTCOME_DETERMINED, SOURCE_RECORD_RECEIVED, deterministicId, newEvent } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { checkCharacter, villagesOf } from '@qmcb/domain';
import { EventLogProducer } from '@qmcb/event-log';
import { TEST_RATE_LIMITS, createTestDatabase, createTestTopic, deleteTestTopic, testKafkaSettings, startService } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import { randomBytes, randomUUID } from 'crypto';
import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { Client } from 'pg';
import { useRunSecrets } from './support';

const TARGETS = Number(process.env.BENCH_TARGETS ?? 177_321);
const COUNTY = process.env.BENCH_COUNTY ?? '440981';
const PORT = Number(process.env.BENCH_PORT ?? 3312);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const JWT_SECRET = randomBytes(32).toString('base64url');
const AS_OF = '2026-11-01T00:00:00.000Z';
const RESULTS = join(__dirname, 'results');

const VILLAGES = villagesOf(COUNTY).map((v) => v.code);
const TOWNSHIPS = [...new Set(VILLAGES.map((v) => v.slice(0, 9)))];
const SURNAMES = ['陈', '李', '黄', '张', '梁', '林', '王', '吴', '刘', '杨', '何', '罗'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '强', '磊', '洋', '艳', '勇', '军', '杰'];
const FIRST_DAY = Date.UTC(1940, 0, 1);
const DAYS = Math.floor((Date.UTC(2008, 11, 31) - FIRST_DAY) / 86_400_000);

function h(i: number, salt: number): number {
  let x = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35);
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  return x >>> 0;
}

/** Target i: a valid citizen ID, a village, a household of one to three targets (several targets share a 户号). */
function target(i: number): { citizenId: string; name: string; sex: 'male' | 'female'; birthDate: string; village: string; householdNo: string; reasons: string[] } {
  const day = (i * 7919) % DAYS;
  const seq = Math.floor(i / DAYS) * 7 + (h(i, 1) % 7);
  const birth = new Date(FIRST_DAY + day * 86_400_000).toISOString().slice(0, 10);
  const id17 = `${COUNTY}${birth.replace(/-/g, '')}${String(seq % 1000).padStart(3, '0')}`;
  const household = Math.floor(i / 2); // two targets per household on average
  return {
    citizenId: `${id17}${checkCharacter(id17)}`,
    name: `${SURNAMES[h(i, 3) % SURNAMES.length]}${GIVEN[h(i, 4) % GIVEN.length]}`,
    sex: Number(id17[16]) % 2 === 1 ? 'male' : 'female',
    birthDate: birth,
    village: VILLAGES[h(household, 5) % VILLAGES.length] as string,
    householdNo: String(household).padStart(7, '0'),
    // 高州: 78,647 uninsured, 98,674 with wrong information.
    reasons: i % 177_321 < 78_647 ? ['UNINSURED'] : [['INACCURATE_NAME', 'MISSING_PHONE', 'INACCURATE_BIRTH_DATE', 'MISSING_ADDRESS'][h(i, 6) % 4] as string],
  };
}

function eventsOf(i: number): RegistrationEvent[] {
  const p = target(i);
  const origin = { source: 'dept:public-security', actor: 'key:bench', occurredAt: AS_OF, correlationId: `bench-${i}` };
  return [
    newEvent(SOURCE_RECORD_RECEIVED, deterministicId('bench', 'hj', String(i)), p.citizenId, {
      department: 'public-security', sourceRecordId: `HJ-${i}`, mode: 'snapshot', asOf: AS_OF, citizenIdAsSent: p.citizenId, citizenIdValid: true,
      facts: { kind: 'household', name: p.name, sex: p.sex, birthDate: p.birthDate, villageCode: p.village, status: 'normal', householdNo: p.householdNo, relationToHead: i % 2 === 0 ? '户主' : '配偶' },
    }, origin),
    newEvent(OUTCOME_DETERMINED, deterministicId('bench', 'outcome', String(i)), p.citizenId, {
      outcome: 'needs-survey', previousOutcome: 'none', reasons: p.reasons.map((code) => ({ code, rule: 'bench', ruleVersion: 1, detail: '' })), coverage: [],
    }, { ...origin, source: 'svc:comparison', actor: 'svc:comparison' }),
  ];
}

interface Result {
  measure: string;
  rows: number;
  seconds: number;
}

const results: Result[] = [];
async function measure<T>(measureName: string, rows: number, fn: () => Promise<T>): Promise<T> {
  const start = process.hrtime.bigint();
  const out = await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  results.push({ measure: measureName, rows, seconds });
  process.stdout.write(`  ${measureName}: ${rows.toLocaleString('en')} rows in ${seconds.toFixed(1)} s\n`);
  return out;
}

function table(): string {
  const head = ['measure', 'rows', 'seconds', 'rows/s'];
  const body = results.map((r) => [r.measure, r.rows.toLocaleString('en'), r.seconds.toFixed(2), r.seconds > 0 ? Math.round(r.rows / r.seconds).toLocaleString('en') : '']);
  const widths = head.map((h0, c) => Math.max(h0.length, ...body.map((b) => (b[c] as string).length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...body.map(line)].join('\n');
}


async function main(): Promise<void> {
  process.stdout.write(`survey scale: ${TARGETS.toLocaleString('en')} targets in ${VILLAGES.length} villages of ${TOWNSHIPS.length} townships of ${COUNTY}\n`);
  let db: TestDatabase | undefined;
  let baseline: TestDatabase | undefined;
  let topic: string | undefined;
  let service: { stop(): Promise<void> } | undefined;
  let producer: EventLogProducer | undefined;
  let survey: Client | undefined;
  try {
    topic = await createTestTopic(PARTITIONS);
    db = await createTestDatabase();
    baseline = await createTestDatabase();
    mkdirSync(join(RESULTS, 'logs'), { recursive: true });
    service = await startService('survey-tasking', {
      port: PORT,
      logDir: join(RESULTS, 'logs'),
      logName: 'survey-scale',
      env: { DATABASE_URL: db.url, LOG_TOPIC: topic, KAFKA_ENSURE_TOPICS: 'false', AUTH_JWT_SECRET: JWT_SECRET, LOG_LEVEL: 'warn', SURVEY_GAUGES_INTERVAL_MS: '0', RATE_LIMITS: process.env.RATE_LIMITS ?? TEST_RATE_LIMITS },
    });
    const url = `http://127.0.0.1:${PORT}`;
    survey = new Client({ connectionString: db.url });
    await survey.connect();
    const count = async (sql: string): Promise<number> => Number(((await (survey as Client).query(sql)).rows[0] as { n: number }).n);
    producer = await EventLogProducer.connect(testKafkaSettings(topic, PARTITIONS, 'bench-survey'));
    const bearer = (role: string, division: string, sub: string): Record<string, string> => ({ authorization: `Bearer ${mintToken({ sub, name: sub, role, division, ttlSeconds: 36_000 }, JWT_SECRET)}`, 'content-type': 'application/json' });
    const county = bearer('county-approver', COUNTY, 'bench-county');
    const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: any }> => { // eslint-disable-line @typescript-eslint/no-explicit-any
      const res = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 300)}`);
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };

    // ---------------------------------------------------------------- generation
    const raw = new Client({ connectionString: baseline.url });
    await raw.connect();
    await raw.query(`CREATE TABLE t (task_id uuid PRIMARY KEY, person_key text NOT NULL, village_code char(12) NOT NULL, township_code char(9) NOT NULL, status text NOT NULL, reasons text[] NOT NULL,
      responsible_id text, household_key text, person jsonb NOT NULL, created_at timestamptz NOT NULL)`);
    await raw.query(`CREATE INDEX ON t (village_code)`);
    await measure('baseline: raw INSERT of the target rows (unnest, 5,000 per statement)', TARGETS, async () => {
      for (let from = 0; from < TARGETS; from += 5_000) {
        const rows = Array.from({ length: Math.min(5_000, TARGETS - from) }, (_, k) => {
          const p = target(from + k);
          return { id: deterministicId('bench', 'task', String(from + k)), key: p.citizenId, v: p.village, r: p.reasons, hh: `${p.village}-${p.householdNo}`, person: { name: p.name, sex: p.sex, birthDate: p.birthDate } };
        });
        await raw.query(
          `INSERT INTO t SELECT x.id, x.key, x.v, substr(x.v, 1, 9), 'open', ARRAY(SELECT jsonb_array_elements_text(x.r)), null, x.hh, x.person, now()
             FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, key text, v text, r jsonb, hh text, person jsonb)`,
          [JSON.stringify(rows)],
        );
      }
    });
    await measure('generation: household record + outcome per person appended, consumed, every target created', TARGETS, async () => {
      for (let from = 0; from < TARGETS; from += 2_500) {
        await (producer as EventLogProducer).append(Array.from({ length: Math.min(2_500, TARGETS - from) }, (_, k) => eventsOf(from + k)).flat());
      }
      while ((await count(`SELECT count(*)::int AS n FROM survey_tasking.survey_task`)) < TARGETS) await new Promise((r) => setTimeout(r, 500));
    });

    // ---------------------------------------------------------------- campaign, teams, assignment
    const campaignId = randomUUID();
    await call('POST', '/campaigns', county, { campaignId, countyCode: COUNTY, name: '高州市全民参保登记入户调查', startsOn: '2026-11-01', deadline: '2099-12-31' });
    let teams = 0;
    for (const township of TOWNSHIPS) {
      const reviewer = bearer('grassroots-reviewer', township, `bench-${township}`);
      for (const village of VILLAGES.filter((v) => v.startsWith(township))) {
        for (const k of [1, 2]) {
          await call('POST', `/campaigns/${campaignId}/teams`, reviewer, {
            teamId: randomUUID(), townshipCode: township, name: `${village.slice(9)}-${k}`, members: [{ surveyorId: `sv-${village}-${k}a`, name: '甲' }, { surveyorId: `sv-${village}-${k}b`, name: '乙' }],
          });
          teams += 1;
        }
      }
    }
    process.stdout.write(`  ${teams} teams of two formed\n`);
    await measure('baseline: raw UPDATE giving every target a surveyor (one statement)', TARGETS, async () => {
      await raw.query(`UPDATE t SET responsible_id = 'sv-' || village_code || '-' || (1 + abs(hashtext(household_key)) % 4)::text`);
    });
    let assigned = 0;
    await measure(`assignment: POST /assignments/auto for each of the ${TOWNSHIPS.length} townships (events, outbox, projection)`, TARGETS, async () => {
      for (const township of TOWNSHIPS) {
        const r = await call('POST', `/campaigns/${campaignId}/assignments/auto`, bearer('grassroots-reviewer', township, `bench-${township}`), { townshipCode: township });
        assigned += r.body.assigned as number;
      }
    });
    if (assigned !== TARGETS) throw new Error(`expected ${TARGETS} assignments, got ${assigned}`);

    // ---------------------------------------------------------------- progress and ledgers
    await measure('baseline: raw count(*) GROUP BY township', TARGETS, async () => {
      await raw.query(`SELECT township_code, status, count(*) FROM t GROUP BY 1, 2`);
    });
    for (const groupBy of ['township', 'village', 'team'] as const) {
      await measure(`progress: GET /campaigns/:id/progress?groupBy=${groupBy} (county)`, TARGETS, async () => {
        const r = await call('GET', `/campaigns/${campaignId}/progress?groupBy=${groupBy}`, county);
        if (r.body.total.targets !== TARGETS) throw new Error(`progress counts ${r.body.total.targets}`);
      });
    }
    await measure('baseline: raw SELECT of every target row to the client', TARGETS, async () => {
      await raw.query(`SELECT * FROM t ORDER BY village_code, household_key, task_id`);
    });
    const ledgerOf = async (kind: string, format: string, division: string): Promise<number> => {
      const res = await fetch(`${url}/campaigns/${campaignId}/ledgers/${kind}?format=${format}&division=${division}`, { headers: county });
      if (res.status !== 200 || !res.body) throw new Error(`ledger ${kind} ${format} → ${res.status}`);
      let bytes = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
      return bytes;
    };
    for (const format of ['csv', 'xlsx']) {
      const bytes = await measure(`ledger: 整改台账 of the county, ${format}, streamed (audited reads included)`, TARGETS, () => ledgerOf('rectification', format, COUNTY));
      process.stdout.write(`    ${(bytes / 1e6).toFixed(1)} MB\n`);
    }
    const village = VILLAGES[0] as string;
    const m = await count(`SELECT count(*)::int AS n FROM survey_tasking.survey_task WHERE village_code = '${village}'`);
    await measure(`ledger: 个人信息汇总表 of one village (${village}), csv`, m, () => ledgerOf('summary', 'csv', village));
    await raw.end();

    process.stdout.write(`\n${table()}\n`);
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, `survey-scale-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ targets: TARGETS, county: COUNTY, villages: VILLAGES.length, townships: TOWNSHIPS.length, teams, results }, null, 2));
  } finally {
    await survey?.end();
    await producer?.disconnect();
    await service?.stop();
    await db?.drop();
    await baseline?.drop();
    if (topic) await deleteTestTopic(topic);
  }
}

useRunSecrets();
main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
