import type { INestApplication } from '@nestjs/common';
import { mintToken } from '@qmcb/auth';
import { LINK_CONFIRMED, LINK_INITIAL_APPROVED, LINK_PROPOSED, LINK_REJECTED, SOURCE_RECORD_RECEIVED, deterministicId, newEvent } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { checkCharacter } from '@qmcb/domain';
import { EventLogProducer } from '@qmcb/event-log';
import { PersonIds } from '@qmcb/platform';
import { createServiceTestingApp, loadServiceConfig } from '@qmcb/service-kit';
import { createTestDatabase, createTestTopic, deleteTestTopic, readAllEvents, testKafkaSettings, waitFor } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import { randomBytes } from 'crypto';
import type { AddressInfo } from 'net';
import { Client } from 'pg';
import { ReviewModule } from '../review.module';

/**
 * Review of identity links through the review service on the real broker, PostgreSQL and Redis:
 * links comparison proposes (appended here as comparison would) are queued where the person lives,
 * passed on by the township, confirmed by someone else at the county, or rejected; every decision an
 * exact event on the log, every refusal the one body of its kind.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field
type Json = any;
const JWT_SECRET = randomBytes(32).toString('base64url');
const VILLAGE = '440981002001';
const OTHER_VILLAGE = '440981003001';
const id = (first17: string): string => `${first17}${checkCharacter(first17)}`;
const A = id('44098119850101001'); // a check-character typo: confirmed
const B = id('44098119850202003'); // one digit: rejected at the county
const C = id('44098119850303005'); // another township: not the reviewer's
const recordKeyOf = (n: number): string => `X-${String(n).repeat(32).slice(0, 32)}`;
const linkOf = (person: string): string => deterministicId('link', person);

const origin = (at: string, source = 'svc:comparison') => ({ source, actor: source, occurredAt: at, correlationId: deterministicId('corr', at) });
const household = (person: string, village: string, name: string): RegistrationEvent =>
  newEvent(SOURCE_RECORD_RECEIVED, deterministicId('hh', person), person, {
    department: 'public-security', sourceRecordId: `HJ-${person.slice(-4)}`, mode: 'snapshot', asOf: '2026-11-01T00:00:00.000Z', citizenIdAsSent: person, citizenIdValid: true,
    facts: { kind: 'household', name, villageCode: village, status: 'normal', phone: '13800138000', address: '广东省高州市石仔岭街道南宫居委会 1 号' },
  }, origin('2026-11-01T00:00:00.000Z', 'svc:comparison'));
const proposal = (person: string, n: number, asSent: string): RegistrationEvent =>
  newEvent(LINK_PROPOSED, deterministicId('proposal', person), person, {
    linkId: linkOf(person), recordKey: recordKeyOf(n), citizenIdAsSent: asSent, sources: [{ department: 'social-insurance', sourceRecordId: `SI-${n}` }],
    scoring: 'id-link', scoringVersion: 1, score: 80, threshold: 80,
    criteria: [{ criterion: 'CITIZEN_ID_CHECK_CHARACTER', points: 60, detail: 'check character differs' }, { criterion: 'NAME', points: 20, detail: 'same name' }],
  }, origin('2026-11-02T00:00:00.000Z'));

describe('identity links in review (real Kafka, PostgreSQL, Redis)', () => {
  let topic: string;
  let db: TestDatabase;
  let app: INestApplication;
  let url: string;
  let ids: PersonIds;
  const token = (role: string, division: string, sub: string): Record<string, string> => ({
    authorization: `Bearer ${mintToken({ sub, name: sub, role: role as never, division, ttlSeconds: 3600 }, JWT_SECRET)}`,
    'x-purpose': 'review',
  });
  const township = token('grassroots-reviewer', '440981002', 'township-1');
  const county = token('county-approver', '440981', 'county-1');
  const otherCounty = token('county-approver', '440981', 'county-2');
  /** The township reviewer, signed in as a county approver: the same person at both stages. */
  const townshipAsCounty = token('county-approver', '440981', 'township-1');

  async function call(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }
  const linkEvents = async (): Promise<RegistrationEvent[]> =>
    (await readAllEvents(testKafkaSettings(topic))).filter((e) => [LINK_INITIAL_APPROVED, LINK_CONFIRMED, LINK_REJECTED].includes(e.type));

  beforeAll(async () => {
    topic = await createTestTopic(3);
    db = await createTestDatabase();
    const env = { ...process.env, DATABASE_URL: db.url, LOG_TOPIC: topic, CONSUMER_GROUP: `review-${topic}`, AUTH_JWT_SECRET: JWT_SECRET, API_KEY_SECRET: randomBytes(32).toString('base64url') };
    const { config, kafka } = loadServiceConfig('review', env);
    ids = new PersonIds(config.PERSON_ID_SECRET);
    app = await createServiceTestingApp(ReviewModule.register(config, kafka));
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    const producer = await EventLogProducer.connect(testKafkaSettings(topic));
    try {
      await producer.append([
        household(A, VILLAGE, '李明'), household(B, VILLAGE, '王芳'), household(C, OTHER_VILLAGE, '张伟'),
        proposal(A, 1, `${A.slice(0, 17)}${A[17] === '0' ? '1' : '0'}`), proposal(B, 2, `${B.slice(0, 15)}1${B.slice(16)}`), proposal(C, 3, C.replace(/3$/, '0')),
      ]);
    } finally {
      await producer.disconnect();
    }
    await waitFor(async () => (await call('GET', '/links?division=440981', county)).body?.total === 3, { timeoutMs: 60_000, message: 'three links in review' });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
    if (topic) await deleteTestTopic(topic);
  });

  it("lists the township's links, oldest first, with person IDs and the scoring; another township's stays out", async () => {
    const page = await call('GET', '/links?stage=initial&status=pending', township);
    expect(page.status).toBe(200);
    expect(page.body.total).toBe(2);
    expect(page.body.items.map((l: { personId: string }) => ids.keyOf(l.personId))).toEqual([A, B].sort((x, y) => (linkOf(x) < linkOf(y) ? -1 : 1)));
    const a = page.body.items.find((l: { linkId: string }) => l.linkId === linkOf(A));
    expect(a).toEqual({
      linkId: linkOf(A), personId: ids.idOf(A), citizenIdMasked: `${A.slice(0, 6)}********${A.slice(-4)}`,
      records: { personId: ids.idOf(recordKeyOf(1)), citizenIdAsSent: `${A.slice(0, 17)}${A[17] === '0' ? '1' : '0'}`, sources: [{ department: 'social-insurance', sourceRecordId: 'SI-1' }] },
      score: 80, threshold: 80,
      criteria: [{ criterion: 'CITIZEN_ID_CHECK_CHARACTER', points: 60, detail: 'check character differs' }, { criterion: 'NAME', points: 20, detail: 'same name' }],
      villageCode: VILLAGE, stage: 'initial', status: 'pending', proposedAt: '2026-11-02T00:00:00.000Z',
      initialReviewer: null, initialComment: null, decidedBy: null, decisionNote: null, decidedAt: null, version: 1,
    });
    // The link of a person of another township answers as if it did not exist.
    expect(await call('GET', `/links/${linkOf(C)}`, township)).toEqual({ status: 404, body: { statusCode: 404, code: 'NOT_FOUND', message: 'not found' } });
    const view = await call('GET', `/links/${linkOf(A)}`, township);
    expect(view.status).toBe(200);
    expect(view.body.person).toEqual({ personId: ids.idOf(A), name: '李明', sex: 'male', birthDate: '1985-01-01', address: '广东省高州市石仔岭街道南宫居委会 1 号', insurance: [] });
    // The records under the mistyped ID were never sent here: nothing to show beside the person.
    expect(view.body.records).toBeNull();
  });

  it('confirms a link in two stages by two people: review.link-initial-approved, then review.link-confirmed, exactly', async () => {
    const first = await call('POST', `/links/${linkOf(A)}/initial-approval`, township, { expectedVersion: 1, comment: '本人持证核实' });
    expect(first).toEqual({ status: 201, body: { linkId: linkOf(A), eventId: expect.any(String), stage: 'final', status: 'pending', version: 2 } });
    // Four eyes: whoever gave the initial review cannot give the final approval.
    expect(await call('POST', `/links/${linkOf(A)}/final-approval`, townshipAsCounty, { expectedVersion: 2 })).toEqual({
      status: 403, body: { statusCode: 403, code: 'FORBIDDEN', message: 'you gave this item its initial review: someone else must give the final approval' },
    });
    // Not at the initial stage any more; nor at version 1.
    expect((await call('POST', `/links/${linkOf(A)}/initial-approval`, township, { expectedVersion: 2 })).body).toEqual({ statusCode: 409, code: 'CONFLICT', message: `link ${linkOf(A)} is at the final stage, not initial` });
    expect((await call('POST', `/links/${linkOf(A)}/final-approval`, county, { expectedVersion: 1 })).body).toEqual({
      statusCode: 409, code: 'CONFLICT', message: `link ${linkOf(A)} is at version 2, not 1: reload it and decide again`,
    });
    const confirmed = await call('POST', `/links/${linkOf(A)}/final-approval`, county, { expectedVersion: 2, comment: '同意' });
    expect(confirmed).toEqual({ status: 201, body: { linkId: linkOf(A), eventId: expect.any(String), stage: 'done', status: 'confirmed', version: 3 } });

    const events = await waitFor(async () => {
      const es = (await linkEvents()).filter((e) => e.personKey === A);
      return es.length === 2 ? es : undefined;
    }, { timeoutMs: 30_000, message: 'the two decisions on the log' });
    expect(events.map((e) => [e.eventId, e.type, e.personKey, e.actor, e.source, e.payload])).toEqual([
      [first.body.eventId, LINK_INITIAL_APPROVED, A, 'user:township-1', 'svc:review', { linkId: linkOf(A), recordKey: recordKeyOf(1), reviewerId: 'township-1', townshipCode: '440981002', comment: '本人持证核实' }],
      [confirmed.body.eventId, LINK_CONFIRMED, A, 'user:county-1', 'svc:review', { linkId: linkOf(A), recordKey: recordKeyOf(1), reviewerId: 'county-1', comment: '同意' }],
    ]);
    // Decided: nothing more to decide.
    expect((await call('POST', `/links/${linkOf(A)}/reject`, otherCounty, { expectedVersion: 3, reason: 'x' })).body).toEqual({ statusCode: 409, code: 'CONFLICT', message: `link ${linkOf(A)} is confirmed, not pending` });
  });

  it('rejects a link at the county after the initial review, with the reason: review.link-rejected', async () => {
    expect((await call('POST', `/links/${linkOf(B)}/initial-approval`, township, { expectedVersion: 1 })).status).toBe(201);
    // A grassroots reviewer cannot give the final approval; a county approver cannot give the initial review.
    expect((await call('POST', `/links/${linkOf(B)}/final-approval`, township, { expectedVersion: 2 })).body).toEqual({ statusCode: 403, code: 'FORBIDDEN', message: 'role grassroots-reviewer may not call this endpoint' });
    const rejected = await call('POST', `/links/${linkOf(B)}/reject`, county, { expectedVersion: 2, reason: '出生日期不符,不是同一人' });
    expect(rejected).toEqual({ status: 201, body: { linkId: linkOf(B), eventId: expect.any(String), stage: 'done', status: 'rejected', version: 3 } });
    const event = await waitFor(async () => (await linkEvents()).find((e) => e.type === LINK_REJECTED), { timeoutMs: 30_000, message: 'the rejection on the log' });
    expect([event.eventId, event.personKey, event.payload]).toEqual([rejected.body.eventId, B, { linkId: linkOf(B), recordKey: recordKeyOf(2), reviewerId: 'county-1', reason: '出生日期不符,不是同一人' }]);
    expect((await call('GET', '/links?status=rejected', county)).body.items.map((l: { linkId: string; decidedBy: string; decisionNote: string }) => [l.linkId, l.decidedBy, l.decisionNote])).toEqual([
      [linkOf(B), 'county-1', '出生日期不符,不是同一人'],
    ]);
  });

  it('refuses bad input by name and records every read and decision in the audit trail with the people concerned', async () => {
    expect((await call('POST', `/links/${linkOf(C)}/reject`, county, { expectedVersion: 1, reason: '' })).body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', violations: [{ field: 'reason' }] });
    expect((await call('GET', '/links/not-a-uuid', county)).status).toBe(400);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      // A write's entry is written once its answer has left; it names the people by person ID.
      const rows = await waitFor(async () => {
        const { rows: found } = await client.query<{ route: string; result: string; people: string[] }>(
          `SELECT (entry::jsonb)->>'route' AS route, result, people FROM audit.audit_event WHERE actor = 'user:county-1' AND (entry::jsonb)->>'route' = '/links/:linkId/final-approval' AND result = 'ok'`,
        );
        return found.length > 0 ? found : undefined;
      }, { timeoutMs: 10_000, message: 'the audit entry of the confirmation' });
      expect(rows.map((r) => [r.route, r.result, [...r.people].sort()])).toEqual([['/links/:linkId/final-approval', 'ok', [ids.idOf(A), ids.idOf(recordKeyOf(1))].sort()]]);
    } finally {
      await client.end();
    }
  });
});
