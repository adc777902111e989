/**
 * Open-loop latency benchmark (issue 11): household records posted over HTTP to the comparison service
 * (`POST /records` with a department's API key, as a department system does) at a steady rate, and
 * the time from the 202 until each record's event is visible in every projection, and until
 * comparison's outcome for it (relayed through the outbox) is visible in the other three. Beside the
 * raw kafkajs produce → consume latency of the same payloads at the same rate, in the same run.
 * Not part of the test run: `flock /tmp/qmcb-bench.lock npm run bench:latency` (bench/README.md).
 */
import { mintApiKey } from '@qmcb/auth';
import { deterministicId, encodeEvent, SOURCE_RECORD_RECEIVED } from '@qmcb/contracts';
import { checkCharacter, villagesOf } from '@qmcb/domain';
import { measureRawKafkaPaced } from '@qmcb/event-log';
import { SERVICES, TEST_RATE_LIMITS, createTestDatabase, createTestTopic, deleteTestTopic, startStack } from '@qmcb/testing';
import type { ServiceName, TestDatabase } from '@qmcb/testing';
import { randomBytes } from 'crypto';
import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { Client } from 'pg';
import { profileEnv, useRunSecrets } from './support';

const RATE = Number(process.env.BENCH_RATE ?? 500);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 60);
/** Records per request; a department system posts small batches as its changes happen. */
const PER_REQUEST = Number(process.env.BENCH_REQUEST_RECORDS ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 5);
const DRAIN_S = Number(process.env.BENCH_DRAIN_S ?? 180);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 20);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const COUNTY = '440981';
const KEY_SECRET = randomBytes(32).toString('base64url');
const JWT_SECRET = randomBytes(32).toString('base64url');
const PERSON_ID_SECRET = randomBytes(32).toString('base64url');
const RUN = Date.now().toString(36);

interface Row {
  measure: string;
  events: number;
  p50ms: number;
  p95ms: number;
  p99ms: number;
  maxms: number;
  missing: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function row(measure: string, latencies: number[], expected: number): Row {
  const s = [...latencies].sort((a, b) => a - b);
  return { measure, events: s.length, p50ms: percentile(s, 50), p95ms: percentile(s, 95), p99ms: percentile(s, 99), maxms: s[s.length - 1] ?? NaN, missing: expected - s.length };
}

const villages = villagesOf(COUNTY).map((v) => v.code);

/** Person i's citizen ID: distinct birth dates and sequence numbers of the county. */
function citizenId(i: number): string {
  const birth = new Date(Date.UTC(1940, 0, 1) + (i % 20_000) * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
  const first17 = `${COUNTY}${birth}${String(Math.floor(i / 20_000) % 1000).padStart(3, '0')}`;
  return `${first17}${checkCharacter(first17)}`;
}

function record(i: number): Record<string, unknown> {
  return {
    sourceRecordId: `LAT-${RUN}-${i}`,
    citizenId: citizenId(i),
    mode: 'snapshot',
    asOf: '2026-11-01T00:00:00.000Z',
    facts: { kind: 'household', name: `居民${i}`, villageCode: villages[i % villages.length], status: 'normal', sex: i % 2 ? 'male' : 'female' },
  };
}

/** Raw kafkajs at the same rate, with envelopes of the same size as the pipeline's. */
async function rawBaseline(n: number): Promise<Row> {
  const now = new Date().toISOString();
  const payloads = Array.from({ length: n }, (_, i) => {
    const r = record(i);
    const event = {
      eventId: deterministicId('bench-latency', String(i)),
      type: SOURCE_RECORD_RECEIVED,
      schemaVersion: 1,
      personKey: r['citizenId'] as string,
      occurredAt: now,
      recordedAt: now,
      source: 'dept:public-security',
      actor: 'key:bench',
      correlationId: deterministicId('bench-latency-correlation', String(i)),
      causationId: null,
      basedOnVersion: null,
      payload: { department: 'public-security', sourceRecordId: r['sourceRecordId'], mode: 'snapshot', citizenIdAsSent: r['citizenId'], citizenIdValid: true, asOf: now, facts: r['facts'] },
    };
    return { key: event.personKey, value: encodeEvent(event as Parameters<typeof encodeEvent>[0]) };
  });
  const topic = await createTestTopic(PARTITIONS);
  try {
    const { latenciesMs } = await measureRawKafkaPaced({ brokers: BROKERS }, topic, payloads, { ratePerSecond: RATE, batchSize: PER_REQUEST });
    return row('baseline: raw kafkajs produce (acked) → consumed', latenciesMs, n);
  } finally {
    await deleteTestTopic(topic);
  }
}

/** Event IDs waiting to be seen in one projection's applied_event, with the moment each was accepted. */
class Watcher {
  readonly pending = new Map<string, number>();
  readonly seen = new Map<string, number>();
  private running = true;
  private loop: Promise<void> | null = null;

  constructor(
    readonly name: string,
    private readonly client: Client,
    private readonly schema: string,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.pending.size > 0) {
        const ids = [...this.pending.keys()].slice(0, 20_000);
        const at = Date.now();
        const { rows } = await this.client.query(`SELECT event_id FROM ${this.schema}.applied_event WHERE event_id = ANY($1::text[])`, [ids]);
        for (const r of rows as { event_id: string }[]) {
          const accepted = this.pending.get(r.event_id);
          if (accepted === undefined) continue;
          this.pending.delete(r.event_id);
          this.seen.set(r.event_id, Math.max(0, at - accepted));
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}

interface Accepted {
  eventId: string;
  outcomeId: string;
  acceptedAt: number;
}

async function post(url: string, key: string, from: number, to: number): Promise<{ accepted: Accepted[]; requestMs: number }> {
  const t = Date.now();
  const res = await fetch(`${url}/records`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ records: Array.from({ length: to - from }, (_, j) => record(from + j)) }),
  });
  const body = (await res.json()) as { records?: { eventId: string }[] };
  const acceptedAt = Date.now();
  if (res.status !== 202 || !body.records) throw new Error(`POST /records answered ${res.status}: ${JSON.stringify(body).slice(0, 500)}`);
  return {
    requestMs: acceptedAt - t,
    accepted: body.records.map((r) => ({ eventId: r.eventId, outcomeId: deterministicId('comparison', 'outcome', r.eventId), acceptedAt })),
  };
}

async function pipeline(n: number): Promise<{ rows: Row[]; behindMs: number; failed: number }> {
  const topic = await createTestTopic(PARTITIONS);
  const dbs = {} as Record<ServiceName, TestDatabase>;
  for (const s of SERVICES) dbs[s.name] = await createTestDatabase();
  const suffix = topic.slice(-8);
  const stack = await startStack({
    logDir: join(__dirname, 'results', 'logs', 'latency'),
    ports: { comparison: 3321, 'survey-tasking': 3322, review: 3323, 'dynamic-update': 3324 },
    // Four services starting at once on a busy 2-core machine can take more than the default 90 s.
    startTimeoutMs: 300_000,
    env: (name) => ({
      DATABASE_URL: dbs[name].url,
      LOG_TOPIC: topic,
      LOG_PARTITIONS: String(PARTITIONS),
      CONSUMER_GROUP: `${name}-latency-${suffix}`,
      LOG_LEVEL: 'warn',
      AUTH_JWT_SECRET: JWT_SECRET,
      API_KEY_SECRET: KEY_SECRET,
      PERSON_ID_SECRET,
      RATE_LIMITS: TEST_RATE_LIMITS,
      ...profileEnv(`${name}-latency`, name),
    }),
  });
  const clients = {} as Record<ServiceName, Client>;
  const watchers = {} as Record<ServiceName, { source: Watcher; outcome: Watcher | null }>;
  try {
    for (const s of SERVICES) {
      const c = new Client({ connectionString: dbs[s.name].url });
      await c.connect();
      clients[s.name] = c;
      watchers[s.name] = { source: new Watcher(s.name, c, s.schema), outcome: s.name === 'comparison' ? null : new Watcher(s.name, c, s.schema) };
    }
    const key = mintApiKey('public-security', 'ps-latency-bench', KEY_SECRET);
    const url = stack.urls.comparison;

    // Warm-up (not measured): the same rate for WARMUP_S, then wait until it is everywhere.
    const warm = Math.round(RATE * WARMUP_S);
    const warmIds: string[] = [];
    for (let i = 0; i < warm; i += PER_REQUEST) warmIds.push(...(await post(url, key, n + i, n + Math.min(warm, i + PER_REQUEST))).accepted.map((a) => a.eventId));
    const deadline = Date.now() + 120_000;
    for (const s of SERVICES) {
      for (;;) {
        const { rows } = await clients[s.name].query(`SELECT count(*)::int AS c FROM ${s.schema}.applied_event WHERE event_id = ANY($1::text[])`, [warmIds]);
        if (rows[0].c >= warmIds.length) break;
        if (Date.now() > deadline) throw new Error(`warm-up not applied in ${s.name}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }

    for (const w of Object.values(watchers)) {
      w.source.start();
      w.outcome?.start();
    }
    const requestMs: number[] = [];
    let behindMs = 0;
    let failed = 0;
    const inflight: Promise<void>[] = [];
    const t0 = Date.now();
    for (let i = 0, k = 0; i < n; i += PER_REQUEST, k += 1) {
      const due = t0 + (k * PER_REQUEST * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else behindMs = Math.max(behindMs, -wait);
      inflight.push(
        post(url, key, i, Math.min(n, i + PER_REQUEST)).then(
          ({ accepted, requestMs: ms }) => {
            requestMs.push(ms);
            for (const a of accepted) {
              for (const s of SERVICES) {
                watchers[s.name].source.pending.set(a.eventId, a.acceptedAt);
                watchers[s.name].outcome?.pending.set(a.outcomeId, a.acceptedAt);
              }
            }
          },
          (e: unknown) => {
            failed += 1;
            console.error((e as Error).message);
          },
        ),
      );
    }
    await Promise.all(inflight);
    const sentSeconds = (Date.now() - t0) / 1000;
    console.log(`offered ${n} records in ${sentSeconds.toFixed(1)} s (${(n / sentSeconds).toFixed(0)}/s); the sender fell behind its schedule by at most ${behindMs} ms`);
    const drainUntil = Date.now() + DRAIN_S * 1000;
    const all = Object.values(watchers).flatMap((w) => (w.outcome ? [w.source, w.outcome] : [w.source]));
    while (all.some((w) => w.pending.size > 0) && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 200));
    for (const w of all) await w.stop();

    const expected = n - failed * PER_REQUEST;
    const rows: Row[] = [row('HTTP POST /records: sent → 202 (per request)', requestMs, requestMs.length + failed)];
    const overall: number[] = [];
    const sourceAll = new Map<string, number>();
    for (const s of SERVICES) {
      const w = watchers[s.name].source;
      rows.push(row(`accepted → visible in ${s.name}`, [...w.seen.values()], expected));
      for (const [id, ms] of w.seen) sourceAll.set(id, Math.max(sourceAll.get(id) ?? 0, ms));
    }
    const everywhere = [...sourceAll].filter(([id]) => SERVICES.every((s) => watchers[s.name].source.seen.has(id))).map(([, ms]) => ms);
    rows.push(row('accepted → visible in all four', everywhere, expected));
    const outcomeAll = new Map<string, number>();
    for (const s of SERVICES) {
      const w = watchers[s.name].outcome;
      if (!w) continue;
      rows.push(row(`accepted → its outcome (via outbox) visible in ${s.name}`, [...w.seen.values()], expected));
      for (const [id, ms] of w.seen) outcomeAll.set(id, Math.max(outcomeAll.get(id) ?? 0, ms));
    }
    const outcomeWatchers = SERVICES.filter((s) => watchers[s.name].outcome);
    const outcomeEverywhere = [...outcomeAll].filter(([id]) => outcomeWatchers.every((s) => watchers[s.name].outcome?.seen.has(id))).map(([, ms]) => ms);
    rows.push(row('accepted → its outcome visible in the other three', outcomeEverywhere, expected));
    for (const [id, ms] of sourceAll) {
      const o = outcomeAll.get(deterministicId('comparison', 'outcome', id));
      if (o !== undefined && SERVICES.every((s) => watchers[s.name].source.seen.has(id))) overall.push(Math.max(ms, o));
    }
    rows.push(row('overall: accepted → event and outcome visible everywhere', overall, expected));
    // Outbox row's created_at (now(): the START of the consumer batch's transaction that emitted it) to its
    // publication: the batch transaction's own duration plus the relay's wait, not the relay alone.
    const relay = await clients.comparison.query(
      `SELECT (extract(epoch FROM published_at - created_at) * 1000)::float8 AS ms FROM comparison.outbox WHERE event_id = ANY($1::text[]) AND published_at IS NOT NULL`,
      [[...outcomeAll.keys()]],
    );
    rows.push(row('comparison outbox: its transaction began → published', relay.rows.map((r: { ms: number }) => r.ms), outcomeAll.size));
    return { rows, behindMs, failed };
  } finally {
    await Promise.all(Object.values(clients).map((c) => c.end()));
    await stack.stop();
    for (const db of Object.values(dbs)) await db.drop();
    await deleteTestTopic(topic);
  }
}

function printTable(rows: Row[]): void {
  const header = ['measure', 'events', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'missing'];
  const f = (x: number): string => (Number.isNaN(x) ? '' : x.toFixed(0));
  const cells = rows.map((r) => [r.measure, String(r.events), f(r.p50ms), f(r.p95ms), f(r.p99ms), f(r.maxms), String(r.missing)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string => `| ${c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

async function main(): Promise<void> {
  const n = Math.round(RATE * DURATION_S);
  const tuning = ['CONSUMER_MAX_WAIT_MS', 'OUTBOX_POLL_INTERVAL_MS', 'OUTBOX_LISTEN'].map((k) => `${k}=${process.env[k] ?? '(default)'}`).join(' ');
  console.log(`latency benchmark: ${RATE} records/s for ${DURATION_S} s (${n} records, ${PER_REQUEST} per request), ${PARTITIONS} partitions, poll every ${POLL_MS} ms; ${tuning}`);
  const baseline = await rawBaseline(n);
  const { rows, behindMs, failed } = await pipeline(n);
  const all = [baseline, ...rows];
  console.log();
  printTable(all);
  console.log(`\nvisibility is polled every ${POLL_MS} ms per database (a latency is the start of the first poll that saw the row); failed requests: ${failed}`);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `latency-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
    JSON.stringify({ RATE, DURATION_S, PER_REQUEST, PARTITIONS, POLL_MS, tuning, behindMs, failed, rows: all }, null, 2),
  );
  process.exit(0);
}

useRunSecrets();
main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
