import { mintApiKey, mintToken } from '@qmcb/auth';
import { checkCharacter } from '@qmcb/domain';
import { httpJson, readAllEvents, startIsolatedStack, testKafkaSettings, waitFor } from '@qmcb/testing';
import type { HttpResult, IsolatedStack, ServiceName } from '@qmcb/testing';
import { mkdirSync, writeFileSync } from 'fs';
import { createHmac, randomBytes, timingSafeEqual } from 'crypto';
import { createServer } from 'http';
import type { IncomingMessage, Server, ServerResponse } from 'http';
import type { AddressInfo } from 'net';
import { join } from 'path';
import { PersonIds } from '@qmcb/platform';

/**
 * Dynamic update (issue 9) across the four services, over HTTP, against the real broker, PostgreSQL
 * and Redis: business events and a department roster for five people; the registry's records, the
 * provenance of their items, the records as of three moments, the re-comparisons they caused, and
 * exactly what webhook subscribers received; re-posting everything changes nothing.
 */
const JWT_SECRET = randomBytes(32).toString('base64url');
const KEY_SECRET = randomBytes(32).toString('base64url');
const VILLAGE = '440981002001'; // 高州市 石仔岭街道 南宫居委会
const VILLAGE_2 = '440981002002'; // 南珠居委会
const ELSEWHERE = '440902001001'; // 茂名市茂南区 建设社区
const TMP = join(__dirname, '..', 'tmp', 'e2e-dynamic-update');

const idOf = (first17: string): string => `${first17}${checkCharacter(first17)}`;
const P1 = idOf('44098119700315111'); // 王一, 56: resident pension and medical, a card
const P2 = idOf('44098119500601222'); // 李二, 76: drawing a pension, dies
const P3 = idOf('44098119850720333'); // 张三: moves to 茂南区
const P4 = idOf('44098119900101444'); // 孙四: first seen in the roster
const P5 = idOf('44098119800101555'); // 赵五: left out of the roster

/** Why each role reads personal data here (X-Purpose, PIPL art. 6). */
const PURPOSE: Record<string, string> = { 'window-clerk': 'window-service', admin: 'operations-support', 'county-approver': 'registry-maintenance' };
const token = (role: string, division: string, sub: string): Record<string, string> => ({
  authorization: `Bearer ${mintToken({ sub, name: sub, role, division, ttlSeconds: 3600 }, JWT_SECRET)}`,
  'x-purpose': PURPOSE[role] ?? 'registry-maintenance',
});
/** Someone who reads the whole province's registry (a window clerk works at county or township level only). */
const provinceWide = (): Record<string, string> => ({ ...token('admin', '44', 'admin-0'), 'x-purpose': 'registry-maintenance' });
/** The opaque person ID clients use for a person key (docs/security.md, "Person IDs"). */
const pid = (personKey: string): string => new PersonIds(process.env['PERSON_ID_SECRET'] as string).idOf(personKey);
const key = (department: Parameters<typeof mintApiKey>[0], keyId: string): Record<string, string> => ({ 'x-api-key': mintApiKey(department, keyId, KEY_SECRET) });

// Answers are asserted field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Call {
  subscriptionId: string;
  signed: boolean;
  body: Json;
}

/** What a subscriber does on its side (docs/api/dynamic-update.md): HMAC-SHA256 of "<t>.<body>" with its secret, t within 5 minutes. */
function genuine(secret: string, header: string | undefined, body: string): boolean {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=', 2)));
  const t = Number(parts['t']);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300 || !/^[0-9a-f]{64}$/.test(parts['v1'] ?? '')) return false;
  return timingSafeEqual(createHmac('sha256', secret).update(`${t}.${body}`).digest(), Buffer.from(parts['v1'] ?? '', 'hex'));
}

/** A subscriber's webhook endpoint: checks every signature and keeps every call it accepts. */
class Subscriber {
  readonly calls: Call[] = [];
  readonly secrets = new Map<string, string>();
  status = 200;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const subscriptionId = String(req.headers['x-qmcb-subscription']);
        const secret = this.secrets.get(subscriptionId) ?? '';
        const signed = genuine(secret, req.headers['x-qmcb-signature'] as string | undefined, text);
        if (this.status < 300) this.calls.push({ subscriptionId, signed, body: JSON.parse(text) });
        res.writeHead(this.status).end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  entries(subscriptionId: string): Json[] {
    return this.calls.filter((c) => c.subscriptionId === subscriptionId).flatMap((c) => c.body.entries);
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe('dynamic update: business events, rosters, the registry and its feed', () => {
  let stack: IsolatedStack;
  const subscriber = new Subscriber();
  const failing = new Subscriber();

  beforeAll(async () => {
    mkdirSync(TMP, { recursive: true });
    // 高州市 reviews death registrations before they enter the registry (procedure §21).
    const policies = join(TMP, 'region-policies.json');
    writeFileSync(policies, JSON.stringify({ regions: { '440981': { reviewBusinessEvents: ['death.registered'] } } }));
    await subscriber.start();
    await failing.start();
    stack = await startIsolatedStack({
      logDir: join(TMP, 'logs'),
      ports: { comparison: 3281, 'survey-tasking': 3282, review: 3283, 'dynamic-update': 3284 },
      env: () => ({
        AUTH_JWT_SECRET: JWT_SECRET,
        API_KEY_SECRET: KEY_SECRET,
        REGION_POLICIES_FILE: policies,
        FEED_SEQUENCE_INTERVAL_MS: '100',
        WEBHOOK_POLL_INTERVAL_MS: '200',
        WEBHOOK_BACKOFF_MS: '100',
        WEBHOOK_MAX_ATTEMPTS: '3',
      }),
    });
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    await subscriber.stop();
    await failing.stop();
  });

  const call = (service: ServiceName, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<HttpResult> => httpJson(stack.urls[service], method, path, headers, body);

  const clerk = token('window-clerk', '440981', 'clerk-1');
  const clerkThere = token('window-clerk', '440902', 'clerk-2');
  const admin = token('admin', '44', 'admin-1');
  const county = token('county-approver', '440981', 'county-1');
  const ps = key('public-security', 'ps-e2e');
  const si = key('social-insurance', 'si-e2e');
  const card = key('social-security-card', 'card-e2e');
  const civil = key('civil-affairs', 'ca-e2e');
  const higher = key('higher-registry', 'hr-e2e');

  const household = (citizenId: string, name: string, village: string, extra: Record<string, unknown> = {}) => ({
    sourceRecordId: `HJ-${citizenId.slice(-6)}`,
    citizenId,
    mode: 'snapshot',
    asOf: '2026-01-01T00:00:00.000Z',
    facts: { kind: 'household', name, villageCode: village, status: 'normal', phone: `139${citizenId.slice(-9, -1)}`, address: `高州市石仔岭街道${name}家`, ...extra },
  });
  const roster = (citizenId: string, name: string, village: string, extra: Record<string, unknown> = {}) => {
    const { sourceRecordId, facts } = household(citizenId, name, village, extra);
    return { sourceRecordId, citizenId, facts };
  };

  const ev = (type: string, businessId: string, citizenId: string, occurredAt: string, payload: Record<string, unknown>) => ({ type, businessId, citizenId, occurredAt, payload });
  const pension = { insuranceType: 'pension', scheme: 'resident', region: '440981' };
  const medical = { insuranceType: 'medical', scheme: 'resident', region: '440981' };

  const phaseA = {
    si: [
      ev('insurance.enrolled', 'SI-P1-1', P1, '2026-03-01T09:00:00+08:00', { ...pension, since: '2026-03-01' }),
      ev('insurance.enrolled', 'SI-P1-2', P1, '2026-03-01T09:00:00+08:00', { ...medical, since: '2026-03-01' }),
      ev('insurance.contribution-paid', 'SI-P1-3', P1, '2026-03-20T09:00:00+08:00', { ...pension, month: '2026-03', paidBy: 'government', amount: 200 }),
      ev('insurance.enrolled', 'SI-P2-1', P2, '2010-07-01T09:00:00+08:00', { ...pension, since: '2010-07-01' }),
      ev('insurance.enrolled', 'SI-P2-2', P2, '2010-07-01T09:00:00+08:00', { ...medical, since: '2010-07-01' }),
      ev('insurance.benefit-approved', 'SI-P2-3', P2, '2010-07-15T09:00:00+08:00', { ...pension, benefit: 'basic-pension', effectiveDate: '2010-07-01' }),
      ev('insurance.payment-started', 'SI-P2-4', P2, '2010-08-01T09:00:00+08:00', { ...pension, benefit: 'basic-pension', effectiveDate: '2010-08-01' }),
      ev('insurance.enrolled', 'SI-P3-1', P3, '2020-01-01T09:00:00+08:00', { ...pension, since: '2020-01-01' }),
      ev('insurance.enrolled', 'SI-P3-2', P3, '2020-01-01T09:00:00+08:00', { ...medical, since: '2020-01-01' }),
      ev('insurance.enrolled', 'SI-P5-1', P5, '2020-01-01T09:00:00+08:00', { ...pension, since: '2020-01-01' }),
      ev('insurance.enrolled', 'SI-P5-2', P5, '2020-01-01T09:00:00+08:00', { ...medical, since: '2020-01-01' }),
    ],
    card: [ev('card.issued', 'K-P1-1', P1, '2026-03-10T09:00:00+08:00', { cardNumber: 'A12345678', issuedOn: '2026-03-10', issuingRegion: '440981' })],
  };
  const suspension = ev('insurance.suspended', 'SI-P1-4', P1, '2026-06-01T09:00:00+08:00', { ...pension, effectiveDate: '2026-06-01', reason: 'contributions-interrupted' });
  const death = ev('death.registered', 'MZ-P2-1', P2, '2026-05-21T10:00:00+08:00', { deathDate: '2026-05-20' });
  const movedOut = ev('household.moved-out', 'GA-P3-1', P3, '2026-07-01T09:00:00+08:00', { movedOn: '2026-07-01', toDivision: '440902' });
  const stopped = ev('insurance.payment-stopped', 'SI-P2-5', P2, '2026-06-02T09:00:00+08:00', { ...pension, benefit: 'basic-pension', effectiveDate: '2026-06-01', reason: 'deceased' });
  const movedIn = ev('household.moved-in', 'GA-P3-2', P3, '2026-07-10T09:00:00+08:00', { movedOn: '2026-07-10', villageCode: ELSEWHERE, fromDivision: VILLAGE, name: '张三', address: '茂名市茂南区建设社区 8 号' });
  const reEnrolled = ev('insurance.enrolled', 'SI-P1-5', P1, '2026-09-01T09:00:00+08:00', { ...pension, since: '2026-09-01' });
  const ndjson = (lines: unknown[]): string => `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`;
  const rosterLines = [
    roster(P1, '王一', VILLAGE),
    roster(P2, '李二', VILLAGE, { status: 'deceased' }),
    roster(P4, '孙四', VILLAGE_2),
    '{"sourceRecordId":"HJ-bad","citizenId":"x","facts":{"kind":"household","name":"无名","villageCode":"440981999999","status":"normal"}}',
  ];

  const registry = (personKey: string, asOf?: string, who = clerk): Promise<HttpResult> =>
    call('dynamic-update', 'GET', `/registry/${pid(personKey)}${asOf ? `?asOf=${encodeURIComponent(asOf)}` : ''}`, who);
  const until = async (personKey: string, test: (view: Json) => boolean, message: string, who = clerk): Promise<Json> =>
    waitFor(async () => {
      const r = await registry(personKey, undefined, who);
      return r.status === 200 && test(r.body) ? r.body : undefined;
    }, { timeoutMs: 60_000, message });
  /** Until no service adds anything to these people for three polls in a row (survey tasks open and close after outcomes). */
  const settle = async (people: string[]): Promise<void> => {
    let last = '';
    let same = 0;
    await waitFor(async () => {
      const versions = await Promise.all(people.map(async (p) => (await registry(p, undefined, provinceWide())).body?.version));
      const now = JSON.stringify(versions);
      same = now === last ? same + 1 : 0;
      last = now;
      return same >= 3;
    }, { timeoutMs: 60_000, intervalMs: 700, message: 'the registry to settle' });
  };
  const outcomes = async (personKey: string, after: string): Promise<Json[]> => {
    const r = await call('dynamic-update', 'GET', `/registry/${pid(personKey)}/history?limit=1000`, provinceWide());
    return r.body.items
      .filter((h: Json) => h.type === 'comparison.outcome-determined' && h.recordedAt > after)
      .map((h: Json) => ({ causationId: h.causationId, changes: h.changes }));
  };
  const posted = async (headers: Record<string, string>, events: unknown[]): Promise<Json> => {
    const r = await call('dynamic-update', 'POST', '/business-events', headers, { events });
    expect(r.status).toBe(202);
    return r.body;
  };
  const eventIdOf = (body: Json, businessId: string): string => body.events.find((e: Json) => e.businessId === businessId).eventId;

  it('keeps the registry true through business events and a roster, tells subscribers exactly, and re-posting changes nothing', async () => {
    // ---- Phase A: households (comparison, public security), enrolments and benefits, a card.
    const records = await call('comparison', 'POST', '/records', ps, { records: [household(P1, '王一', VILLAGE), household(P2, '李二', VILLAGE), household(P3, '张三', VILLAGE), household(P5, '赵五', VILLAGE)] });
    expect(records.body).toMatchObject({ accepted: 4 });
    const a1 = await posted(si, phaseA.si);
    expect(a1.events.map((e: Json) => e.status)).toEqual(Array(11).fill('applied'));
    const a2 = await posted(card, phaseA.card);
    for (const p of [P1, P2, P3, P5]) await until(p, (v) => v.items.outcome?.value === 'registered', `${p} registered`);
    await settle([P1, P2, P3, P5]);
    const t1 = new Date().toISOString();

    // Subscriptions from now: the county (every kind), 茂南区 (household moves), and one whose endpoint fails.
    const subscribe = async (body: Json): Promise<Json> => {
      const r = await call('dynamic-update', 'POST', '/subscriptions', admin, body);
      expect(r.status).toBe(201);
      expect(r.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      return r.body;
    };
    const gz = await subscribe({ name: '高州市 全部变动', department: 'social-insurance', keyId: 'si-feed-1', division: '440981', webhookUrl: subscriber.url, from: 'now' });
    subscriber.secrets.set(gz.id, gz.secret);
    const mn = await subscribe({ name: '茂南区 户籍迁移', department: 'public-security', keyId: 'ps-feed-2', division: '440902', kinds: ['household.*'], webhookUrl: subscriber.url, from: 'now' });
    subscriber.secrets.set(mn.id, mn.secret);
    const down = await subscribe({ name: '审定', department: 'civil-affairs', keyId: 'ca-feed-3', division: '440981', kinds: ['registry.change-approved'], webhookUrl: failing.url, from: 'now' });
    failing.secrets.set(down.id, down.secret);
    failing.status = 500;
    expect(gz).toMatchObject({ division: '440981', kinds: [], status: 'active', createdBy: 'user:admin-1', webhookUrl: subscriber.url });
    // An administrator grants only within their own division: beyond it, the 404 of everything outside it.
    const beyond = await call('dynamic-update', 'POST', '/subscriptions', token('admin', '440902', 'admin-2'), { name: 'x', department: 'tax', keyId: 't', division: '440981' });
    expect(beyond).toEqual({ status: 404, body: { statusCode: 404, code: 'NOT_FOUND', message: 'not found' } });

    // ---- Phase B: a suspension, a death (reviewed by the county), a move out, an old echo.
    const b1 = await posted(si, [suspension]);
    await until(P1, (v) => v.items.outcome?.value === 'needs-survey', 'P1 re-compared after the suspension');
    const b2 = await posted(civil, [death]);
    expect(b2.events).toEqual([{ businessId: 'MZ-P2-1', type: 'death.registered', eventId: expect.any(String), status: 'pending-review', proposalId: expect.any(String) }]);
    const proposalId: string = b2.events[0].proposalId;
    const queue = await waitFor(async () => {
      const r = await call('dynamic-update', 'GET', '/changes', county);
      return r.body?.total === 1 ? r.body : undefined;
    }, { timeoutMs: 60_000, message: 'the county queue' });
    expect(queue.items).toEqual([
      expect.objectContaining({ proposalId, personId: pid(P2), citizenId: P2, division: VILLAGE, type: 'death.registered', changeEventId: b2.events[0].eventId, occurredAt: '2026-05-21T02:00:00.000Z', status: 'pending' }),
    ]);
    // Nothing of it is in the registry yet.
    expect((await registry(P2)).body.record.death).toBeNull();
    const approved = await call('dynamic-update', 'POST', `/changes/${proposalId}/approval`, county, { comment: '死亡证明核实' });
    expect(approved.status).toBe(201);
    expect(approved.body).toMatchObject({ proposalId, status: 'approved', decidedBy: 'county-1' });
    const twice = await call('dynamic-update', 'POST', `/changes/${proposalId}/approval`, county, {});
    expect(twice).toEqual({ status: 409, body: { statusCode: 409, code: 'CONFLICT', message: 'this change was already approved' } });
    await until(P2, (v) => v.items.outcome?.value === 'needs-survey', 'P2 re-compared after the approved death');
    const b3 = await posted(ps, [movedOut]);
    await until(P3, (v) => v.items.outcome?.value === 'exempt', 'P3 re-compared after moving out');
    // The higher registry relays an old "ended" of P5's pension: the county's business system holds the entry.
    const echo = await call('comparison', 'POST', '/records', higher, {
      records: [{ sourceRecordId: 'XR-P5', citizenId: P5, mode: 'snapshot', asOf: '2026-07-15T00:00:00.000Z', facts: { kind: 'insurance', ...pension, status: 'ended' } }],
    });
    expect(echo.status).toBe(202);
    await until(P5, (v) => v.record.sources['higher-registry'] !== undefined, 'the echo applied');
    await settle([P1, P2, P3, P5]);
    const t2 = new Date().toISOString();

    // ---- Phase C: payment stopped, a move in elsewhere, enrolled again, the county roster.
    const c1 = await posted(si, [stopped]);
    await until(P2, (v) => v.items.outcome?.value === 'exempt', 'P2 exempt as deceased');
    const c2 = await posted(ps, [movedIn]);
    await until(P3, (v) => v.items.outcome?.value === 'registered', 'P3 registered where they moved', clerkThere);
    const c3 = await posted(si, [reEnrolled]);
    await until(P1, (v) => v.items.outcome?.value === 'registered', 'P1 registered again');
    const snapshot = await fetch(`${stack.urls['dynamic-update']}/snapshots?kind=household&scope=440981&asOf=${encodeURIComponent('2026-12-01T00:00:00+08:00')}`, {
      method: 'POST',
      headers: { ...ps, 'content-type': 'application/x-ndjson' },
      body: ndjson(rosterLines),
    });
    expect(snapshot.status).toBe(201);
    const report = (await snapshot.json()) as Json;
    expect(report).toEqual({
      snapshotId: expect.any(String),
      department: 'public-security',
      kind: 'household',
      scope: '440981',
      asOf: '2026-11-30T16:00:00.000Z',
      actor: 'key:ps-e2e',
      status: 'completed',
      rows: 4,
      unchanged: 1,
      added: 1,
      updated: 1,
      older: 0,
      duplicates: 0,
      quarantined: 1,
      quarantinedByReason: { knownDivision: 1 },
      absent: 1,
      alreadyAbsent: 0,
      newerThanRoster: 0,
      events: 3,
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
      error: null,
    });
    const changes = await call('dynamic-update', 'GET', `/snapshots/${report.snapshotId}/changes`, ps);
    expect(changes.body).toEqual({
      snapshotId: report.snapshotId,
      total: 3,
      items: [
        { personId: pid(P2), citizenId: P2, slot: 'household', line: 2, change: 'updated', items: ['status'], eventId: expect.any(String) },
        { personId: pid(P4), citizenId: P4, slot: 'household', line: 3, change: 'added', items: ['address', 'name', 'phone', 'status', 'villageCode'], eventId: expect.any(String) },
        { personId: pid(P5), citizenId: P5, slot: 'household', line: null, change: 'absent', items: ['rosterAbsence.public-security:household'], eventId: expect.any(String) },
      ],
    });
    expect((await call('dynamic-update', 'GET', `/snapshots/${report.snapshotId}/quarantine`, ps)).body.items).toEqual([
      { line: 4, reason: 'knownDivision', raw: rosterLines[3], violations: [{ field: 'facts.villageCode', rule: 'knownDivision', message: 'facts.villageCode 440981999999 is not a known village/community code' }] },
    ]);
    // Another department sees no such snapshot.
    expect((await call('dynamic-update', 'GET', `/snapshots/${report.snapshotId}`, si)).status).toBe(404);
    await until(P4, (v) => v.items.outcome?.value === 'needs-survey', 'P4 compared');
    await until(P5, (v) => v.items['rosterAbsence.public-security:household'] !== undefined, 'P5 flagged');
    await settle([P1, P2, P3, P4, P5]);
    const t3 = new Date().toISOString();

    // ---- The registry records now.
    const p1 = (await registry(P1)).body;
    expect(p1.record).toMatchObject({
      name: '王一',
      hukouDivision: VILLAGE,
      hukouStatus: 'normal',
      insurance: {
        'pension:resident:440981': { status: 'active', since: '2026-09-01', department: 'social-insurance', eventId: eventIdOf(c3, 'SI-P1-5') },
        'medical:resident:440981': { status: 'active', since: '2026-03-01', department: 'social-insurance' },
      },
      contributions: { 'pension:resident:440981': { lastMonth: '2026-03', paidBy: 'government', amount: 200 } },
      card: { status: 'active', cardNumber: 'A12345678', issuedOn: '2026-03-10', issuingRegion: '440981' },
      comparison: { outcome: 'registered', reasons: [{ code: 'COMPLETE' }] },
      rosterAbsences: {},
      pendingChanges: {},
    });
    const p2 = (await registry(P2)).body;
    expect(p2.record).toMatchObject({
      hukouStatus: 'deceased',
      death: { deathDate: '2026-05-20', department: 'civil-affairs', eventId: approved.body.decisionEventId },
      benefits: { 'pension:resident:440981': { benefit: 'basic-pension', status: 'stopped', approvedOn: '2010-07-01', paymentStartedOn: '2010-08-01', paymentStoppedOn: '2026-06-01', stopReason: 'deceased' } },
      insurance: { 'pension:resident:440981': { status: 'active', receivingBenefit: false, benefitStatus: 'stopped' } },
      comparison: { outcome: 'exempt', reasons: [{ code: 'EXEMPT_DECEASED' }] },
      pendingChanges: {},
    });
    // One record for P3 wherever they live: filed in 茂南区 now, no longer seen by 高州市's clerk, handed over.
    const p3 = (await registry(P3, undefined, clerkThere)).body;
    expect(p3.record).toMatchObject({
      hukouDivision: ELSEWHERE,
      hukouStatus: 'normal',
      hukouAddress: '茂名市茂南区建设社区 8 号',
      migration: { movedOutOn: '2026-07-01', movedOutTo: '440902', movedOutFrom: VILLAGE, movedInOn: '2026-07-10', movedInFrom: VILLAGE },
      comparison: { outcome: 'registered' },
    });
    expect(await registry(P3)).toEqual({ status: 404, body: { statusCode: 404, code: 'NOT_FOUND', message: 'not found' } });
    expect((await call('dynamic-update', 'GET', '/exchange/handovers?division=440981', higher)).body).toEqual({
      division: '440981',
      next: null,
      items: [
        {
          personId: pid(P3),
          citizenId: P3,
          name: '张三',
          movedOutFrom: VILLAGE,
          movedOutOn: '2026-07-01',
          movedOutTo: '440902',
          arrived: true,
          insurance: [
            { key: 'medical:resident:440981', status: 'active', heldBy: 'social-insurance', since: '2020-01-01' },
            { key: 'pension:resident:440981', status: 'active', heldBy: 'social-insurance', since: '2020-01-01' },
          ],
        },
      ],
    });
    // Paged by an opaque cursor (the person ID of the page's last item), never a citizen ID in the URL.
    const page1 = await call('dynamic-update', 'GET', '/exchange/handovers?division=440981&limit=1', higher);
    expect(page1.body).toMatchObject({ next: pid(P3), items: [{ personId: pid(P3) }] });
    expect((await call('dynamic-update', 'GET', `/exchange/handovers?division=440981&limit=1&after=${pid(P3)}`, higher)).body).toEqual({ division: '440981', next: null, items: [] });
    expect(await call('dynamic-update', 'GET', `/exchange/handovers?division=440981&after=${P3}`, higher)).toEqual({
      status: 400,
      body: { statusCode: 400, code: 'VALIDATION_FAILED', message: 'validation failed: after', violations: [{ field: 'after', rule: 'matches', message: "after must be the previous page's next (a person ID)" }] },
    });
    // The echo of the higher registry changed no status: the insuring region's business system wins.
    expect((await registry(P5)).body.record.insurance['pension:resident:440981']).toMatchObject({ status: 'active', department: 'social-insurance', eventId: eventIdOf(a1, 'SI-P5-1') });
    expect((await registry(P5)).body.record.rosterAbsences).toEqual({
      'public-security:household': { snapshotId: report.snapshotId, department: 'public-security', kind: 'household', slot: 'household', scope: '440981', rosterAsOf: '2026-11-30T16:00:00.000Z', eventId: changes.body.items[2].eventId },
    });
    // Flagged, never deleted: P5's household is still held.
    expect((await registry(P5)).body.record.household).toMatchObject({ name: '赵五', villageCode: VILLAGE, status: 'normal' });

    // ---- Field provenance: the source and time of each value, and the event that set it.
    const p1History = (await call('dynamic-update', 'GET', `/registry/${pid(P1)}/history?limit=1000`, clerk)).body.items as Json[];
    const byEvent = (eventId: string): Json => p1History.find((h) => h.eventId === eventId);
    expect(p1.items['insurance.pension:resident:440981.status']).toEqual({
      value: 'active',
      source: 'dept:social-insurance',
      asOf: '2026-09-01T01:00:00.000Z',
      changedBy: {
        version: byEvent(eventIdOf(c3, 'SI-P1-5')).version,
        eventId: eventIdOf(c3, 'SI-P1-5'),
        type: 'insurance.enrolled',
        source: 'dept:social-insurance',
        actor: 'key:si-e2e',
        occurredAt: '2026-09-01T01:00:00.000Z',
        recordedAt: expect.any(String),
        causationId: null,
      },
    });
    expect(p1.items.name).toMatchObject({ value: '王一', source: 'dept:public-security', asOf: '2026-01-01T00:00:00.000Z', changedBy: { type: 'source.record-received', source: 'dept:public-security', actor: 'key:ps-e2e' } });
    expect(p1.items.birthDate).toMatchObject({ value: '1970-03-15', source: 'citizen-id', asOf: null });
    expect(p1.items['card.number']).toMatchObject({ value: 'A12345678', source: 'dept:social-security-card', asOf: '2026-03-10T01:00:00.000Z', changedBy: { eventId: eventIdOf(a2, 'K-P1-1') } });
    expect(p1.items['contribution.pension:resident:440981.lastMonth']).toMatchObject({ value: '2026-03', source: 'dept:social-insurance', changedBy: { eventId: eventIdOf(a1, 'SI-P1-3') } });
    expect(p1.items.outcome).toMatchObject({ value: 'registered', source: 'svc:comparison', changedBy: { type: 'comparison.outcome-determined', causationId: eventIdOf(c3, 'SI-P1-5') } });
    // Who and what caused each change: every history row names its event, source, actor and what it changed.
    expect(byEvent(eventIdOf(b1, 'SI-P1-4'))).toMatchObject({
      type: 'insurance.suspended',
      source: 'dept:social-insurance',
      actor: 'key:si-e2e',
      changes: [{ item: 'insurance.pension:resident:440981.status', from: 'active', to: 'suspended' }],
    });

    // ---- The records as of three moments.
    const at = async (personKey: string, moment: string, who = clerk): Promise<Json> => (await registry(personKey, moment, who)).body;
    const [p1t1, p1t2, p1t3] = [await at(P1, t1), await at(P1, t2), await at(P1, t3)];
    expect([p1t1, p1t2, p1t3].map((v) => [v.items['insurance.pension:resident:440981.status'].value, v.items.outcome.value, v.items['outcome.reasons'].value])).toEqual([
      ['active', 'registered', 'COMPLETE'],
      ['suspended', 'needs-survey', 'PARTLY_INSURED_NO_PENSION'],
      ['active', 'registered', 'COMPLETE'],
    ]);
    expect(p1t2.items['insurance.pension:resident:440981.status'].changedBy.eventId).toBe(eventIdOf(b1, 'SI-P1-4'));
    expect(p1t3.record).toEqual(p1.record);
    expect(p1t1.asOf).toBe(new Date(t1).toISOString());
    const p2at = [await at(P2, t1), await at(P2, t2), await at(P2, t3)];
    expect(p2at.map((v) => [v.record.death?.deathDate ?? null, v.record.hukouStatus, v.record.comparison.outcome, v.items['benefit.pension:resident:440981.status'].value])).toEqual([
      [null, 'normal', 'registered', 'basic-pension paying'],
      ['2026-05-20', 'normal', 'needs-survey', 'basic-pension paying'],
      ['2026-05-20', 'deceased', 'exempt', 'basic-pension stopped'],
    ]);
    const all = provinceWide();
    const p3at = [await at(P3, t1, all), await at(P3, t2, all), await at(P3, t3, all)];
    expect(p3at.map((v) => [v.record.hukouDivision, v.record.hukouStatus, v.record.comparison.outcome])).toEqual([
      [VILLAGE, 'normal', 'registered'],
      [VILLAGE, 'moved-out', 'exempt'],
      [ELSEWHERE, 'normal', 'registered'],
    ]);
    expect(await registry(P4, t2)).toEqual({ status: 404, body: { statusCode: 404, code: 'NOT_FOUND', message: 'not found' } });

    // ---- The re-comparisons the business events and the roster caused.
    const outcome = (from: string, to: string, reasonsFrom: string, reasonsTo: string, needsSurvey?: [boolean, boolean]) => [
      ...(needsSurvey ? [{ item: 'flags.needsSurvey', from: needsSurvey[0], to: needsSurvey[1] }] : []),
      { item: 'outcome', from, to },
      { item: 'outcome.reasons', from: reasonsFrom, to: reasonsTo },
    ];
    const proposals = (await call('dynamic-update', 'GET', `/registry/${pid(P2)}/history?limit=1000`, clerk)).body.items.filter((h: Json) => h.type === 'registry.change-approved');
    expect(await outcomes(P1, t1)).toEqual([
      { causationId: eventIdOf(b1, 'SI-P1-4'), changes: outcome('registered', 'needs-survey', 'COMPLETE', 'PARTLY_INSURED_NO_PENSION', [false, true]) },
      { causationId: eventIdOf(c3, 'SI-P1-5'), changes: outcome('needs-survey', 'registered', 'PARTLY_INSURED_NO_PENSION', 'COMPLETE', [true, false]) },
    ]);
    expect(await outcomes(P2, t1)).toEqual([
      { causationId: proposals[0].eventId, changes: outcome('registered', 'needs-survey', 'COMPLETE', 'BENEFIT_AFTER_DEATH', [false, true]) },
      { causationId: eventIdOf(c1, 'SI-P2-5'), changes: outcome('needs-survey', 'exempt', 'BENEFIT_AFTER_DEATH', 'EXEMPT_DECEASED', [true, false]) },
    ]);
    expect(await outcomes(P3, t1)).toEqual([
      { causationId: eventIdOf(b3, 'GA-P3-1'), changes: outcome('registered', 'exempt', 'COMPLETE', 'EXEMPT_MOVED_OUT') },
      { causationId: eventIdOf(c2, 'GA-P3-2'), changes: outcome('exempt', 'registered', 'EXEMPT_MOVED_OUT', 'COMPLETE') },
    ]);
    expect(await outcomes(P4, t1)).toEqual([
      { causationId: changes.body.items[1].eventId, changes: [{ item: 'flags.needsSurvey', from: false, to: true }, { item: 'outcome', from: null, to: 'needs-survey' }, { item: 'outcome.reasons', from: null, to: 'UNINSURED' }] },
    ]);
    // The echo and the absence re-compared nobody's outcome.
    expect(await outcomes(P5, t1)).toEqual([]);

    // ---- What the webhook subscribers received, exactly.
    const delivered = await waitFor(() => {
      const entries = subscriber.entries(gz.id);
      return entries.length >= 16 ? entries : undefined;
    }, { timeoutMs: 30_000, message: 'the county webhook' });
    expect(subscriber.calls.every((c) => c.signed)).toBe(true);
    const seqs = delivered.map((e: Json) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a: number, b: number) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    const of = (personKey: string): Json[] => delivered.filter((e: Json) => e.personId === pid(personKey)).map((e: Json) => ({ type: e.type, division: e.division, leftScope: e.leftScope, changes: e.changes }));
    const here = (type: string, changes: Json[]): Json => ({ type, division: VILLAGE, leftScope: false, changes });
    expect(of(P1)).toEqual([
      here('insurance.suspended', [{ item: 'insurance.pension:resident:440981.status', from: 'active', to: 'suspended' }]),
      here('comparison.outcome-determined', outcome('registered', 'needs-survey', 'COMPLETE', 'PARTLY_INSURED_NO_PENSION', [false, true])),
      here('insurance.enrolled', [
        { item: 'insurance.pension:resident:440981.since', from: '2026-03-01', to: '2026-09-01' },
        { item: 'insurance.pension:resident:440981.status', from: 'suspended', to: 'active' },
      ]),
      here('comparison.outcome-determined', outcome('needs-survey', 'registered', 'PARTLY_INSURED_NO_PENSION', 'COMPLETE', [true, false])),
    ]);
    expect(of(P2)).toEqual([
      here('registry.change-proposed', [{ item: `pendingChange.${proposalId}`, from: null, to: 'death.registered' }]),
      here('registry.change-approved', [
        { item: 'death.deathDate', from: null, to: '2026-05-20' },
        { item: `pendingChange.${proposalId}`, from: 'death.registered', to: null },
      ]),
      here('comparison.outcome-determined', outcome('registered', 'needs-survey', 'COMPLETE', 'BENEFIT_AFTER_DEATH', [false, true])),
      here('insurance.payment-stopped', [
        { item: 'benefit.pension:resident:440981.status', from: 'basic-pension paying', to: 'basic-pension stopped' },
        { item: 'insurance.pension:resident:440981.benefitStatus', from: 'receiving', to: 'stopped' },
      ]),
      here('comparison.outcome-determined', outcome('needs-survey', 'exempt', 'BENEFIT_AFTER_DEATH', 'EXEMPT_DECEASED', [true, false])),
      here('source.record-received', [{ item: 'hukouStatus', from: 'normal', to: 'deceased' }]),
    ]);
    // P3 moved away: 高州市 hears that they left, nothing of where they are now.
    expect(of(P3)).toEqual([
      here('household.moved-out', [
        { item: 'hukouStatus', from: 'normal', to: 'moved-out' },
        { item: 'migration.movedOutOn', from: null, to: '2026-07-01' },
        { item: 'migration.movedOutTo', from: null, to: '440902' },
      ]),
      here('comparison.outcome-determined', outcome('registered', 'exempt', 'COMPLETE', 'EXEMPT_MOVED_OUT')),
      { type: 'household.moved-in', division: null, leftScope: true, changes: [] },
    ]);
    expect(of(P4)).toEqual([
      { type: 'source.record-received', division: VILLAGE_2, leftScope: false, changes: [
        { item: 'birthDate', from: null, to: '1990-01-01' },
        { item: 'citizenId', from: null, to: P4 },
        { item: 'citizenIdValid', from: null, to: true },
        { item: 'flags.duplicate', from: null, to: false },
        { item: 'flags.inaccurate', from: null, to: false },
        { item: 'flags.needsSurvey', from: null, to: false },
        { item: 'hukouAddress', from: null, to: '高州市石仔岭街道孙四家' },
        { item: 'hukouDivision', from: null, to: VILLAGE_2 },
        { item: 'hukouStatus', from: null, to: 'normal' },
        { item: 'name', from: null, to: '孙四' },
        { item: 'phone', from: null, to: `139${P4.slice(-9, -1)}` },
        { item: 'sex', from: null, to: 'female' },
      ] },
      { type: 'comparison.outcome-determined', division: VILLAGE_2, leftScope: false, changes: [{ item: 'flags.needsSurvey', from: false, to: true }, { item: 'outcome', from: null, to: 'needs-survey' }, { item: 'outcome.reasons', from: null, to: 'UNINSURED' }] },
    ]);
    expect(of(P5)).toEqual([here('registry.absent-from-roster', [{ item: 'rosterAbsence.public-security:household', from: null, to: '2026-11-30T16:00:00.000Z' }])]);
    expect(delivered).toHaveLength(16);
    // 茂南区 sees the arrival whole, and nothing of 高州市's people.
    expect(subscriber.entries(mn.id).map((e: Json) => ({ type: e.type, personId: e.personId, division: e.division, changes: e.changes }))).toEqual([
      {
        type: 'household.moved-in',
        personId: pid(P3),
        division: ELSEWHERE,
        changes: [
          { item: 'hukouAddress', from: '高州市石仔岭街道张三家', to: '茂名市茂南区建设社区 8 号' },
          { item: 'hukouDivision', from: VILLAGE, to: ELSEWHERE },
          { item: 'hukouStatus', from: 'moved-out', to: 'normal' },
          { item: 'migration.movedInFrom', from: null, to: VILLAGE },
          { item: 'migration.movedInOn', from: null, to: '2026-07-10' },
        ],
      },
    ]);
    // The same feed read by pull, with its key, equals what the webhook carried; another key sees no such subscription.
    const pulled = await call('dynamic-update', 'GET', `/feed?subscription=${gz.id}&after=${seqs[0] - 1}&limit=500`, key('social-insurance', 'si-feed-1'));
    expect(pulled.body.entries).toEqual(delivered);
    expect((await call('dynamic-update', 'GET', `/feed?subscription=${gz.id}`, key('social-insurance', 'si-other'))).status).toBe(404);

    // ---- The failing endpoint: tried three times, then a dead letter; redelivered once it answers.
    const dead = await waitFor(async () => {
      const r = await call('dynamic-update', 'GET', `/subscriptions/${down.id}/dead-letters`, admin);
      return r.body?.total === 1 ? r.body.items[0] : undefined;
    }, { timeoutMs: 30_000, message: 'the dead letter' });
    expect(dead).toMatchObject({ attempts: 3, lastError: 'HTTP 500', redeliveredAt: null, entries: [{ type: 'registry.change-approved', personId: pid(P2) }] });
    expect(failing.calls).toEqual([]);
    failing.status = 200;
    const redelivery = await call('dynamic-update', 'POST', `/subscriptions/${down.id}/dead-letters/${dead.id}/redelivery`, key('civil-affairs', 'ca-feed-3'));
    expect(redelivery).toEqual({ status: 200, body: { deadLetterId: dead.id, result: { ok: true, status: 200 } } });
    expect(failing.calls.map((c) => [c.signed, c.body.entries.map((e: Json) => e.eventId)])).toEqual([[true, [proposals[0].eventId]]]);

    // ---- Re-posting every event and the roster changes nothing.
    const logBefore = (await readAllEvents(testKafkaSettings(stack.topic))).length;
    const versions = async (): Promise<number[]> => Promise.all([P1, P2, P3, P4, P5].map(async (p) => (await registry(p, undefined, all)).body.version));
    const versionsBefore = await versions();
    const again = [
      await posted(si, [...phaseA.si, suspension, stopped, reEnrolled]),
      await posted(card, phaseA.card),
      await posted(civil, [death]),
      await posted(ps, [movedOut, movedIn]),
    ];
    expect(again.flatMap((r) => r.events.map((e: Json) => e.status))).toEqual(Array(18).fill('already-applied'));
    expect(again[0].events.map((e: Json) => e.eventId)).toEqual([...a1.events, ...b1.events, ...c1.events, ...c3.events].map((e: Json) => e.eventId));
    const resent = await fetch(`${stack.urls['dynamic-update']}/snapshots?kind=household&scope=440981&asOf=${encodeURIComponent('2026-12-01T00:00:00+08:00')}`, {
      method: 'POST',
      headers: { ...ps, 'content-type': 'application/x-ndjson' },
      body: ndjson(rosterLines),
    });
    expect((await resent.json()) as Json).toMatchObject({ status: 'completed', rows: 4, unchanged: 3, added: 0, updated: 0, quarantined: 1, absent: 0, alreadyAbsent: 1, events: 0 });
    await settle([P1, P2, P3, P4, P5]);
    expect(await versions()).toEqual(versionsBefore);
    expect((await readAllEvents(testKafkaSettings(stack.topic))).length).toBe(logBefore);
    expect(subscriber.entries(gz.id)).toHaveLength(16);
  });
});
