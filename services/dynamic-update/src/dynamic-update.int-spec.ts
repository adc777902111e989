import type { INestApplication } from '@nestjs/common';
import { mintApiKey, mintToken } from '@qmcb/auth';
import { PERSON_ERASED, SOURCE_RECORD_RECEIVED, deterministicId, newEvent } from '@qmcb/contracts';
import type { EventOf, RegistrationEvent } from '@qmcb/contracts';
import { checkCharacter, foldEvents } from '@qmcb/domain';
import { EventLogProducer, rebuildProjection } from '@qmcb/event-log';
import { Clock, LogTransport, PersonRecordRepository, allMigrations, createServiceTestingApp, loadServiceConfig } from '@qmcb/service-kit';
import { createTestDatabase, createTestTopic, deleteTestTopic, readAllEvents, testKafkaSettings, waitFor } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import { createServer } from 'http';
import type { Server } from 'http';
import type { AddressInfo } from 'net';
import { DataSource } from 'typeorm';
import { DYNAMIC_UPDATE_MIGRATIONS, DynamicUpdateModule, KEY_COLUMNS, OPS_KEY_COLUMNS } from './dynamic-update.module';
import { FeedSequencer } from './feed/feed-sequencer';
import { WebhookDeliverer } from './feed/webhook-deliverer';
import { OpsDatabase } from './ops/ops-data-source';
import { randomBytes } from 'crypto';
import { PersonIds, withoutPersonKeys } from '@qmcb/platform';

/**
 * Dynamic update in one process on the real broker, PostgreSQL and Redis, with a clock the test
 * sets: refusals over HTTP, as-of reads over a long history against the log itself, the feed as
 * server-sent events resumed by Last-Event-ID, webhook retries and dead letters by the clock, a
 * roster of several chunks and pages, and a rebuild that equals the live projection.
 */
const KEY_SECRET = randomBytes(32).toString('base64url');
const JWT_SECRET = randomBytes(32).toString('base64url');
const VILLAGE = '440981002001';

// HTTP answers are asserted field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

class ControlledClock extends Clock {
  constructor(private at: number) {
    super();
  }

  set(iso: string): void {
    this.at = Date.parse(iso);
  }

  advance(ms: number): void {
    this.at += ms;
  }

  override now(): Date {
    return new Date(this.at);
  }
}

/** Distinct valid IDs: a birth day from 1950 on, and a sequence number every 20,000. */
const idOf = (n: number): string => {
  const birth = new Date(Date.UTC(1950, 0, 1) + (n % 20_000) * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
  const first17 = `440981${birth}${String(Math.floor(n / 20_000)).padStart(3, '0')}`;
  return `${first17}${checkCharacter(first17)}`;
};

describe('dynamic update (one process, real infrastructure)', () => {
  /** Every citizen ID the tests send (none may be found at rest: ADR 0011 stage 5). */
  const used = new Set<string>();
  const citizen = (n: number): string => {
    const id = idOf(n);
    used.add(id);
    return id;
  };
  let topic: string;
  let db: TestDatabase;
  let app: INestApplication;
  let url: string;
  let dataSource: DataSource;
  const clock = new ControlledClock(Date.parse('2026-12-01T08:00:00Z'));
  const si = { 'x-api-key': mintApiKey('social-insurance', 'si-int', KEY_SECRET) };
  const ps = { 'x-api-key': mintApiKey('public-security', 'ps-int', KEY_SECRET) };
  // People state why they read personal data (X-Purpose): the admin runs the feed, the clerk serves the window.
  const admin = { authorization: `Bearer ${mintToken({ sub: 'admin-1', name: 'a', role: 'admin', division: '4409', ttlSeconds: 3600 }, JWT_SECRET)}`, 'x-purpose': 'operations-support' };
  const clerk = { authorization: `Bearer ${mintToken({ sub: 'clerk-1', name: 'c', role: 'window-clerk', division: '440981', ttlSeconds: 3600 }, JWT_SECRET)}`, 'x-purpose': 'window-service' };

  beforeAll(async () => {
    topic = await createTestTopic(3);
    db = await createTestDatabase();
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      LOG_TOPIC: topic,
      CONSUMER_GROUP: `dynamic-update-${topic}`,
      API_KEY_SECRET: KEY_SECRET,
      AUTH_JWT_SECRET: JWT_SECRET,
      // The test numbers the feed and delivers webhooks by hand.
      FEED_SEQUENCE_INTERVAL_MS: '0',
      WEBHOOK_POLL_INTERVAL_MS: '0',
      WEBHOOK_BACKOFF_MS: '60000',
      WEBHOOK_MAX_ATTEMPTS: '3',
    };
    const { config, kafka } = loadServiceConfig('dynamic-update', env);
    app = await createServiceTestingApp(DynamicUpdateModule.register(config, kafka, { clock, env }));
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    dataSource = app.get(DataSource);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
    if (topic) await deleteTestTopic(topic);
  });

  async function call(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }
  const contribution = (citizenId: string, n: number) => ({
    type: 'insurance.contribution-paid',
    businessId: `C-${citizenId}-${n}`,
    citizenId,
    occurredAt: new Date(Date.UTC(2000, 0, 1) + n * 31 * 86_400_000).toISOString(),
    payload: { insuranceType: 'pension', scheme: 'resident', region: '440981', month: new Date(Date.UTC(2000, n, 1)).toISOString().slice(0, 7), paidBy: 'self' },
  });
  const applied = async (personKey: string, version: number): Promise<void> => {
    // Key columns hold the person ID (ADR 0011 stage 5).
    await waitFor(async () => ((await dataSource.query(`SELECT version FROM person_record WHERE person_key = $1`, [app.get(PersonIds).idOf(personKey)]))[0]?.version ?? 0) >= version, {
      timeoutMs: 60_000,
      message: `${personKey} at version ${version}`,
    });
  };

  it('refuses with the exact error bodies: no credentials, a person, a type of another department, bad fields, a roster not in NDJSON', async () => {
    const one = [contribution(citizen(1), 0)];
    expect(await call('POST', '/business-events', {}, { events: one })).toEqual({
      status: 401,
      body: { statusCode: 401, code: 'UNAUTHENTICATED', message: 'missing credentials: send Authorization: Bearer <token> or X-Api-Key: <key>' },
    });
    expect((await call('POST', '/business-events', clerk, { events: one })).status).toBe(403);
    expect(await call('POST', '/business-events', ps, { events: one })).toEqual({
      status: 403,
      body: { statusCode: 403, code: 'FORBIDDEN', message: "events[0]: events of type 'insurance.contribution-paid' may not be sent by department 'public-security'" },
    });
    expect(await call('POST', '/business-events', si, { events: [{ ...one[0], payload: { ...one[0]?.payload, month: '2026-13-01' } }] })).toEqual({
      status: 400,
      body: {
        statusCode: 400,
        code: 'VALIDATION_FAILED',
        message: 'event violates its contract: events.0.payload.month (matches)',
        violations: [{ field: 'events.0.payload.month', rule: 'matches', message: 'events.0.payload.month must be YYYY-MM' }],
      },
    });
    // A date that does not exist (a leap day in 2026) is refused, not put on the permanent log.
    const enrolled = { type: 'insurance.enrolled', businessId: 'E-feb30', citizenId: citizen(1), occurredAt: '2026-03-01T09:30:00+08:00', payload: { insuranceType: 'pension', scheme: 'resident', region: '440981', since: '2026-02-30' } };
    expect(await call('POST', '/business-events', si, { events: [enrolled] })).toEqual({
      status: 400,
      body: {
        statusCode: 400,
        code: 'VALIDATION_FAILED',
        message: 'event violates its contract: events.0.payload.since (isCalendarDate)',
        violations: [{ field: 'events.0.payload.since', rule: 'isCalendarDate', message: 'events.0.payload.since must be a date that exists (YYYY-MM-DD), got "2026-02-30"' }],
      },
    });
    expect((await call('POST', '/business-events', si, { events: [] })).body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', violations: [{ field: 'events', rule: 'arrayMinSize' }] });
    const res = await fetch(`${url}/snapshots?kind=household&scope=440981&asOf=2026-12-01T00:00:00Z`, { method: 'POST', headers: { ...ps, 'content-type': 'text/csv' }, body: 'a,b\n' });
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 415,
      body: { statusCode: 415, code: 'VALIDATION_FAILED', message: 'send the roster as the request body with Content-Type application/x-ndjson (got text/csv)' },
    });
    const bad = await fetch(`${url}/snapshots?kind=tax&scope=440981&asOf=2026-12-01T00:00:00Z`, { method: 'POST', headers: { ...ps, 'content-type': 'application/x-ndjson' }, body: '\n' });
    expect({ status: bad.status, body: await bad.json() }).toEqual({ status: 403, body: { statusCode: 403, code: 'FORBIDDEN', message: "department 'public-security' keeps no records of kind 'tax'" } });
    // An offset beyond what a database integer holds is a 400 naming it, never a 500; every list pages 1-1,000,000 deep.
    const approver = { authorization: `Bearer ${mintToken({ sub: 'approver-1', name: 'p', role: 'county-approver', division: '440981', ttlSeconds: 3600 }, JWT_SECRET)}` };
    const tooDeep = { status: 400, body: { statusCode: 400, code: 'VALIDATION_FAILED', message: 'validation failed: offset', violations: [{ field: 'offset', rule: 'max', message: 'offset must not be greater than 1000000' }] } };
    expect(await call('GET', '/changes?offset=99999999999999999999', approver)).toEqual(tooDeep);
    expect(await call('GET', '/snapshots/00000000-0000-4000-8000-000000000000/changes?offset=99999999999999999999', ps)).toEqual(tooDeep);
    expect(await call('GET', '/snapshots/00000000-0000-4000-8000-000000000000/quarantine?offset=1000001', ps)).toEqual(tooDeep);
    expect(await call('GET', '/changes?limit=501', approver)).toEqual({
      status: 400,
      body: { statusCode: 400, code: 'VALIDATION_FAILED', message: 'validation failed: limit', violations: [{ field: 'limit', rule: 'max', message: 'limit must not be greater than 500' }] },
    });
    // Nothing was appended by any of them.
    expect(await readAllEvents(testKafkaSettings(topic))).toEqual([]);
  });

  it('reads a long history as the registry held it at any moment, exactly the fold of the log up to then', async () => {
    const person = citizen(2);
    const moments: string[] = [];
    // 150 changes in 15 posts, each at its own time by the clock: 2 whole records kept (64, 128).
    for (let post = 0; post < 15; post++) {
      clock.set(`2026-12-01T09:${String(post).padStart(2, '0')}:00Z`);
      const r = await call('POST', '/business-events', si, { events: Array.from({ length: 10 }, (_, k) => contribution(person, post * 10 + k)) });
      expect(r.status).toBe(202);
      moments.push(clock.now().toISOString());
    }
    await applied(person, 150);
    expect((await dataSource.query(`SELECT version FROM record_snapshot WHERE person_key = $1 ORDER BY version`, [app.get(PersonIds).idOf(person)])).map((r: Json) => r.version)).toEqual([64, 128]);
    const log = (await readAllEvents(testKafkaSettings(topic))).filter((e) => e.personKey === person);
    expect(log).toHaveLength(150);
    for (const [i, moment] of moments.entries()) {
      const r = await call('GET', `/registry/${app.get(PersonIds).idOf(person)}?asOf=${encodeURIComponent(moment)}`, clerk);
      expect(r.status).toBe(200);
      const expected = foldEvents(log.filter((e) => e.recordedAt <= moment));
      // As every answer shows a record: its personId in place of the person key (docs/security.md).
      expect(r.body.record).toEqual(withoutPersonKeys(expected, app.get(PersonIds)));
      expect(r.body.version).toBe((i + 1) * 10);
      expect(r.body.items['contribution.pension:resident:440981.lastMonth'].value).toBe(new Date(Date.UTC(2000, i * 10 + 9, 1)).toISOString().slice(0, 7));
    }
    // A moment between two posts reads the earlier one; before the first, nothing.
    expect((await call('GET', `/registry/${app.get(PersonIds).idOf(person)}?asOf=2026-12-01T09:03:30Z`, clerk)).body.version).toBe(40);
    expect(await call('GET', `/registry/${app.get(PersonIds).idOf(person)}?asOf=2026-12-01T08:59:59Z`, clerk)).toEqual({
      status: 404,
      // Every 404 has one body (docs/security.md).
      body: { statusCode: 404, code: 'NOT_FOUND', message: 'not found' },
    });
  });

  it('streams a subscription as server-sent events and resumes after Last-Event-ID', async () => {
    const created = await call('POST', '/subscriptions', admin, { name: 'sse', department: 'social-insurance', keyId: 'si-sse', division: '440981', kinds: ['insurance.*'], from: 'beginning' });
    expect(created.status).toBe(201);
    expect(created.body.secret).toBeNull();
    const feedKey = { 'x-api-key': mintApiKey('social-insurance', 'si-sse', KEY_SECRET) };
    const person = citizen(3);
    clock.set('2026-12-01T10:00:00Z');
    await call('POST', '/business-events', si, { events: [0, 1, 2, 3].map((n) => contribution(person, n)) });
    await applied(person, 4);
    await app.get(FeedSequencer).runOnce();
    const read = async (headers: Record<string, string>, count: number): Promise<{ id: string; data: Json }[]> => {
      const controller = new AbortController();
      const res = await fetch(`${url}/feed/stream?subscription=${created.body.id}`, { headers: { ...feedKey, ...headers }, signal: controller.signal });
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      const events: { id: string; data: Json }[] = [];
      while (events.length < count) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
        const blocks = text.split('\n\n');
        text = blocks.pop() ?? '';
        for (const b of blocks) {
          const id = /^id: (\d+)$/m.exec(b)?.[1];
          const data = /^data: (.*)$/m.exec(b)?.[1];
          // The subscription's scope also holds the people of the tests before: this one's entries only.
          if (id && data && /^event: change$/m.test(b) && JSON.parse(data).personId === app.get(PersonIds).idOf(person)) events.push({ id, data: JSON.parse(data) });
        }
      }
      controller.abort();
      return events;
    };
    const all = await read({}, 4);
    expect(all.map((e) => [e.data.personId, e.data.type, e.data.changes])).toEqual(
      [0, 1, 2, 3].map((n) => [
        app.get(PersonIds).idOf(person),
        'insurance.contribution-paid',
        n === 0
          ? expect.arrayContaining([{ item: 'contribution.pension:resident:440981.lastMonth', from: null, to: '2000-01' }])
          : [{ item: 'contribution.pension:resident:440981.lastMonth', from: new Date(Date.UTC(2000, n - 1, 1)).toISOString().slice(0, 7), to: new Date(Date.UTC(2000, n, 1)).toISOString().slice(0, 7) }],
      ]),
    );
    expect(all.map((e) => e.id)).toEqual(all.map((e) => String(e.data.seq)));
    const resumed = await read({ 'last-event-id': all[1]?.id ?? '' }, 2);
    expect(resumed.map((e) => e.data.eventId)).toEqual([all[2]?.data.eventId, all[3]?.data.eventId]);
    // Another key sees no such subscription; a person neither.
    expect((await call('GET', `/feed/stream?subscription=${created.body.id}`, si)).status).toBe(404);
    expect((await call('GET', `/feed?subscription=${created.body.id}`, clerk)).status).toBe(403);
  });

  it('retries a failing webhook when the clock says so, then keeps the batch as a dead letter and goes on', async () => {
    let answer = 500;
    const received: Json[] = [];
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ status: answer, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const person = citizen(4);
      clock.set('2026-12-01T11:00:00Z');
      const sub = (await call('POST', '/subscriptions', admin, { name: 'hook', department: 'social-insurance', keyId: 'si-hook', division: '440981', kinds: ['insurance.contribution-paid'], webhookUrl: hook, from: 'now' })).body;
      await call('POST', '/business-events', si, { events: [contribution(person, 0)] });
      await applied(person, 1);
      const deliverer = app.get(WebhookDeliverer);
      await app.get(FeedSequencer).runOnce();
      const attempts = async (): Promise<Json> => (await call('GET', `/subscriptions/${sub.id}`, admin)).body.delivery;

      await deliverer.runOnce();
      expect(await attempts()).toMatchObject({ attempts: 1, lastError: 'HTTP 500', nextAttemptAt: '2026-12-01T11:01:00.000Z', delivered: 0 });
      clock.set('2026-12-01T11:00:59Z');
      await deliverer.runOnce();
      expect(received).toHaveLength(1);
      clock.set('2026-12-01T11:01:00Z');
      await deliverer.runOnce();
      // Doubled: 2 minutes after the second failure.
      expect(await attempts()).toMatchObject({ attempts: 2, nextAttemptAt: '2026-12-01T11:03:00.000Z' });
      clock.set('2026-12-01T11:03:00Z');
      await deliverer.runOnce();
      expect(received).toHaveLength(3);
      expect(await attempts()).toMatchObject({ attempts: 0, lastError: 'HTTP 500', delivered: 0 });
      const dead = (await call('GET', `/subscriptions/${sub.id}/dead-letters`, admin)).body;
      expect(dead).toMatchObject({ subscriptionId: sub.id, total: 1, items: [{ attempts: 3, lastError: 'HTTP 500', redeliveredAt: null, entries: [{ personId: app.get(PersonIds).idOf(person), type: 'insurance.contribution-paid' }] }] });
      // The same batch every time, under one delivery ID.
      expect(new Set(received.map((r) => r.body.deliveryId)).size).toBe(1);

      // The next entry goes out at once once the endpoint answers; the dead letter is redelivered on request.
      answer = 204;
      await call('POST', '/business-events', si, { events: [contribution(person, 1)] });
      await applied(person, 2);
      await app.get(FeedSequencer).runOnce();
      await deliverer.runOnce();
      expect(received.at(-1)).toMatchObject({ status: 204, body: { subscriptionId: sub.id, entries: [{ personId: app.get(PersonIds).idOf(person), changes: [{ item: 'contribution.pension:resident:440981.lastMonth', from: '2000-01', to: '2000-02' }] }] } });
      expect(await attempts()).toMatchObject({ attempts: 0, lastError: null, delivered: 1 });
      const redelivered = await call('POST', `/subscriptions/${sub.id}/dead-letters/${dead.items[0].id}/redelivery`, admin);
      expect(redelivered.body).toEqual({ deadLetterId: dead.items[0].id, result: { ok: true, status: 204 } });
      expect((await call('GET', `/subscriptions/${sub.id}/dead-letters`, admin)).body.items[0].redeliveredAt).toBe(clock.now().toISOString());
      expect(received.map((r) => r.status)).toEqual([500, 500, 500, 204, 204]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('diffs a roster of several chunks against what is held, flags the held people it leaves out page by page, and a re-sent roster changes nothing', async () => {
    const producer = app.get(EventLogProducer);
    const held = Array.from({ length: 2_500 }, (_, i) => citizen(10_000 + i));
    const record = (citizenId: string, i: number): EventOf<typeof SOURCE_RECORD_RECEIVED> =>
      newEvent(
        SOURCE_RECORD_RECEIVED,
        deterministicId('int-household', citizenId),
        citizenId,
        {
          department: 'public-security',
          sourceRecordId: `H-${i}`,
          mode: 'snapshot',
          citizenIdAsSent: citizenId,
          citizenIdValid: true,
          asOf: '2026-01-01T00:00:00.000Z',
          facts: { kind: 'household', name: `人${i}`, status: 'normal', villageCode: VILLAGE },
        },
        { source: 'dept:public-security', actor: 'key:ps-int', occurredAt: '2026-01-01T00:00:00.000Z', correlationId: 'int' },
      );
    const events: RegistrationEvent[] = held.map((id, i) => record(id, i));
    for (let i = 0; i < events.length; i += 500) await producer.append(events.slice(i, i + 500));
    await waitFor(async () => (await dataSource.query(`SELECT count(*)::int AS n FROM department_holding WHERE department = 'public-security' AND kind = 'household'`))[0].n >= 2_500, {
      timeoutMs: 120_000,
      message: 'the households held',
    });
    // The roster: the first 2,000 unchanged, 200 new people, the last 500 held left out.
    const lines = [
      ...held.slice(0, 2_000).map((id, i) => ({ sourceRecordId: `H-${i}`, citizenId: id, facts: { kind: 'household', name: `人${i}`, status: 'normal', villageCode: VILLAGE } })),
      ...Array.from({ length: 200 }, (_, i) => ({ sourceRecordId: `N-${i}`, citizenId: citizen(20_000 + i), facts: { kind: 'household', name: `新${i}`, status: 'normal', villageCode: VILLAGE } })),
    ];
    const post = async (): Promise<Json> => {
      const res = await fetch(`${url}/snapshots?kind=household&scope=440981&asOf=2026-12-01T00:00:00Z`, {
        method: 'POST',
        headers: { ...ps, 'content-type': 'application/x-ndjson' },
        body: lines.map((l) => JSON.stringify(l)).join('\n'),
      });
      expect(res.status).toBe(201);
      return res.json();
    };
    const first = await post();
    expect(first).toMatchObject({ status: 'completed', rows: 2_200, unchanged: 2_000, added: 200, updated: 0, absent: 500, alreadyAbsent: 0, events: 700 });
    const absent = await call('GET', `/snapshots/${first.snapshotId}/changes?change=absent&limit=1000`, ps);
    expect(absent.body.items.map((c: Json) => c.citizenId).sort()).toEqual([...held.slice(2_000)].sort());
    expect(JSON.stringify(absent.body)).not.toContain('"personKey"');
    // The record is sealed at rest (ADR 0011): opened to count the flags.
    const flagged = async (): Promise<number> => {
      const opened = await app.get(PersonRecordRepository).open(await dataSource.query(`SELECT person_key, record, sealed FROM person_record`));
      return [...opened.values()].filter((r) => r.rosterAbsences['public-security:household'] !== undefined).length;
    };
    await waitFor(async () => (await flagged()) === 500, {
      timeoutMs: 120_000,
      message: 'the absences flagged',
    });
    await waitFor(async () => (await dataSource.query(`SELECT count(*)::int AS n FROM department_holding WHERE department = 'public-security'`))[0].n >= 2_700, { timeoutMs: 120_000, message: 'the new people held' });
    const again = await post();
    expect(again).toMatchObject({ status: 'completed', rows: 2_200, unchanged: 2_200, added: 0, absent: 0, alreadyAbsent: 500, events: 0 });
    // The roster's members are dropped once it is done; its report and changes stay.
    const ops = app.get(OpsDatabase).dataSource;
    expect((await ops.query(`SELECT count(*)::int AS n FROM snapshot_member`))[0].n).toBe(0);
    expect((await ops.query(`SELECT count(*)::int AS n FROM snapshot_change WHERE snapshot_id = $1`, [first.snapshotId]))[0].n).toBe(700);
  });

  it('rebuilds the registry from the log into a projection equal to the live one, and leaves the feed alone', async () => {
    const tables = ['person_record', 'record_history', 'record_snapshot', 'department_holding', 'change_proposal'];
    const order: Record<string, string> = {
      person_record: 'person_key',
      record_history: 'person_key, version',
      record_snapshot: 'person_key, version',
      department_holding: 'department, person_key, slot',
      change_proposal: 'proposal_id',
    };
    const snapshot = async (): Promise<Record<string, unknown[]>> => {
      const out: Record<string, unknown[]> = {};
      for (const t of tables) out[t] = await dataSource.query(`SELECT * FROM ${t} ORDER BY ${order[t]}`);
      // When the row was written differs between the two; what it says does not.
      for (const row of out['person_record'] as Record<string, unknown>[]) delete row['updated_at'];
      // Sealed columns (bytea, ADR 0011) compared as hex: the same bytes, without the matcher walking
      // every byte of thousands of Buffers one by one (minutes on a busy machine).
      for (const rows of Object.values(out)) for (const row of rows as Record<string, unknown>[]) for (const [k, v] of Object.entries(row)) if (Buffer.isBuffer(v)) row[k] = v.toString('hex');
      return out;
    };
    const live = await snapshot();
    const feed = (await app.get(OpsDatabase).dataSource.query(`SELECT count(*)::int AS n FROM feed_entry`))[0].n;
    const { kafka } = loadServiceConfig('dynamic-update', { ...process.env, LOG_TOPIC: topic, DATABASE_URL: db.url });
    await rebuildProjection({ dataSource, schema: 'dynamic_update', migrations: allMigrations(DYNAMIC_UPDATE_MIGRATIONS), handler: app.get(LogTransport), settings: { ...kafka, topic }, name: 'dynamic-update-int' });
    const rebuilt = await snapshot();
    expect((live['record_history'] as unknown[]).length).toBeGreaterThan(3_000);
    expect(rebuilt).toEqual(live);
    expect((await app.get(OpsDatabase).dataSource.query(`SELECT count(*)::int AS n FROM feed_entry`))[0].n).toBe(feed);
  });

  it('holds no citizen ID at rest in any table of either schema (ADR 0011 stage 5): key columns hold the person ID', async () => {
    // After every flow above (records, history with whole-record snapshots, holdings, the feed, a
    // webhook dead letter, roster snapshots) and the rebuild; and a roster line refused, naming a
    // person (a village outside the roster's scope, where nothing is held: no absences).
    const ops = app.get(OpsDatabase).dataSource;
    const refusedLine = JSON.stringify({ sourceRecordId: 'Q-1', citizenId: citizen(4), facts: { kind: 'household', name: '欧阳明远', status: 'normal', villageCode: VILLAGE } });
    const res = await fetch(`${url}/snapshots?kind=household&scope=440982&asOf=2026-12-01T00:00:00Z`, { method: 'POST', headers: { ...ps, 'content-type': 'application/x-ndjson' }, body: `${refusedLine}\n` });
    const report = (await res.json()) as Json;
    expect(report).toMatchObject({ status: 'completed', rows: 1, quarantined: 1, absent: 0, events: 0 });
    expect((await call('GET', `/snapshots/${report.snapshotId}/quarantine`, ps)).body).toEqual({
      snapshotId: report.snapshotId,
      total: 1,
      items: [{ line: 1, reason: 'inScope', raw: refusedLine, violations: [{ field: 'facts.villageCode', rule: 'inScope', message: `the roster covers 440982; this record lies in ${VILLAGE}` }] }],
    });
    const [quarantined] = await ops.query(`SELECT raw, raw_sealed IS NOT NULL AS sealed FROM snapshot_quarantine WHERE snapshot_id = $1`, [report.snapshotId]);
    expect(quarantined).toEqual({ raw: null, sealed: true });
    const scan = async (ds: DataSource, schema: string): Promise<Record<string, { rows: number; found: string[] }>> => {
      const tables: { t: string }[] = await ds.query(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1`, [schema]);
      const out: Record<string, { rows: number; found: string[] }> = {};
      for (const { t } of tables) {
        const rows: { text: string }[] = await ds.query(`SELECT to_jsonb(x)::text AS text FROM ${schema}."${t}" x`);
        const found = new Set<string>();
        for (const { text } of rows) for (const m of text.matchAll(/\d{17}[\dX]/g)) if (used.has(m[0])) found.add(m[0]);
        out[t] = { rows: rows.length, found: [...found].slice(0, 3) };
      }
      return out;
    };
    expect(used.size).toBe(2_704);
    const projection = await scan(dataSource, 'dynamic_update');
    const opsTables = await scan(ops, `dynamic_update_ops`);
    // The tables the flows wrote are there and not empty (the scan cannot pass by reading nothing).
    for (const t of ['person_record', 'record_history', 'record_snapshot', 'department_holding']) expect(projection[t]?.rows).toBeGreaterThan(0);
    for (const t of ['feed_entry', 'webhook_dead_letter', 'snapshot_change', 'snapshot_quarantine']) expect(opsTables[t]?.rows).toBeGreaterThan(0);
    // Nor the name of the refused line.
    for (const { t } of await ops.query(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'dynamic_update_ops' AND table_type = 'BASE TABLE'`)) {
      expect(((await ops.query(`SELECT to_jsonb(x)::text AS text FROM dynamic_update_ops."${t}" x`)) as { text: string }[]).filter((r) => r.text.includes('欧阳明远'))).toEqual([]);
    }
    const found = (tables: Record<string, { found: string[] }>): Record<string, string[]> => Object.fromEntries(Object.entries(tables).filter(([, v]) => v.found.length > 0).map(([t, v]) => [t, v.found]));
    expect(found(projection)).toEqual({});
    expect(found(opsTables)).toEqual({});
  });

  it('erases a person’s rows from both schemas by the person ID their key columns hold (ADR 0010), and their entries from dead letters', async () => {
    const ids = app.get(PersonIds);
    const ops = app.get(OpsDatabase).dataSource;
    // The webhook's person (feed entries, a dead letter) and a held person the roster left out (holdings, a roster change).
    const people = [idOf(4), idOf(12_000)];
    const stored = people.map((p) => ids.idOf(p));
    const held = async (): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const { table, column } of KEY_COLUMNS) out[table] = (await dataSource.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = ANY($1::text[])`, [stored]))[0].n;
      for (const { table, column } of OPS_KEY_COLUMNS) out[table] = (await ops.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = ANY($1::text[])`, [stored]))[0].n;
      out['webhook_dead_letter'] = (await ops.query(`SELECT count(*)::int AS n FROM webhook_dead_letter, jsonb_array_elements(entries) e WHERE e->>'personId' = ANY($1::text[])`, [stored]))[0].n;
      // The refused roster line naming idOf(4) (sealed: found by the person refs of the IDs in it).
      out['snapshot_quarantine'] = (await ops.query(`SELECT count(*)::int AS n FROM snapshot_quarantine`))[0].n;
      return out;
    };
    const before = await held();
    expect(before).toMatchObject({ person_record: 2, record_snapshot: 0, change_proposal: 0, snapshot_member: 0, snapshot_change: 1, webhook_dead_letter: 1, snapshot_quarantine: 1 });
    for (const t of ['record_history', 'department_holding', 'feed_entry']) expect(before[t]).toBeGreaterThan(0);
    const others = (await dataSource.query(`SELECT count(*)::int AS n FROM record_history`))[0].n - (before['record_history'] as number);
    const erasures = people.map((p) =>
      newEvent(PERSON_ERASED, deterministicId('keyring', 'erase', p), p, { reason: 'PIPL art. 47 request 1', requestedBy: 'operator:ops-1' }, {
        source: 'ops:keyring', actor: 'operator:ops-1', occurredAt: '2026-12-02T00:00:00.000Z', correlationId: 'int-erasure',
      }),
    );
    await app.get(EventLogProducer).append(erasures);
    await waitFor(async () => (await dataSource.query(`SELECT count(*)::int AS n FROM erased_person`))[0].n === 2, { timeoutMs: 60_000, message: 'the erasures applied' });
    expect(await held()).toEqual(Object.fromEntries(Object.keys(before).map((t) => [t, 0])));
    // Nobody else's rows went; the dead letter stays, without the entry.
    expect((await dataSource.query(`SELECT count(*)::int AS n FROM record_history`))[0].n).toBe(others);
    expect(await ops.query(`SELECT jsonb_array_length(entries) AS n FROM webhook_dead_letter`)).toEqual([{ n: 0 }]);
  });
});
