/**
 * Rebuild benchmark (issue 11): events per second of `npm run projection -- <service> rebuild` for each
 * of the four services, over a log the live services wrote (household records appended, comparison's
 * outcomes and survey tasking's tasks relayed), beside a raw read of the same topic in the same run.
 * Not part of the test run: `flock /tmp/qmcb-bench.lock npm run bench:rebuild` (bench/README.md).
 */
import type { SOURCE_RECORD_RECEIVED } from '@qmcb/contracts';
import type { EventOf } from '@qmcb/contracts';
import { checkCharacter, villagesOf } from '@qmcb/domain';
import { EventLogProducer, readTopic } from '@qmcb/event-log';
import { SERVICES, createTestDatabase, createTestTopic, deleteTestTopic, startStack, testKafkaSettings } from '@qmcb/testing';
import type { ServiceName, TestDatabase } from '@qmcb/testing';
import { spawn } from 'child_process';
import { randomBytes } from 'crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { householdRecordEvent, profileEnv, useRunSecrets } from './support';
import { Client } from 'pg';

const N = Number(process.env.BENCH_EVENTS ?? 20_000);
const BATCH = 500;
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const COUNTY = '440981';
const ROOT = join(__dirname, '..');
const LOGS = join(__dirname, 'results', 'logs', 'rebuild');
const SECRETS = {
  AUTH_JWT_SECRET: randomBytes(32).toString('base64url'),
  API_KEY_SECRET: randomBytes(32).toString('base64url'),
  PERSON_ID_SECRET: randomBytes(32).toString('base64url'),
};

interface Row {
  measure: string;
  events: number;
  seconds: number;
  perSecond: number;
  /** Events per second while consuming (first progress line to the last), without start-up, migrations and swap. */
  steadyPerSecond: number | null;
}

function householdEvents(): EventOf<typeof SOURCE_RECORD_RECEIVED>[] {
  const villages = villagesOf(COUNTY).map((v) => v.code);
  const now = new Date().toISOString();
  return Array.from({ length: N }, (_, i) => {
    const birth = new Date(Date.UTC(1940, 0, 1) + (i % 20_000) * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
    const first17 = `${COUNTY}${birth}${String(Math.floor(i / 20_000) % 1000).padStart(3, '0')}`;
    const citizenId = `${first17}${checkCharacter(first17)}`;
    return householdRecordEvent({ idPrefix: 'bench-rebuild', index: i, sourceRecordId: `R-${i}`, citizenId, villageCode: villages[i % villages.length] as string, sex: i % 2 ? 'male' : 'female', now });
  });
}

async function count(c: Client, q: string): Promise<number> {
  const { rows } = await c.query(q);
  return Number(rows[0].n);
}

/** BENCH_REBUILD_NODE_OPTIONS: Node options for the rebuild commands only (say `--max-semi-space-size=64`). */
function rebuildNodeOptions(): NodeJS.ProcessEnv {
  const extra = process.env.BENCH_REBUILD_NODE_OPTIONS;
  return extra ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${extra}`.trim() } : {};
}

/** Runs `<service> rebuild` as the operator does; times the whole command and its consuming part. */
function rebuild(service: ServiceName, env: NodeJS.ProcessEnv): Promise<{ seconds: number; steady: { events: number; seconds: number } | null; applied: number }> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(join(LOGS, `${service}-rebuild.log`));
    const t0 = Date.now();
    const child = spawn(process.execPath, ['-r', join(ROOT, 'tools/register.js'), join(ROOT, `services/${service}/src/cli.ts`), 'rebuild'], {
      cwd: ROOT,
      env: { ...process.env, ...env, ...rebuildNodeOptions(), ...profileEnv(`${service}-rebuild`, service, rebuildNodeOptions().NODE_OPTIONS ?? process.env.NODE_OPTIONS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let first: { at: number; applied: number } | null = null;
    let last: { at: number; applied: number } | null = null;
    let applied = 0;
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out.write(chunk);
      buffer += chunk.toString('utf8');
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const progress = /: (\d+)\/(\d+) events$/.exec(line);
        if (progress) {
          const p = { at: Date.now(), applied: Number(progress[1]) };
          first ??= p;
          last = p;
        }
        const done = /done, (\d+) events applied/.exec(line);
        if (done) applied = Number(done[1]);
      }
    });
    child.stderr.pipe(out);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${service} rebuild exited with ${code}; see ${LOGS}/${service}-rebuild.log`));
      const f = first as { at: number; applied: number } | null;
      const l = last as { at: number; applied: number } | null;
      const steady = f && l && l.at > f.at ? { events: l.applied - f.applied, seconds: (l.at - f.at) / 1000 } : null;
      resolve({ seconds: (Date.now() - t0) / 1000, steady, applied });
    });
  });
}

async function main(): Promise<void> {
  console.log(`rebuild benchmark: ${N} household records appended, ${PARTITIONS} partitions; the live services write their outcomes and tasks, then each projection is rebuilt`);
  mkdirSync(LOGS, { recursive: true });
  const topic = await createTestTopic(PARTITIONS);
  const dbs = {} as Record<ServiceName, TestDatabase>;
  for (const s of SERVICES) dbs[s.name] = await createTestDatabase();
  const suffix = topic.slice(-8);
  const env = (name: ServiceName): NodeJS.ProcessEnv => ({
    DATABASE_URL: dbs[name].url,
    LOG_TOPIC: topic,
    LOG_PARTITIONS: String(PARTITIONS),
    CONSUMER_GROUP: `${name}-rebuild-bench-${suffix}`,
    LOG_LEVEL: 'warn',
    ...SECRETS,
  });
  const clients = {} as Record<ServiceName, Client>;
  try {
    // 1. The log, as the live services leave it.
    const stack = await startStack({ logDir: LOGS, ports: { comparison: 3331, 'survey-tasking': 3332, review: 3333, 'dynamic-update': 3334 }, env, startTimeoutMs: 300_000 });
    try {
      for (const s of SERVICES) {
        clients[s.name] = new Client({ connectionString: dbs[s.name].url });
        await clients[s.name].connect();
      }
      const producer = await EventLogProducer.connect(testKafkaSettings(topic, PARTITIONS, 'bench-rebuild'));
      const events = householdEvents();
      for (let i = 0; i < events.length; i += BATCH) await producer.append(events.slice(i, i + BATCH));
      await producer.disconnect();
      let stable = 0;
      let previous = -1;
      const deadline = Date.now() + 30 * 60_000;
      while (stable < 3) {
        if (Date.now() > deadline) throw new Error('the live services did not settle within 30 minutes');
        await new Promise((r) => setTimeout(r, 2_000));
        const counts = await Promise.all(SERVICES.map((s) => count(clients[s.name], `SELECT count(*) AS n FROM ${s.schema}.applied_event`)));
        const pending = await Promise.all(SERVICES.map((s) => count(clients[s.name], `SELECT count(*) AS n FROM ${s.schema}.outbox WHERE published_at IS NULL`)));
        const settled = counts.every((c) => c === counts[0]) && pending.every((p) => p === 0) && counts[0] >= N;
        stable = settled && counts[0] === previous ? stable + 1 : 0;
        previous = counts[0];
      }
      console.log(`the live services settled: ${previous} events on the log applied by all four`);
      // Storage per service (for docs/operations/capacity.md): the biggest tables and their rows.
      const sizes: Record<string, { table: string; rows: number; bytes: number }[]> = {};
      for (const s of SERVICES) {
        await clients[s.name].query('VACUUM ANALYZE');
        const { rows } = await clients[s.name].query(
          `SELECT c.relname AS table, c.reltuples::bigint AS rows, pg_total_relation_size(c.oid) AS bytes
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 6`,
          [s.schema],
        );
        sizes[s.name] = rows.map((r: { table: string; rows: string; bytes: string }) => ({ table: r.table, rows: Number(r.rows), bytes: Number(r.bytes) }));
        console.log(`${s.name}: ${sizes[s.name].map((t) => `${t.table} ${t.rows} rows ${(t.bytes / 1048576).toFixed(1)} MB (${t.rows ? Math.round(t.bytes / t.rows) : '-'} B/row)`).join('; ')}`);
      }
      writeFileSync(join(LOGS, 'sizes.json'), JSON.stringify(sizes, null, 2));
    } finally {
      await stack.stop();
    }

    // 2. Baseline: a raw read of the whole topic (kafkajs, no decoding, no PostgreSQL).
    const settings = testKafkaSettings(topic, PARTITIONS, 'bench-rebuild-read');
    const r0 = Date.now();
    const records = await readTopic(settings, topic);
    const readSeconds = (Date.now() - r0) / 1000;
    const rows: Row[] = [{ measure: 'baseline: raw read of the topic (kafkajs, throw-away group)', events: records.length, seconds: readSeconds, perSecond: records.length / readSeconds, steadyPerSecond: null }];

    // 3. Each projection rebuilt by its operator command, one after another, nothing else running.
    for (const s of SERVICES) {
      const r = await rebuild(s.name, env(s.name));
      rows.push({
        measure: `rebuild ${s.name} (npm run projection -- ${s.name} rebuild)`,
        events: r.applied,
        seconds: r.seconds,
        perSecond: r.applied / r.seconds,
        steadyPerSecond: r.steady ? r.steady.events / r.steady.seconds : null,
      });
    }
    console.log();
    const header = ['measure', 'events', 'seconds', 'events/s (command)', 'events/s (consuming)'];
    const cells = rows.map((r) => [r.measure, String(r.events), r.seconds.toFixed(1), r.perSecond.toFixed(0), r.steadyPerSecond === null ? '' : r.steadyPerSecond.toFixed(0)]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c: string[]): string => `| ${c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(' | ')} |`;
    console.log(line(header));
    console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
    for (const c of cells) console.log(line(c));
    console.log('\n"command": from starting the process to its "done" (start-up, migrations of the rebuild schema, consuming, swap); "consuming": between its first and last progress lines.');
    const dir = join(__dirname, 'results');
    writeFileSync(join(dir, `rebuild-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ N, PARTITIONS, rows }, null, 2));
  } finally {
    await Promise.all(Object.values(clients).map((c) => c.end()));
    for (const db of Object.values(dbs)) await db.drop();
    await deleteTestTopic(topic);
  }
  process.exit(0);
}

useRunSecrets();
main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
