/**
 * Pipeline benchmark: events per second from append to applied in all four projections, and the
 * latency p50/p99, beside the raw kafkajs produce-and-consume rate of the same payloads on the same
 * machine. Not part of the test run: `npm run bench` (see bench/README.md).
 */
import { encodeEvent } from '@qmcb/contracts';
import type { SOURCE_RECORD_RECEIVED } from '@qmcb/contracts';
import type { EventOf } from '@qmcb/contracts';
import { checkCharacter, villagesOf } from '@qmcb/domain';
import { EventLogProducer, measureRawKafka } from '@qmcb/event-log';
import { SERVICES, createTestDatabase, createTestTopic, deleteTestTopic, startStack, testKafkaSettings } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { loadavg } from 'os';
import { join } from 'path';
import { householdRecordEvent, profileEnv, useRunSecrets } from './support';
import { Client } from 'pg';

const N = Number(process.env.BENCH_EVENTS ?? 20_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const COUNTY = process.env.BENCH_COUNTY ?? '440981';

interface Row {
  measure: string;
  events: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  /** The service's process CPU (user + system) from the first append until it had applied every event, per appended event. */
  cpuUsPerEvent?: number;
}

/** User + system CPU of a process in µs, from /proc (Linux; NaN elsewhere). Clock ticks are 10 ms. */
function processCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state is field 3; utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return NaN;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A synthetic county: household records of people in real villages, a third of them also insured. */
function makeEvents(): EventOf<typeof SOURCE_RECORD_RECEIVED>[] {
  const villages = villagesOf(COUNTY).map((v) => v.code);
  const events: EventOf<typeof SOURCE_RECORD_RECEIVED>[] = [];
  const now = new Date().toISOString();
  for (let i = 0; i < N; i++) {
    const year = 1950 + (i % 55);
    const day = 1 + (Math.floor(i / 55) % 28);
    const month = 1 + (Math.floor(i / (55 * 28)) % 12);
    const seq = Math.floor(i / (55 * 28 * 12)) % 1000;
    const id17 = `${COUNTY}${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}${String(seq).padStart(3, '0')}`;
    const citizenId = `${id17}${checkCharacter(id17)}`;
    events.push(householdRecordEvent({ idPrefix: 'bench', index: i, sourceRecordId: `B-${i}`, citizenId, villageCode: villages[i % villages.length] as string, sex: seq % 2 ? 'male' : 'female', now }));
  }
  return events;
}

async function rawBaseline(payloads: { key: string; value: Buffer }[]): Promise<Row> {
  const topic = await createTestTopic(PARTITIONS);
  const { events, seconds, latenciesMs } = await measureRawKafka({ brokers: BROKERS }, topic, payloads, BATCH);
  await deleteTestTopic(topic);
  return { measure: 'raw kafkajs produce → consume', events, seconds, perSecond: events / seconds, p50ms: percentile(latenciesMs, 50), p99ms: percentile(latenciesMs, 99) };
}

async function pipeline(events: EventOf<typeof SOURCE_RECORD_RECEIVED>[]): Promise<Row[]> {
  const topic = await createTestTopic(PARTITIONS);
  const dbs: Record<string, TestDatabase> = {};
  for (const s of SERVICES) dbs[s.name] = await createTestDatabase();
  const suffix = topic.slice(-8);
  const stack = await startStack({
    logDir: join(__dirname, 'results', 'logs'),
    ports: { comparison: 3301, 'survey-tasking': 3302, review: 3303, 'dynamic-update': 3304 },
    env: (name) => ({ DATABASE_URL: dbs[name].url, LOG_TOPIC: topic, LOG_PARTITIONS: String(PARTITIONS), CONSUMER_GROUP: `${name}-bench-${suffix}`, LOG_LEVEL: 'warn', ...profileEnv(`${name}-pipeline`, name) }),
  });
  const clients: Record<string, Client> = {};
  try {
    for (const s of SERVICES) {
      const c = new Client({ connectionString: dbs[s.name].url });
      await c.connect();
      await c.query(`CREATE TABLE public.bench_event (event_id text PRIMARY KEY, appended_at timestamptz NOT NULL)`);
      clients[s.name] = c;
    }
    const producer = await EventLogProducer.connect(testKafkaSettings(topic, PARTITIONS, 'bench-pipeline'));
    const cpu0 = Object.fromEntries(SERVICES.map((s) => [s.name, processCpuUs(stack.pids[s.name])]));
    const cpuAt: Record<string, number> = {};
    const t0 = Date.now();
    for (let i = 0; i < events.length; i += BATCH) {
      const batch = events.slice(i, i + BATCH);
      await producer.append(batch);
      const at = new Date().toISOString();
      await Promise.all(
        SERVICES.map((s) =>
          clients[s.name].query(`INSERT INTO public.bench_event SELECT unnest($1::text[]), $2`, [batch.map((e) => e.eventId), at]),
        ),
      );
    }
    await producer.disconnect();
    const finishedAt: Record<string, number> = {};
    while (Object.keys(finishedAt).length < SERVICES.length) {
      for (const s of SERVICES) {
        if (finishedAt[s.name]) continue;
        const { rows } = await clients[s.name].query(
          `SELECT count(*)::int AS n FROM ${s.schema}.applied_event a JOIN public.bench_event b USING (event_id)`,
        );
        if (rows[0].n >= events.length) {
          finishedAt[s.name] = Date.now();
          cpuAt[s.name] = processCpuUs(stack.pids[s.name]);
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const rows: Row[] = [];
    for (const s of SERVICES) {
      const { rows: q } = await clients[s.name].query(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
           FROM (SELECT greatest(0, extract(epoch FROM a.applied_at - b.appended_at) * 1000) AS ms
                   FROM ${s.schema}.applied_event a JOIN public.bench_event b USING (event_id)) t`,
      );
      const seconds = (finishedAt[s.name] - t0) / 1000;
      rows.push({ measure: `  ${s.name} projection`, events: events.length, seconds, perSecond: events.length / seconds, p50ms: Number(q[0].p50), p99ms: Number(q[0].p99), cpuUsPerEvent: (cpuAt[s.name] - cpu0[s.name]) / events.length });
    }
    const seconds = (Math.max(...Object.values(finishedAt)) - t0) / 1000;
    rows.unshift({
      measure: 'pipeline: append → applied in all four',
      events: events.length,
      seconds,
      perSecond: events.length / seconds,
      p50ms: Math.max(...rows.map((r) => r.p50ms)),
      p99ms: Math.max(...rows.map((r) => r.p99ms)),
    });
    return rows;
  } finally {
    await Promise.all(Object.values(clients).map((c) => c.end()));
    await stack.stop();
    for (const db of Object.values(dbs)) await db.drop();
    await deleteTestTopic(topic);
  }
}

function printTable(rows: Row[]): void {
  const header = ['measure', 'events', 'seconds', 'events/s', 'p50 ms', 'p99 ms', 'CPU µs/event'];
  const cells = rows.map((r) => [r.measure, String(r.events), r.seconds.toFixed(2), r.perSecond.toFixed(0), r.p50ms.toFixed(0), r.p99ms.toFixed(0), r.cpuUsPerEvent === undefined ? '' : r.cpuUsPerEvent.toFixed(0)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string => `| ${c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

async function main(): Promise<void> {
  console.log(`pipeline benchmark: ${N} events, batches of ${BATCH}, ${PARTITIONS} partitions, brokers ${BROKERS.join(',')}`);
  const events = makeEvents();
  const payloads = events.map((e) => ({ key: e.personKey, value: encodeEvent(e) }));
  const loadBefore = loadavg()[0];
  const baseline = await rawBaseline(payloads);
  const rows = await pipeline(events);
  const all = [baseline, ...rows];
  console.log();
  printTable(all);
  const loadAfter = loadavg()[0];
  console.log(`\npipeline / raw throughput: ${((rows[0].perSecond / baseline.perSecond) * 100).toFixed(1)}%`);
  console.log(`load average (1 min): ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)}; CPU µs/event: the service's process CPU (user + system) from the first append until it had applied all, per appended record`);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `pipeline-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ N, BATCH, PARTITIONS, load: [loadBefore, loadAfter], rows: all }, null, 2));
  process.exit(0);
}

useRunSecrets();
main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
