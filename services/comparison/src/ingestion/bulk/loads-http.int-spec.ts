import type { INestApplication } from '@nestjs/common';
import { mintApiKey, mintToken } from '@qmcb/auth';
import { SOURCE_RECORD_RECEIVED, deterministicId } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import { checkCharacter, foldEvents } from '@qmcb/domain';
import { PersonRecordRepository } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import { ExchangeService } from '../../exchange/exchange.service';
import { DEFAULT_REQUEST_TIMEOUT_MS, RouteTableHolder } from '@qmcb/platform';
import { randomBytes } from 'crypto';
import { createServiceTestingApp } from '@qmcb/service-kit';
import { loadServiceConfig } from '@qmcb/service-kit';
import { createTestDatabase, createTestTopic, deleteTestTopic, readAllEvents, testKafkaSettings, waitFor } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import { createReadStream, createWriteStream, mkdirSync, rmSync, statSync } from 'fs';
import { request } from 'http';
import type { AddressInfo } from 'net';
import { join } from 'path';
import { once } from 'events';
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';
import type { Server } from 'http';
import { ComparisonModule } from '../../comparison.module';
import { LOAD_REQUEST_TIMEOUT_MS } from './loads.controller';
import { csvHeader, csvLine, householdRecord, ndjsonLine } from './testing/fixtures';
import type { PlainRecord } from './testing/fixtures';

/**
 * POST /loads, GET /loads/:id and its quarantine over HTTP, with the service's own module on the
 * real broker, PostgreSQL and Redis; and the Idempotency-Key of POST /records.
 */
const KEY_SECRET = randomBytes(32).toString('base64url');
const TMP = join(__dirname, '..', '..', '..', '..', '..', 'tmp', 'bulk-load-int');

// HTTP answers are asserted field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('bulk load over HTTP', () => {
  let app: INestApplication;
  let baseUrl: string;
  let topic: string;
  let db: TestDatabase;
  const publicSecurity = { 'x-api-key': mintApiKey('public-security', 'ps-int', KEY_SECRET) };
  const tax = { 'x-api-key': mintApiKey('tax', 'tax-int', KEY_SECRET) };

  beforeAll(async () => {
    // The export's stall timeout is read when the service starts: short here, so a stalled reader is cut off quickly.
    process.env['EXPORT_STALL_TIMEOUT_MS'] = '1000';
    topic = await createTestTopic(3);
    db = await createTestDatabase();
    const { config, kafka } = loadServiceConfig('comparison', {
      ...process.env,
      DATABASE_URL: db.url,
      LOG_TOPIC: topic,
      CONSUME: 'false',
      RELAY_OUTBOX: 'false',
      KAFKA_ENSURE_TOPICS: 'false',
      API_KEY_SECRET: KEY_SECRET,
    });
    app = await createServiceTestingApp(ComparisonModule.register(config, kafka));
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    mkdirSync(TMP, { recursive: true });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
    if (topic) await deleteTestTopic(topic);
    rmSync(TMP, { recursive: true, force: true });
  });

  async function call(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: Json; headers: Headers }> {
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  }

  const csv = (records: PlainRecord[], extra: string[] = []): string => `${[csvHeader(), ...records.map((r) => csvLine(r)), ...extra].join('\n')}\n`;

  it('loads a CSV file: 201 with the report, then GET /loads/:id and its quarantine, page by page', async () => {
    const records = Array.from({ length: 40 }, (_, i) => householdRecord(i));
    const bad = [`${csvLine(householdRecord(100))},surplus`, csvLine(householdRecord(101)).replace('normal', 'gone'), 'Z-1,x,snapshot,2026-11-01T00:00:00Z,household,"a"b,,,,,,,,'];
    const posted = await call('POST', '/loads?fileName=households.csv', { ...publicSecurity, 'content-type': 'text/csv; charset=utf-8' }, csv(records, bad));
    expect(posted.status).toBe(201);
    expect(posted.body).toMatchObject({
      status: 'completed',
      department: 'public-security',
      format: 'csv',
      fileName: 'households.csv',
      rows: 43,
      accepted: 40,
      duplicates: 0,
      quarantined: 3,
      quarantinedByReason: { columnCount: 1, isIn: 1, csvSyntax: 1 },
    });
    const loadId: string = posted.body.loadId;
    expect(posted.headers.get('location')).toBe(`/loads/${loadId}`);

    const got = await call('GET', `/loads/${loadId}`, publicSecurity);
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ ...posted.body, durationMs: expect.any(Number) });

    const page1 = await call('GET', `/loads/${loadId}/quarantine?limit=2`, publicSecurity);
    expect(page1.status).toBe(200);
    expect(page1.body).toMatchObject({ loadId, total: 3, limit: 2, offset: 0 });
    expect(page1.body.items.map((i: Json) => [i.line, i.reason])).toEqual([
      [42, 'columnCount'],
      [43, 'isIn'],
    ]);
    expect(page1.body.items[1]).toEqual({
      line: 43,
      reason: 'isIn',
      raw: bad[1],
      violations: [{ field: 'facts.status', rule: 'isIn', message: 'facts.status must be one of the following values: normal, moved-out, deceased, military, prison' }],
    });
    const page2 = await call('GET', `/loads/${loadId}/quarantine?limit=2&offset=2`, publicSecurity);
    expect(page2.body.items.map((i: Json) => [i.line, i.reason, i.raw])).toEqual([[44, 'csvSyntax', bad[2]]]);
    expect((await call('GET', `/loads/${loadId}/quarantine?limit=0`, publicSecurity)).status).toBe(400);

    // Another department's key sees no such load.
    expect((await call('GET', `/loads/${loadId}`, tax)).body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    expect((await call('GET', `/loads/${loadId}/quarantine`, tax)).status).toBe(404);
    expect((await call('GET', `/loads/00000000-0000-4000-8000-000000000000`, publicSecurity)).status).toBe(404);
    expect((await call('GET', `/loads/nope`, publicSecurity)).status).toBe(400);

    // Re-sending the file appends nothing.
    const events = (await readAllEvents(testKafkaSettings(topic))).length;
    const again = await call('POST', '/loads', { ...publicSecurity, 'content-type': 'text/csv' }, csv(records, bad));
    expect(again.body).toMatchObject({ status: 'completed', rows: 43, accepted: 0, duplicates: 40, quarantined: 3 });
    expect((await readAllEvents(testKafkaSettings(topic))).length).toBe(events);
  });

  it('a department may load only the kinds it states: the rows of others are quarantined', async () => {
    const posted = await call('POST', '/loads', { ...tax, 'content-type': 'text/csv' }, csv([householdRecord(200), householdRecord(201)]));
    expect(posted.status).toBe(201);
    expect(posted.body).toMatchObject({ department: 'tax', rows: 2, accepted: 0, quarantined: 2, quarantinedByReason: { kindNotAllowed: 2 } });
    const q = await call('GET', `/loads/${posted.body.loadId}/quarantine`, tax);
    expect(q.body.items[0].violations).toEqual([{ field: 'facts.kind', rule: 'kindNotAllowed', message: "facts.kind 'household' may not be sent by department 'tax'" }]);
  });

  it('with ?async=true answers 202 at once and the load runs on; GET shows it through to the end', async () => {
    const records = Array.from({ length: 30 }, (_, i) => householdRecord(300 + i));
    const body = `${[...records.map(ndjsonLine), '{"not": "closed"'].join('\n')}\n`;
    const posted = await call('POST', '/loads?async=true', { ...publicSecurity, 'content-type': 'application/x-ndjson' }, body);
    expect(posted.status).toBe(202);
    expect(posted.body).toMatchObject({ status: 'running', format: 'ndjson', rows: 0 });
    const done = await waitFor(async () => {
      const r = await call('GET', `/loads/${posted.body.loadId}`, publicSecurity);
      return r.body.status === 'completed' ? r.body : undefined;
    }, { message: 'the load to complete' });
    expect(done).toMatchObject({ rows: 31, accepted: 30, quarantined: 1, quarantinedByReason: { json: 1 } });
  });

  it('lets a synchronous load hold its request for an hour, and only that route: the exports have 30 minutes, every other one 30 seconds', () => {
    // Node's own deadline is the longest any route allows; each route's is enforced per request.
    expect((app.getHttpServer() as Server).requestTimeout).toBeGreaterThanOrEqual(LOAD_REQUEST_TIMEOUT_MS);
    const table = app.get(RouteTableHolder).table;
    expect(table?.find('POST', '/loads')?.timeoutMs).toBe(LOAD_REQUEST_TIMEOUT_MS);
    const others = (table?.routes ?? []).filter((r) => !(r.method === 'POST' && r.path === '/loads')).map((r) => [`${r.method} ${r.path}`, r.timeoutMs]);
    expect(Object.fromEntries(others)).toEqual({
      'POST /records': 120_000,
      'GET /loads/:id': DEFAULT_REQUEST_TIMEOUT_MS,
      'GET /loads/:id/quarantine': DEFAULT_REQUEST_TIMEOUT_MS,
      'GET /persons/:personId': DEFAULT_REQUEST_TIMEOUT_MS,
      'POST /persons/lookup': DEFAULT_REQUEST_TIMEOUT_MS,
      'GET /flags': DEFAULT_REQUEST_TIMEOUT_MS,
      'GET /flags/summary': DEFAULT_REQUEST_TIMEOUT_MS,
      'GET /exchange/non-local-insured': 30 * 60_000,
      'GET /statistics/coverage': DEFAULT_REQUEST_TIMEOUT_MS,
      'GET /statistics/changes': DEFAULT_REQUEST_TIMEOUT_MS,
      'GET /statistics/details': DEFAULT_REQUEST_TIMEOUT_MS,
      'GET /statistics/details/export': 30 * 60_000,
      'GET /statistics/report': DEFAULT_REQUEST_TIMEOUT_MS,
      'POST /audit/search': DEFAULT_REQUEST_TIMEOUT_MS,
      'GET /health': DEFAULT_REQUEST_TIMEOUT_MS,
      'GET /health/live': DEFAULT_REQUEST_TIMEOUT_MS,
    });
  });

  it('accepts a batch of 5,000 records, the documented limit (the old 100 kB body limit refused 1,000), and refuses a body over 16 MiB with 413', async () => {
    const records = Array.from({ length: 5000 }, (_, i) => householdRecord(2_000_000 + i));
    const body = JSON.stringify({ records });
    expect(body.length).toBeGreaterThan(1024 * 1024);
    const before = (await readAllEvents(testKafkaSettings(topic))).length;
    const accepted = await call('POST', '/records', { ...publicSecurity, 'content-type': 'application/json' }, body);
    expect(accepted.status).toBe(202);
    expect(accepted.body.accepted).toBe(5000);
    expect((await readAllEvents(testKafkaSettings(topic))).length).toBe(before + 5000);
    const tooMany = await call('POST', '/records', { ...publicSecurity, 'content-type': 'application/json' }, JSON.stringify({ records: [...records, householdRecord(3_000_000)] }));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.violations).toEqual([{ field: 'records', rule: 'arrayMaxSize', message: 'records must contain no more than 5000 elements' }]);
    const huge = JSON.stringify({ records: [{ ...householdRecord(1), facts: { ...householdRecord(1).facts, address: 'x'.repeat(17 * 1024 * 1024) } }] });
    const tooLarge = await call('POST', '/records', { ...publicSecurity, 'content-type': 'application/json' }, huge);
    const tooBig = `body must not be larger than the ${16 * 1024 * 1024} bytes this route accepts`;
    expect(tooLarge).toMatchObject({ status: 413, body: { statusCode: 413, code: 'VALIDATION_FAILED', message: tooBig, violations: [{ field: 'body', rule: 'maxBytes', message: tooBig }] } });
  });

  it('answers 400 (not 500) to a JSON body nested 10,000 levels deep, appending nothing', async () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const before = (await readAllEvents(testKafkaSettings(topic))).length;
    const res = await call('POST', '/records', { ...publicSecurity, 'content-type': 'application/json' }, `{"records":[{"sourceRecordId":"D-1","facts":${deep}}]}`);
    const tooDeep = 'body must not nest JSON deeper than 32 levels (deeper at character 73)';
    expect(res).toMatchObject({ status: 400, body: { statusCode: 400, code: 'VALIDATION_FAILED', message: tooDeep, violations: [{ field: 'body', rule: 'maxDepth', message: tooDeep }] } });
    expect((await readAllEvents(testKafkaSettings(topic))).length).toBe(before);
  });

  it('quarantines a row nested 10,000 levels deep in a bulk load and loads the good rows beside it', async () => {
    const good = [householdRecord(500), householdRecord(501)];
    const deepRow = `{"sourceRecordId":"D-2","citizenId":"${householdRecord(502).citizenId}","mode":"snapshot","asOf":"2026-11-01T00:00:00Z","facts":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const ndjson = `${ndjsonLine(good[0] as PlainRecord)}
${deepRow}
${ndjsonLine(good[1] as PlainRecord)}
`;
    const res = await call('POST', '/loads', { ...publicSecurity, 'content-type': 'application/x-ndjson' }, ndjson);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'completed', rows: 3, accepted: 2, quarantined: 1, quarantinedByReason: { maxDepth: 1 } });
    const quarantine = await call('GET', `/loads/${res.body.loadId}/quarantine`, publicSecurity);
    expect(quarantine.body.items).toEqual([
      { line: 2, reason: 'maxDepth', raw: deepRow.slice(0, 8 * 1024), violations: [{ field: '(record)', rule: 'maxDepth', message: 'the record is nested deeper than 16 levels' }] },
    ]);
  });

  it('cuts off an export whose reader stops reading: the slot is freed, the transaction ended, the end audited as aborted', async () => {
    // 20,000 people insured here without a household anywhere: a file far larger than the socket buffers.
    const county = '440981';
    const records: RegistrationRecord[] = [];
    for (let i = 0; i < 20_000; i += 1) {
      const first17 = `440106${1950 + Math.floor(i / 1000)}0101${String(i % 1000).padStart(3, '0')}`;
      const id = `${first17}${checkCharacter(first17)}`;
      const record = foldEvents([
        {
          eventId: deterministicId('stall', id),
          type: SOURCE_RECORD_RECEIVED,
          schemaVersion: 1,
          personKey: id,
          occurredAt: '2026-11-01T00:00:00.000Z',
          recordedAt: '2026-11-01T00:00:00.000Z',
          source: 'dept:social-insurance',
          actor: 'int',
          correlationId: 'int',
          causationId: null,
          basedOnVersion: null,
          payload: {
            department: 'social-insurance', sourceRecordId: `s-${i}`, mode: 'snapshot', citizenIdAsSent: id, citizenIdValid: true, asOf: '2026-11-01T00:00:00.000Z',
            facts: { kind: 'insurance', insuranceType: 'pension', scheme: 'employee', status: 'active', region: county, name: `参保人${i}`, address: '广东省高州市潘州街道工业园宿舍'.repeat(4) },
          },
        } as never,
      ]);
      if (record) records.push(record);
    }
    const dataSource = app.get(DataSource);
    await dataSource.transaction((m) => app.get(PersonRecordRepository).saveMany(m, records));
    const exchange = app.get(ExchangeService);
    const approver = `Bearer ${mintToken({ sub: 'county-stall', name: 'county-stall', role: 'county-approver', division: county, ttlSeconds: 600 }, process.env['AUTH_JWT_SECRET'] as string)}`;

    const stalled = await new Promise<{ status: number; destroy: () => void }>((resolve, reject) => {
      const req = request(`${baseUrl}/exchange/non-local-insured?region=${county}`, { headers: { authorization: approver } }, (res) => {
        // Reads the status line and then nothing more, keeping the connection open.
        res.pause();
        resolve({ status: res.statusCode ?? 0, destroy: () => req.destroy() });
      });
      req.on('error', () => undefined);
      req.once('error', reject);
      req.end();
    });
    expect(stalled.status).toBe(200);
    expect(exchange.runningExports).toBe(1);
    await waitFor(() => exchange.runningExports === 0, { timeoutMs: 20_000, message: 'the export slot freed' });
    stalled.destroy();
    const idle = await dataSource.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'`);
    expect(idle).toEqual([{ n: 0 }]);
    const ended = await waitFor(async () => {
      const rows: { result: string; count: number }[] = await dataSource.query(
        `SELECT result, ((entry::jsonb)->>'count')::int AS count FROM audit.audit_event WHERE actor = 'user:county-stall' AND result IN ('ok', 'aborted') ORDER BY audit_event.seq`,
      );
      return rows.length ? rows : undefined;
    }, { message: "the export's final audit entry" });
    expect(ended).toEqual([{ result: 'aborted', count: expect.any(Number) }]);
    expect(ended[0]?.count).toBeLessThan(20_000);
    // The next reader gets the whole file.
    const whole = await fetch(`${baseUrl}/exchange/non-local-insured?region=${county}`, { headers: { authorization: approver } });
    expect((await whole.text()).trimEnd().split('\n')).toHaveLength(20_000);
  });

  it('answers 400 (not 500) to an offset beyond what a database integer holds', async () => {
    const res = await call('GET', `/loads/00000000-0000-4000-8000-000000000000/quarantine?offset=99999999999999999999`, publicSecurity);
    expect(res.body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'validation failed: offset',
      violations: [{ field: 'offset', rule: 'max', message: 'offset must not be greater than 1000000' }],
    });
  });

  it('refuses other media types, missing keys and people', async () => {
    const json = await call('POST', '/loads', { ...publicSecurity, 'content-type': 'application/json' }, '{"records": []}');
    expect(json.status).toBe(415);
    expect(json.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await call('POST', '/loads', { 'content-type': 'text/csv' }, csv([householdRecord(1)]))).status).toBe(401);
    const header = await call('POST', '/loads', { ...publicSecurity, 'content-type': 'text/csv' }, 'nope,columns\n1,2\n');
    expect(header.status).toBe(400);
    expect(header.body.message).toMatch(/failed: header column 'nope' is neither/);
  });

  it('POST /records with an Idempotency-Key answers a repeat with the first answer and appends nothing more', async () => {
    const records = [householdRecord(400), householdRecord(401)];
    // Redis outlives the test: a key of its own per run.
    const key = `batch-${topic}`;
    const headers = { ...publicSecurity, 'content-type': 'application/json', 'idempotency-key': key };
    const before = (await readAllEvents(testKafkaSettings(topic))).length;
    const first = await call('POST', '/records', headers, JSON.stringify({ records }));
    expect(first.status).toBe(202);
    expect(first.body.accepted).toBe(2);
    const repeat = await call('POST', '/records', headers, JSON.stringify({ records }));
    expect(repeat.status).toBe(202);
    expect(repeat.body).toEqual(first.body);
    expect((await readAllEvents(testKafkaSettings(topic))).length).toBe(before + 2);
    const other = await call('POST', '/records', headers, JSON.stringify({ records: [householdRecord(402)] }));
    expect(other.status).toBe(409);
    expect(other.body).toEqual({ statusCode: 409, code: 'CONFLICT', message: 'this Idempotency-Key was used for a different request' });
    // The same key of another department is another key.
    const taxRecord = { sourceRecordId: 'T-9', citizenId: householdRecord(403).citizenId, mode: 'snapshot', asOf: '2026-11-01T00:00:00Z', facts: { kind: 'tax', employed: true } };
    const taxPosted = await call('POST', '/records', { ...tax, 'content-type': 'application/json', 'idempotency-key': key }, JSON.stringify({ records: [taxRecord] }));
    expect(taxPosted.status).toBe(202);
    // The JSON endpoint and a bulk load of the same record yield the same event ID.
    const bulk = await call('POST', '/loads', { ...publicSecurity, 'content-type': 'application/x-ndjson' }, `${records.map(ndjsonLine).join('\n')}\n`);
    expect(first.body.records.map((r: Json) => r.eventId)).toHaveLength(2);
    const ids = new Set((await readAllEvents(testKafkaSettings(topic))).map((e) => e.eventId));
    expect(first.body.records.every((r: Json) => ids.has(r.eventId))).toBe(true);
    // Not recorded as ingested by a load: the bulk load appends them again (same IDs; consumers skip them).
    expect(bulk.body).toMatchObject({ rows: 2, accepted: 2, duplicates: 0 });
  });

  it('streams a 200,000-row file through POST /loads with the heap bounded', async () => {
    const rows = 200_000;
    const file = join(TMP, 'households-200k.csv');
    const out = createWriteStream(file);
    const padding = '石仔岭街道南宫居委会'.repeat(24);
    out.write(`${csvHeader()}\n`);
    for (let i = 0; i < rows; i += 1) {
      const r = householdRecord(1_000_000 + i);
      r.facts['address'] = `${padding}${i}`;
      if (!out.write(`${csvLine(r)}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const bytes = statSync(file).size;

    // What the process holds, not garbage V8 has yet to collect: a full collection before each sample.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = baseline;
    const sampler = setInterval(() => {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 2000);
    const started = Date.now();
    let report: Json;
    try {
      report = await new Promise<Json>((resolve, reject) => {
        const req = request(`${baseUrl}/loads?fileName=households-200k.csv`, { method: 'POST', headers: { ...publicSecurity, 'content-type': 'text/csv' } }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolve({ httpStatus: res.statusCode, ...JSON.parse(Buffer.concat(parts).toString()) }));
          res.on('error', reject);
        });
        req.on('error', reject);
        createReadStream(file).pipe(req);
      });
    } finally {
      clearInterval(sampler);
    }
    const seconds = (Date.now() - started) / 1000;
    const growthMb = (peak - baseline) / 1024 / 1024;
    process.stdout.write(
      `bulk load over HTTP: ${rows} rows, ${(bytes / 1024 / 1024).toFixed(0)} MB, ${seconds.toFixed(1)} s, ${Math.round(rows / seconds)} rows/s, heap growth ${growthMb.toFixed(0)} MB\n`,
    );
    expect(report).toMatchObject({ httpStatus: 201, status: 'completed', rows, accepted: rows, duplicates: 0, quarantined: 0 });
    expect(bytes).toBeGreaterThan(150 * 1024 * 1024);
    expect(growthMb).toBeLessThan(150);
  }, 600_000);
});
