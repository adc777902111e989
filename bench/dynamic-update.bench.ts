/**
 * Scale benchmark of dynamic update (issue 9, item 8): a day of business events for a county
 * (BENCH_EVENTS, default 50,000) posted over HTTP to the dynamic-update service running as its own
 * process, applied to the registry and fed out to a webhook subscriber; and the as-of read of a person
 * with 1,000 changes. Beside baselines on the same machine: the raw PostgreSQL insert of the same
 * events, and the read of the current record. Not part of the test run:
 * `flock /tmp/qmcb-bench.lock npm run bench:dynamic-update` (bench/README.md).
 */
import { mintApiKey, mintToken } from '@qmcb/auth';
import { checkCharacter } from '@qmcb/domain';
import { PersonIds } from '@qmcb/platform';
import { TEST_RATE_LIMITS, createTestDatabase, createTestTopic, deleteTestTopic, startService } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import { mkdirSync, writeFileSync } from 'fs';
import { createServer } from 'http';
import type { Server } from 'http';
import type { AddressInfo } from 'net';
import { join } from 'path';
import { Client } from 'pg';
import { randomBytes } from 'crypto';
import { useRunSecrets } from './support';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const PEOPLE = Number(process.env.BENCH_PEOPLE ?? Math.max(1, Math.floor(EVENTS / 5)));
const CHANGES = Number(process.env.BENCH_CHANGES ?? 1_000);
const READS = Number(process.env.BENCH_READS ?? 200);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const PORT = Number(process.env.BENCH_PORT ?? 3314);
/** Events per request: the HTTP body limit (100 KB) holds about 300. */
const BATCH = 200;
const COUNTY = '440981';
const KEY_SECRET = randomBytes(32).toString('base64url');
const JWT_SECRET = randomBytes(32).toString('base64url');
const PERSON_ID_SECRET = randomBytes(32).toString('base64url');
const RESULTS = join(__dirname, 'results');

type Json = Record<string, unknown>;

function citizenId(i: number): string {
  const day = i % 9000;
  const birth = new Date(Date.UTC(1950, 0, 1) + day * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
  const first17 = `${COUNTY}${birth}${String(Math.floor(i / 9000) % 1000).padStart(3, '0')}`;
  return `${first17}${checkCharacter(first17)}`;
}

const TYPES = ['pension', 'medical'] as const;

/** Event k of the day: for person k % PEOPLE, what a county's business systems send (mostly contributions). */
function businessEvent(k: number): { department: 'social-insurance' | 'social-security-card'; event: Json } {
  const i = k % PEOPLE;
  const round = Math.floor(k / PEOPLE);
  const id = citizenId(i);
  const entry = { insuranceType: TYPES[round % 2], scheme: 'resident', region: COUNTY };
  const at = new Date(Date.UTC(2026, 0, 1) + k * 1000).toISOString();
  if (round < 2) return { department: 'social-insurance', event: { type: 'insurance.enrolled', businessId: `E-${k}`, citizenId: id, occurredAt: at, payload: { ...entry, since: '2026-01-01' } } };
  if (round === 2 && i % 10 === 0) return { department: 'social-insurance', event: { type: 'insurance.suspended', businessId: `S-${k}`, citizenId: id, occurredAt: at, payload: { ...entry, effectiveDate: '2026-06-01', reason: 'other' } } };
  if (round === 2 && i % 10 === 1) return { department: 'social-security-card', event: { type: 'card.issued', businessId: `K-${k}`, citizenId: id, occurredAt: at, payload: { cardNumber: `A${String(i).padStart(9, '0')}`, issuedOn: '2026-03-01', issuingRegion: COUNTY } } };
  const month = `2026-${String(1 + (round % 12)).padStart(2, '0')}`;
  return { department: 'social-insurance', event: { type: 'insurance.contribution-paid', businessId: `C-${k}`, citizenId: id, occurredAt: at, payload: { ...entry, month, paidBy: 'self', amount: 200 } } };
}

// ---------------------------------------------------------------- the service and the subscriber


class Subscriber {
  received = 0;
  calls = 0;
  lastAt = 0;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { entries: unknown[] };
        this.received += body.entries.length;
        this.calls += 1;
        this.lastAt = Date.now();
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function http(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`http://127.0.0.1:${PORT}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

async function until(test: () => Promise<boolean>, what: string, timeoutMs = 1_800_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

// ---------------------------------------------------------------- baseline

/** The same events inserted as rows of one table, BATCH per statement and commit: PostgreSQL alone. */
async function rawInsert(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE bench_raw (event_id text PRIMARY KEY, person_key text NOT NULL, event jsonb NOT NULL)`);
    const started = Date.now();
    for (let k = 0; k < EVENTS; k += BATCH) {
      const rows = Array.from({ length: Math.min(BATCH, EVENTS - k) }, (_, j) => businessEvent(k + j).event);
      await client.query(
        `INSERT INTO bench_raw (event_id, person_key, event) SELECT e->>'businessId', e->>'citizenId', e FROM jsonb_array_elements($1::jsonb) AS e`,
        [JSON.stringify(rows)],
      );
    }
    return (Date.now() - started) / 1000;
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------- run

interface Row {
  measure: string;
  count: number;
  seconds: number | null;
  perSecond: number | null;
  p50ms: number | null;
  p95ms: number | null;
}

async function main(): Promise<void> {
  mkdirSync(join(RESULTS, 'logs'), { recursive: true });
  const topic = await createTestTopic(PARTITIONS);
  const db: TestDatabase = await createTestDatabase();
  const raw: TestDatabase = await createTestDatabase();
  const subscriber = new Subscriber();
  await subscriber.start();
  const service = await startService('dynamic-update', {
    port: PORT,
    logDir: join(RESULTS, 'logs'),
    env: {
      DATABASE_URL: db.url,
      LOG_TOPIC: topic,
      LOG_PARTITIONS: String(PARTITIONS),
      CONSUMER_GROUP: `dynamic-update-bench-${topic}`,
      API_KEY_SECRET: KEY_SECRET,
      PERSON_ID_SECRET: PERSON_ID_SECRET,
      AUTH_JWT_SECRET: JWT_SECRET,
      FEED_SEQUENCE_INTERVAL_MS: '100',
      WEBHOOK_POLL_INTERVAL_MS: '100',
      WEBHOOK_BATCH_SIZE: '500',
      LOG_LEVEL: 'warn',
      // A benchmark measures throughput, not the per-caller budgets (their defaults refuse its 250 posts a minute with 429).
      RATE_LIMITS: process.env.RATE_LIMITS ?? TEST_RATE_LIMITS,
    },
  });
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  const rows: Row[] = [];
  try {
    const admin = { authorization: `Bearer ${mintToken({ sub: 'bench', name: 'bench', role: 'admin', division: '44', ttlSeconds: 7200 }, JWT_SECRET)}` };
    const subscription = await http('POST', '/subscriptions', admin, { name: 'bench', department: 'social-insurance', keyId: 'bench-feed', division: COUNTY, webhookUrl: subscriber.url, from: 'beginning' });
    if (subscription.status !== 201) throw new Error(`subscription refused: ${JSON.stringify(subscription.body)}`);

    // 1. Baseline: PostgreSQL alone.
    const rawSeconds = await rawInsert(raw.url);
    rows.push({ measure: 'baseline: raw PostgreSQL insert of the events', count: EVENTS, seconds: rawSeconds, perSecond: EVENTS / rawSeconds, p50ms: null, p95ms: null });

    // 2. The day posted, applied and fed out.
    const keys = { 'social-insurance': { 'x-api-key': mintApiKey('social-insurance', 'si-bench', KEY_SECRET) }, 'social-security-card': { 'x-api-key': mintApiKey('social-security-card', 'card-bench', KEY_SECRET) } };
    const started = Date.now();
    const postLatency: number[] = [];
    for (let k = 0; k < EVENTS; k += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, EVENTS - k) }, (_, j) => businessEvent(k + j));
      for (const department of ['social-insurance', 'social-security-card'] as const) {
        const events = batch.filter((b) => b.department === department).map((b) => b.event);
        if (events.length === 0) continue;
        const t = Date.now();
        const r = await http('POST', '/business-events', keys[department], { events });
        if (r.status !== 202) throw new Error(`POST /business-events: ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
        postLatency.push(Date.now() - t);
      }
    }
    const posted = (Date.now() - started) / 1000;
    rows.push({ measure: `posted: POST /business-events (${BATCH} a request) until acknowledged`, count: EVENTS, seconds: posted, perSecond: EVENTS / posted, p50ms: percentile(postLatency, 50), p95ms: percentile(postLatency, 95) });
    const count = async (sql: string): Promise<number> => Number((await pg.query(sql)).rows[0]?.n ?? 0);
    await until(async () => (await count(`SELECT count(*)::int AS n FROM dynamic_update.record_history`)) >= EVENTS, 'every event applied');
    const applied = (Date.now() - started) / 1000;
    rows.push({ measure: 'applied: in the registry (history, provenance base, holdings)', count: EVENTS, seconds: applied, perSecond: EVENTS / applied, p50ms: null, p95ms: null });
    await until(async () => (await count(`SELECT count(*)::int AS n FROM dynamic_update_ops.feed_entry WHERE seq IS NULL`)) === 0, 'the feed numbered');
    const entries = await count(`SELECT count(*)::int AS n FROM dynamic_update_ops.feed_entry`);
    await until(async () => subscriber.received >= entries, 'the webhook fed');
    const fed = (subscriber.lastAt - started) / 1000;
    rows.push({ measure: `fed out: every feed entry received by the webhook (${subscriber.calls} calls)`, count: entries, seconds: fed, perSecond: entries / fed, p50ms: null, p95ms: null });

    // 3. A person with CHANGES changes: contributions month after month, then as-of reads at random moments.
    const one = citizenId(PEOPLE + 1);
    const si = keys['social-insurance'];
    // Ten a request, so the registry holds them from a hundred different moments.
    for (let c = 0; c < CHANGES; c += 10) {
      const events = Array.from({ length: Math.min(10, CHANGES - c) }, (_, j) => {
        const n = c + j;
        return { type: 'insurance.contribution-paid', businessId: `L-${n}`, citizenId: one, occurredAt: new Date(Date.UTC(1990, 0, 1) + n * 86_400_000).toISOString(), payload: { insuranceType: 'pension', scheme: 'resident', region: COUNTY, month: `${1990 + Math.floor(n / 12)}-${String(1 + (n % 12)).padStart(2, '0')}`, paidBy: 'self' } };
      });
      const r = await http('POST', '/business-events', si, { events });
      if (r.status !== 202) throw new Error(`POST /business-events: ${r.status}`);
    }
    // Key columns hold person IDs (ADR 0011, stage 5).
    const oneStored = new PersonIds(PERSON_ID_SECRET).idOf(one);
    await until(async () => (await count(`SELECT count(*)::int AS n FROM dynamic_update.record_history WHERE person_key = '${oneStored}'`)) >= CHANGES, 'the changes applied');
    const histories = await pg.query(`SELECT held_from FROM dynamic_update.record_history WHERE person_key = $1 ORDER BY version`, [oneStored]);
    const moments = histories.rows.map((r: { held_from: Date }) => new Date(r.held_from).toISOString());
    const clerk = { authorization: `Bearer ${mintToken({ sub: 'bench-clerk', name: 'bench', role: 'window-clerk', division: COUNTY, ttlSeconds: 7200 }, JWT_SECRET)}`, 'x-purpose': 'window-service' };
    const oneId = new PersonIds(PERSON_ID_SECRET).idOf(one);
    const timed = async (path: string): Promise<number[]> => {
      const out: number[] = [];
      for (let r = 0; r < READS; r++) {
        const t = process.hrtime.bigint();
        const res = await http('GET', path.replace('{moment}', encodeURIComponent(moments[(r * 7919) % moments.length] as string)), clerk);
        if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
        out.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      return out;
    };
    const current = await timed(`/persons/${oneId}`);
    rows.push({ measure: `baseline: GET /persons/:id (the current record) of a person with ${moments.length} changes`, count: READS, seconds: null, perSecond: null, p50ms: percentile(current, 50), p95ms: percentile(current, 95) });
    const items = await timed(`/registry/${oneId}`);
    rows.push({ measure: 'GET /registry/:id: items with provenance, now', count: READS, seconds: null, perSecond: null, p50ms: percentile(items, 50), p95ms: percentile(items, 95) });
    const asOf = await timed(`/registry/${oneId}?asOf={moment}`);
    rows.push({ measure: 'GET /registry/:id?asOf=: as held at a random past moment', count: READS, seconds: null, perSecond: null, p50ms: percentile(asOf, 50), p95ms: percentile(asOf, 95) });
  } finally {
    await pg.end();
    await service.stop();
    await subscriber.stop();
    await db.drop();
    await raw.drop();
    await deleteTestTopic(topic);
  }
  const fmt = (n: number | null, digits = 0): string => (n === null ? '' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
  const width = Math.max(...rows.map((r) => r.measure.length));
  process.stdout.write(`\ndynamic update, ${EVENTS.toLocaleString('en-US')} business events for ${PEOPLE.toLocaleString('en-US')} people, ${PARTITIONS} partitions\n\n`);
  process.stdout.write(`| ${'measure'.padEnd(width)} | ${'count'.padStart(7)} | ${'seconds'.padStart(8)} | ${'per second'.padStart(10)} | ${'p50 ms'.padStart(7)} | ${'p95 ms'.padStart(7)} |\n`);
  process.stdout.write(`|${'-'.repeat(width + 2)}|${'-'.repeat(8)}:|${'-'.repeat(9)}:|${'-'.repeat(11)}:|${'-'.repeat(8)}:|${'-'.repeat(8)}:|\n`);
  for (const r of rows) {
    process.stdout.write(`| ${r.measure.padEnd(width)} | ${fmt(r.count).padStart(7)} | ${fmt(r.seconds, 1).padStart(8)} | ${fmt(r.perSecond).padStart(10)} | ${fmt(r.p50ms, 1).padStart(7)} | ${fmt(r.p95ms, 1).padStart(7)} |\n`);
  }
  writeFileSync(join(RESULTS, `dynamic-update-${Date.now()}.json`), JSON.stringify({ events: EVENTS, people: PEOPLE, changes: CHANGES, rows }, null, 2));
}

useRunSecrets();
main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
