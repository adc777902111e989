import type { RegistrationEvent } from '@qmcb/contracts';
import { EventLogProducer, openDataSource, silentLogger } from '@qmcb/event-log';
import type { EventAppender } from '@qmcb/event-log';
import { JsonLogger, closeRedisClient, createRedisClient } from '@qmcb/platform';
import { PersonalDataSealer } from '@qmcb/service-kit';
import { createTestDatabase, createTestTopic, deleteTestTopic, readAllEvents, testKafkaSettings } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import { execFile } from 'child_process';
import { mkdirSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { Readable } from 'stream';
import type { DataSource } from 'typeorm';
import { BulkLoadTables1700000001500 } from '../../migrations/1700000001500-bulk-load-tables';
import { LoadQuarantineSealed1764806500000 } from '../../migrations/1764806500000-load-quarantine-sealed';
import { sourceRecordEventId } from '../source-record-event';
import type { SourceRecordInput } from '../source-record-event';
import { BulkLoader } from './bulk-loader';
import type { BulkLoadOptions } from './bulk-loader';
import { LOAD_PROGRESS_TTL_SECONDS, RedisLoadProgress } from './load-progress';
import { LoadStore } from './load-store';
import type { LoadReport } from './load-store';
import { csvHeader, csvLine, deathRecord, householdRecord, ndjsonLine } from './testing/fixtures';
import type { PlainRecord } from './testing/fixtures';

/**
 * The bulk loader against the real broker and PostgreSQL: exact counts, exactly the good rows'
 * events on the log, each bad row quarantined with its reason, and re-sending changing nothing.
 * Its progress in the real Redis, and a Redis that cannot be reached.
 */
const GOOD = 300;
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** Nothing listens there: connections are refused. */
const UNREACHABLE_REDIS_URL = 'redis://127.0.0.1:1';
const quietLogger = new JsonLogger({ level: 'error' });

function goodRecords(): PlainRecord[] {
  const records: PlainRecord[] = [];
  for (let i = 0; i < GOOD; i += 1) records.push(i % 10 === 9 ? deathRecord(i) : householdRecord(i));
  // An invalid citizen ID is not a bad row: accepted, flagged as inaccurate information.
  records.push(householdRecord(GOOD, { citizenId: '440981198503151230', sourceRecordId: 'HJ-BAD-ID' }));
  return records;
}

/** The good rows with bad rows of every kind between them; the expected reason by line. */
function csvFile(records: PlainRecord[]): { text: string; bad: Map<number, string>; repeated: number } {
  const lines = [csvHeader()];
  const bad = new Map<number, string>();
  const addBad = (line: string, reason: string): void => {
    lines.push(line);
    bad.set(lines.length, reason);
  };
  records.forEach((r, i) => {
    lines.push(csvLine(r));
    if (i === 10) addBad(`${csvLine(householdRecord(9000))},surplus`, 'columnCount');
    if (i === 20) addBad(csvLine(householdRecord(9001)).replace('440981002001', '4409810020'), 'matches');
    if (i === 30) addBad('T-1,440981198503151235,snapshot,2026-11-01T00:00:00Z,tax,,,,,,,,,true', 'kindNotAllowed');
    if (i === 40) addBad('X-1,440981198503151235,snapshot,2026-11-01T00:00:00Z,household,"bad"x,,,,,,,,', 'csvSyntax');
    if (i === 50) addBad(csvLine(householdRecord(9002)).replace('snapshot', 'full'), 'isIn');
    if (i === 60) addBad(csvLine(householdRecord(9003)).replace('2026-11-01T00:00:00Z', 'yesterday'), 'isIso8601');
    if (i === 70) addBad(csvLine(householdRecord(9004)).replace(',household,', ',pension,'), 'isIn');
  });
  // The same row twice in one file: a duplicate, not a second event.
  lines.push(csvLine(records[5]));
  addBad('Y-1,440981198503151235,snapshot,2026-11-01T00:00:00Z,household,"never closed,,,,,,,,', 'csvUnclosedQuote');
  return { text: `${lines.join('\r\n')}\r\n`, bad, repeated: 1 };
}

const toInput = (r: PlainRecord): SourceRecordInput => r as unknown as SourceRecordInput;

describe('bulk load (real Kafka, PostgreSQL and Redis)', () => {
  let topic: string;
  let db: TestDatabase;
  let dataSource: DataSource;
  let producer: EventLogProducer;
  const sealer = PersonalDataSealer.fromEnv();

  beforeAll(async () => {
    topic = await createTestTopic(3);
    db = await createTestDatabase();
    dataSource = await openDataSource({ url: db.url, schema: 'comparison', migrations: [BulkLoadTables1700000001500, LoadQuarantineSealed1764806500000] });
    producer = await EventLogProducer.connect(testKafkaSettings(topic), { logger: silentLogger });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await dataSource?.destroy();
    await db?.drop();
    if (topic) await deleteTestTopic(topic);
  });

  const options: BulkLoadOptions = { department: 'public-security', format: 'csv', fileName: 'households.csv', actor: 'key:ps-int' };
  const loader = (appender: EventAppender = producer): BulkLoader => new BulkLoader({ dataSource, sealer, appender, chunkSize: 64, appendBatch: 20 });
  const chunks = (text: string, size = 1000): Readable => {
    const bytes = Buffer.from(text);
    const parts: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
    return Readable.from(parts);
  };

  const records = goodRecords();
  const file = csvFile(records);
  const expectedIds = new Set(records.map((r) => sourceRecordEventId('public-security', toInput(r))));
  const expectedReasons = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const reason of file.bad.values()) out[reason] = (out[reason] ?? 0) + 1;
    return out;
  };
  let firstLoadId = '';

  it('appends exactly the good rows, quarantines every bad one with its reason, and the counts add up', async () => {
    const { report, failure } = await loader().load(options, chunks(file.text, 777));
    expect(failure).toBeUndefined();
    firstLoadId = report.loadId;
    expect(report).toMatchObject({
      status: 'completed',
      rows: records.length + file.bad.size + file.repeated,
      accepted: records.length,
      duplicates: file.repeated,
      quarantined: file.bad.size,
      quarantinedByReason: expectedReasons(),
    });
    expect(report.rows).toBe(report.accepted + report.duplicates + report.quarantined);

    const events = await readAllEvents(testKafkaSettings(topic));
    expect(events).toHaveLength(records.length);
    expect(new Set(events.map((e) => e.eventId))).toEqual(expectedIds);
    const flagged = events.find((e) => e.type === 'source.record-received' && e.payload.sourceRecordId === 'HJ-BAD-ID');
    expect(flagged?.type === 'source.record-received' && flagged.payload.citizenIdValid).toBe(false);
    expect(events.every((e) => e.correlationId === report.loadId && e.actor === 'key:ps-int')).toBe(true);

    const store = new LoadStore(dataSource, sealer);
    const quarantine = await store.quarantine(report.loadId, 100, 0);
    expect(quarantine.total).toBe(file.bad.size);
    expect(new Map(quarantine.items.map((q) => [q.line, q.reason]))).toEqual(file.bad);
    const syntax = quarantine.items.find((q) => q.reason === 'csvSyntax');
    expect(syntax?.raw).toBe('X-1,440981198503151235,snapshot,2026-11-01T00:00:00Z,household,"bad"x,,,,,,,,');
    // At rest the line is sealed (ADR 0011): no column of a quarantined row shows the citizen ID,
    // and the ID's person ref is there for an erasure to find the line.
    // (The sealed bytes and refs apart: their hex or base64 text holds `bad` by chance, the hex in about one run in twenty.)
    const stored: { text: string; raw: string | null; raw_sealed: Buffer; person_refs: string[] }[] = await dataSource.query(
      `SELECT (to_jsonb(q) - 'raw_sealed' - 'person_refs')::text AS text, raw, raw_sealed, person_refs FROM load_quarantine q WHERE load_id = $1 AND line = $2`,
      [report.loadId, syntax?.line],
    );
    expect(stored.map((r) => [r.raw, r.text.includes('440981198503151235'), r.text.includes('bad')])).toEqual([[null, false, false]]);
    expect(stored.map((r) => [r.raw_sealed.includes(Buffer.from('440981198503151235')), r.raw_sealed.includes(Buffer.from('"bad"x'))])).toEqual([[false, false]]);
    expect(stored[0]?.person_refs).toEqual([await sealer.personRef('440981198503151235')]);
    const village = quarantine.items.find((q) => q.reason === 'matches');
    expect(village?.violations).toEqual([{ field: 'facts.villageCode', rule: 'matches', message: 'facts.villageCode must be a 12-digit village/community code' }]);
    expect(await store.report(report.loadId)).toEqual({ ...report, durationMs: expect.any(Number) });
    const [{ n }] = await dataSource.query(`SELECT count(*)::int AS n FROM ingested_record WHERE load_id = $1`, [report.loadId]);
    expect(n).toBe(records.length);
  });

  it('re-sending the same file appends nothing and reports every good row as a duplicate', async () => {
    const before = await readAllEvents(testKafkaSettings(topic));
    const { report } = await loader().load(options, chunks(file.text, 4096));
    expect(report).toMatchObject({
      status: 'completed',
      rows: records.length + file.bad.size + file.repeated,
      accepted: 0,
      duplicates: records.length + file.repeated,
      quarantined: file.bad.size,
    });
    expect(report.loadId).not.toBe(firstLoadId);
    const after = await readAllEvents(testKafkaSettings(topic));
    expect(after.map((e) => e.eventId)).toEqual(before.map((e) => e.eventId));
  });

  it('an NDJSON file of the same records has the same event IDs: all duplicates, nothing appended', async () => {
    const before = await readAllEvents(testKafkaSettings(topic));
    const ndjson = `${records.map(ndjsonLine).join('\n')}\n`;
    const { report } = await loader().load({ ...options, format: 'ndjson' }, chunks(ndjson, 500));
    expect(report).toMatchObject({ status: 'completed', rows: records.length, accepted: 0, duplicates: records.length, quarantined: 0 });
    expect((await readAllEvents(testKafkaSettings(topic))).length).toBe(before.length);
  });

  it('records event IDs only after the log acknowledged them: a crash in between re-appends that chunk, nothing is lost', async () => {
    const fresh = Array.from({ length: 200 }, (_, i) => householdRecord(20_000 + i));
    const text = `${[csvHeader(), ...fresh.map((r) => csvLine(r))].join('\n')}\n`;
    const beforeIds = new Set((await readAllEvents(testKafkaSettings(topic))).map((e) => e.eventId));
    const before = beforeIds.size;
    // Appends the third batch, then "crashes" before the loader hears the acknowledgement.
    let calls = 0;
    const crashing: EventAppender = {
      append: async (events: RegistrationEvent[]) => {
        calls += 1;
        await producer.append(events);
        if (calls === 3) throw new Error('connection lost after the send');
      },
    };
    const crashed = await loader(crashing).load(options, chunks(text));
    expect(crashed.failure?.kind).toBe('unavailable');
    expect(crashed.report.status).toBe('failed');
    // 64 rows per chunk in batches of 20: the first chunk (4 appends) never got recorded.
    expect(crashed.report).toMatchObject({ rows: 0, accepted: 0, duplicates: 0, quarantined: 0 });
    expect((await readAllEvents(testKafkaSettings(topic))).length).toBe(before + 60);

    const retried = await loader().load(options, chunks(text));
    expect(retried.report).toMatchObject({ status: 'completed', rows: 200, accepted: 200, duplicates: 0 });
    const after = await readAllEvents(testKafkaSettings(topic));
    // The 60 appended before the crash are on the log twice, with the same event IDs: consumers skip the repeats.
    expect(after.length).toBe(before + 260);
    const added = after.filter((e) => !beforeIds.has(e.eventId));
    expect(added).toHaveLength(260);
    expect(new Set(added.map((e) => e.eventId))).toEqual(new Set(fresh.map((r) => sourceRecordEventId('public-security', toInput(r)))));
  });

  it('a CSV file without a header fails the load, appending nothing', async () => {
    const before = (await readAllEvents(testKafkaSettings(topic))).length;
    const { report, failure } = await loader().load(options, chunks(`${csvLine(householdRecord(40_000))}\n`));
    expect(failure?.kind).toBe('input');
    expect(report).toMatchObject({ status: 'failed', rows: 0 });
    expect(report.error).toMatch(/neither a record column/);
    expect((await readAllEvents(testKafkaSettings(topic))).length).toBe(before);
  });

  it('an upload cut off mid-file fails the load; the whole rows before the cut are loaded', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => householdRecord(50_000 + i));
    const text = `${[csvHeader(), ...rows.map((r) => csvLine(r))].join('\n')}\n`;
    const cut = text.indexOf(rows[6].sourceRecordId);
    async function* interrupted(): AsyncGenerator<Buffer> {
      yield Buffer.from(text.slice(0, cut + 5));
      throw new Error('aborted');
    }
    const { report, failure } = await loader().load(options, interrupted());
    expect(failure?.kind).toBe('input');
    expect(report).toMatchObject({ status: 'failed', rows: 6, accepted: 6 });
  });

  it('a load stopped from outside (service shutdown) ends failed after recording the rows it read, even while the client stalls', async () => {
    const rows = Array.from({ length: 100 }, (_, i) => householdRecord(70_000 + i));
    const text = `${[csvHeader(), ...rows.map((r) => csvLine(r))].join('\n')}\n`;
    let stalled!: () => void;
    const reachedStall = new Promise<void>((resolve) => (stalled = resolve));
    async function* stallingClient(): AsyncGenerator<Buffer> {
      yield Buffer.from(text);
      stalled();
      await new Promise(() => undefined);
    }
    const abort = new AbortController();
    const started = await loader().start({ ...options, signal: abort.signal }, stallingClient());
    await reachedStall;
    abort.abort();
    const { report, failure } = await started.done;
    expect(failure?.kind).toBe('unavailable');
    expect(report).toMatchObject({ status: 'failed', rows: 100, accepted: 100 });
    expect(report.error).toMatch(/the service stopped/);
    expect((await new LoadStore(dataSource, sealer).report(report.loadId))?.status).toBe('failed');
  });

  it('npm run load: the same pipeline from the command line, progress on stderr, the report on stdout', async () => {
    const root = join(__dirname, '..', '..', '..', '..', '..');
    const dir = join(root, 'tmp', `bulk-load-cli-${topic}`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'deaths.ndjson');
    const rows = Array.from({ length: 25 }, (_, i) => deathRecord(60_000 + i));
    writeFileSync(file, `${[...rows.map(ndjsonLine), 'not json'].join('\n')}\n`);
    const run = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          ['-r', join(root, 'tools', 'register.js'), join(root, 'services', 'comparison', 'src', 'load-cli.ts'), ...args],
          { cwd: root, env: { ...process.env, DATABASE_URL: db.url, LOG_TOPIC: topic, LOG_LEVEL: 'warn' }, timeout: 120_000 },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });
    try {
      const before = (await readAllEvents(testKafkaSettings(topic))).length;
      const done = await run(['--department', 'civil-affairs', '--file', file, '--every', '10']);
      expect(done.code).toBe(0);
      const report = JSON.parse(done.stdout);
      expect(report).toMatchObject({ status: 'completed', department: 'civil-affairs', format: 'ndjson', fileName: 'deaths.ndjson', rows: 26, accepted: 25, quarantined: 1, quarantinedByReason: { json: 1 } });
      expect(done.stderr).toMatch(new RegExp(`load ${report.loadId}: 26 rows \\(25 accepted, 0 duplicates, 1 quarantined\\), \\d+ rows/s`));
      expect(done.stderr).not.toContain(rows[0].citizenId);
      expect((await readAllEvents(testKafkaSettings(topic))).length).toBe(before + 25);
      expect(await new LoadStore(dataSource, sealer).report(report.loadId)).toEqual({ ...report, durationMs: expect.any(Number) });

      const usage = await run(['--department', 'nobody', '--file', file]);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toMatch(/usage: npm run load/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the report in Redis while the load runs, then the final report, for a week', async () => {
    const redis = await createRedisClient({ url: REDIS_URL, connectionName: 'bulk-load-int-spec' }, quietLogger);
    try {
      const progress = new RedisLoadProgress(redis, (e) => {
        throw e;
      });
      const reads: Promise<{ report: LoadReport; at: number } | null>[] = [];
      const rows = Array.from({ length: 150 }, (_, i) => householdRecord(80_000 + i));
      const text = `${[csvHeader(), ...rows.map((r) => csvLine(r))].join('\n')}\n`;
      const { report, failure } = await new BulkLoader({
        dataSource,
        sealer,
        appender: producer,
        chunkSize: 64,
        appendBatch: 20,
        progress,
        // Called right after each report was published: read it back then.
        onProgress: (published) => reads.push(progress.read(published.loadId)),
      }).load(options, chunks(text));
      expect(failure).toBeUndefined();
      expect(report).toMatchObject({ status: 'completed', rows: 150, accepted: 150 });

      const seen = (await Promise.all(reads)).map((r) => r && [r.report.status, r.report.rows]);
      expect(seen).toEqual([
        ['running', 64],
        ['running', 128],
        ['running', 150],
        ['completed', 150],
      ]);
      expect(await progress.read(report.loadId)).toEqual({ at: expect.any(Number), report: JSON.parse(JSON.stringify(report)) });
      const ttl = await redis.ttl(`qmcb:comparison:load:${report.loadId}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(LOAD_PROGRESS_TTL_SECONDS);
      await redis.del(`qmcb:comparison:load:${report.loadId}`);
    } finally {
      await closeRedisClient(redis);
    }
  });

  it('a Redis that cannot be reached never fails a load: it completes, recorded in PostgreSQL, and the errors are reported', async () => {
    const redis = await createRedisClient({ url: UNREACHABLE_REDIS_URL, connectionName: 'bulk-load-int-spec-unreachable' }, quietLogger);
    try {
      const errors = new Set<string>();
      const progress = new RedisLoadProgress(redis, (e) => errors.add(e.message));
      const rows = Array.from({ length: 100 }, (_, i) => householdRecord(81_000 + i));
      const text = `${[csvHeader(), ...rows.map((r) => csvLine(r))].join('\n')}\n`;
      const { report, failure } = await new BulkLoader({ dataSource, sealer, appender: producer, chunkSize: 64, appendBatch: 20, progress }).load(options, chunks(text));
      expect(failure).toBeUndefined();
      expect(report).toMatchObject({ status: 'completed', rows: 100, accepted: 100, duplicates: 0, quarantined: 0 });
      expect(await new LoadStore(dataSource, sealer).report(report.loadId)).toEqual({ ...report, durationMs: expect.any(Number) });
      expect(await progress.read(report.loadId)).toBeNull();
      expect([...errors]).toEqual(['The client is offline']);
    } finally {
      await closeRedisClient(redis);
    }
  });
});
