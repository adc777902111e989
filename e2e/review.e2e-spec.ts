import { mintApiKey, mintToken } from '@qmcb/auth';
import { deterministicId } from '@qmcb/contracts';
import type { Department } from '@qmcb/contracts';
import { checkCharacter } from '@qmcb/domain';
import { PersonIds } from '@qmcb/platform';
import { freeServicePorts, httpJson, readAllEvents, startIsolatedStack, testKafkaSettings, waitFor } from '@qmcb/testing';
import type { HttpResult, IsolatedStack, ServiceName } from '@qmcb/testing';
import { randomBytes } from 'crypto';
import { join } from 'path';
import { Client } from 'pg';

/**
 * Review (审核) of changes from every channel over HTTP, against the real broker, PostgreSQL and Redis:
 * the window (§13: gaps, collection, two approvals, gaps gone), self-service (§14, §23: a citizen and
 * only their own record), the grassroots platform (§21), department changes, bulk approval, stale and
 * conflicting items, concurrent decisions, four eyes and division scope, and what each decision
 * leaves in the registry, the survey target and the audit trail.
 */
const JWT_SECRET = randomBytes(32).toString('base64url');
const KEY_SECRET = randomBytes(32).toString('base64url');
const COUNTY = '440981'; // 高州市
const TOWNSHIP = '440981002'; // 石仔岭街道
const VILLAGE = '440981002001'; // 南宫居委会
const AS_OF = '2026-11-01T00:00:00.000Z';

const id = (first17: string): string => `${first17}${checkCharacter(first17)}`;
const P = {
  window: id('44098119850315123'), // no phone, uninsured: collected at the window
  citizen: id('44098119900701002'), // corrects their own record
  neighbour: id('44098119930303022'), // another citizen
  grassroots: id('44098119700101011'),
  department: id('44098119800505015'),
  bulk: [id('44098119600101012'), id('44098119600202014'), id('44098119600303016')],
  stale: id('44098119950909013'),
  race: id('44098119750606031'),
};

/** Why each role reads personal data here (X-Purpose, required where a route serves several purposes). */
const PURPOSES: Record<string, string> = { 'window-clerk': 'window-service', 'grassroots-reviewer': 'review', 'county-approver': 'review' };
const person = (role: string, sub: string, division: string, citizenId?: string): Record<string, string> => ({
  authorization: `Bearer ${mintToken({ sub, name: sub, role, division, ttlSeconds: 3600, ...(citizenId ? { citizenId } : {}) }, JWT_SECRET)}`,
  ...(PURPOSES[role] ? { 'x-purpose': PURPOSES[role] as string } : {}),
});
const key = (department: Department, keyId = `${department}-review`): { 'x-api-key': string } => ({ 'x-api-key': mintApiKey(department, keyId, KEY_SECRET) });

const clerk = person('window-clerk', 'clerk-1', COUNTY);
const township = person('grassroots-reviewer', 'township-1', TOWNSHIP);
const township2 = person('grassroots-reviewer', 'township-2', TOWNSHIP);
const county = person('county-approver', 'county-1', COUNTY);
const county2 = person('county-approver', 'county-2', COUNTY);
const otherTownship = person('grassroots-reviewer', 'township-9', '440981100');
const otherCounty = person('county-approver', 'county-9', '440902');

const uuid = (...parts: string[]): string => deterministicId('e2e-review', ...parts);
const RESIDENT_INSURANCE = [
  { insuranceType: 'pension', scheme: 'resident', status: 'active', region: COUNTY },
  { insuranceType: 'medical', scheme: 'resident', status: 'active', region: COUNTY },
];

function household(n: number, citizenId: string, facts: Record<string, unknown> = {}): object {
  return {
    sourceRecordId: `HJ-${n}`, citizenId, mode: 'snapshot', asOf: AS_OF,
    facts: { kind: 'household', name: `居民${n}`, villageCode: VILLAGE, status: 'normal', hukouType: 'agricultural', address: `南宫居委会 ${n} 号`, ...facts },
  };
}

describe('review of every channel', () => {
  let stack: IsolatedStack;
  let reviewDb: Client;

  beforeAll(async () => {
    stack = await startIsolatedStack({
      logDir: join(__dirname, '..', 'tmp', 'e2e-logs', 'review'),
      ports: await freeServicePorts(),
      env: () => ({ AUTH_JWT_SECRET: JWT_SECRET, API_KEY_SECRET: KEY_SECRET, REVIEW_GAUGES_INTERVAL_MS: '300' }),
    });
    reviewDb = new Client({ connectionString: stack.databaseUrls.review });
    await reviewDb.connect();
    const people = [P.window, P.citizen, P.neighbour, P.grassroots, P.department, ...P.bulk, P.stale, P.race];
    const posted = await call('comparison', 'POST', '/records', key('public-security'), { records: people.map((p, i) => household(i + 1, p)) });
    expect(posted.status).toBe(202);
    // Everyone is compared (uninsured, no phone) and known to review's projection.
    for (const p of people) {
      await waitFor(async () => (await call('review', 'POST', '/window/gaps', clerk, { citizenId: p })).body?.outcome === 'needs-survey', { timeoutMs: 60_000, message: `gaps of ${p}` });
    }
  }, 240_000);

  afterAll(async () => {
    await reviewDb?.end();
    await stack?.stop();
  });

  const call = (service: ServiceName, method: string, path: string, auth: Record<string, string>, body?: unknown): Promise<HttpResult> =>
    httpJson(stack.urls[service], method, path, auth, body);

  async function item(reviewId: string, as = county): Promise<{ item: { version: number; stage: string; status: string }; [k: string]: unknown }> {
    const r = await call('review', 'GET', `/reviews/${reviewId}`, as);
    expect(r.status).toBe(200);
    return r.body;
  }

  it('the window: a flagged person\'s gaps in words, what is collected enters review, two approvals, the gaps are gone and the registry holds it', async () => {
    const gaps = await call('review', 'POST', '/window/gaps', clerk, { citizenId: P.window });
    expect(gaps.status).toBe(200);
    expect(gaps.body).toEqual({
      person: { name: '居民1', citizenIdMasked: `${P.window.slice(0, 6)}********${P.window.slice(-4)}`, division: VILLAGE },
      outcome: 'needs-survey',
      needsSurvey: true,
      gaps: [
        {
          code: 'MISSING_PHONE', label: '缺少联系电话', explanation: '没有手机号码，请登记本人常用手机号。',
          collect: [{ field: 'phone', label: '联系电话', current: null }],
        },
        {
          code: 'UNINSURED', label: '未参保', explanation: '没有任何参保记录，请了解未参保原因并动员参保。',
          collect: [
            { field: 'insurance', label: '现参保情况', current: [] },
            { field: 'notInsuredReason', label: '未参保原因', current: null },
            { field: 'employmentStatus', label: '就业状态', current: null },
          ],
        },
      ],
      pending: [],
    });

    // A birth date that does not exist is refused naming the field, before anything enters review.
    expect(await call('review', 'POST', '/window/submissions', clerk, { citizenId: P.window, submissionId: uuid('window', 'feb30'), fields: { birthDate: '2031-02-30' }, evidence: [] })).toEqual({
      status: 400,
      body: {
        statusCode: 400, code: 'VALIDATION_FAILED', message: 'validation failed: fields.birthDate',
        violations: [{ field: 'fields.birthDate', rule: 'isCalendarDate', message: 'fields.birthDate must be a date that exists (YYYY-MM-DD), got "2031-02-30"' }],
      },
    });
    const submissionId = uuid('window', '1');
    const body = { citizenId: P.window, submissionId, fields: { phone: '13800138000', insurance: RESIDENT_INSURANCE, employmentStatus: 'farmer', notInsuredReason: null }, evidence: [] };
    const submitted = await call('review', 'POST', '/window/submissions', clerk, body);
    expect(submitted).toEqual({ status: 201, body: { reviewId: expect.any(String), submissionId, channel: 'window', stage: 'initial', status: 'pending', version: 1 } });
    // A retry after a lost answer submits nothing twice.
    expect(await call('review', 'POST', '/window/submissions', clerk, body)).toEqual(submitted);
    const { reviewId } = submitted.body;

    const view = await item(reviewId, township);
    expect(view).toMatchObject({
      item: { channel: 'window', kind: 'collection', stage: 'initial', status: 'pending', submitterId: 'clerk-1', reasons: ['MISSING_PHONE', 'UNINSURED'] },
      stale: [],
      conflicts: [],
      overdue: false,
    });
    expect(view['fields']).toEqual([
      { field: 'phone', label: '联系电话', current: null, proposed: '13800138000', before: null, changes: true, stale: false },
      { field: 'employmentStatus', label: '就业状态', current: null, proposed: 'farmer', before: null, changes: true, stale: false },
      { field: 'insurance', label: '现参保情况', current: [], proposed: RESIDENT_INSURANCE, before: [], changes: true, stale: false },
      { field: 'notInsuredReason', label: '未参保原因', current: null, proposed: null, before: null, changes: false, stale: false },
    ]);

    expect((await call('review', 'POST', `/reviews/${reviewId}/initial-approval`, township, { expectedVersion: 1, comment: '窗口采集，核实无误' })).body).toMatchObject({ stage: 'final', status: 'pending', version: 2 });
    expect((await call('review', 'POST', `/reviews/${reviewId}/final-approval`, county, { expectedVersion: 2 })).body).toMatchObject({ stage: 'done', status: 'approved', version: 3 });
    expect((await call('review', 'GET', `/window/submissions/${submissionId}`, clerk)).body).toMatchObject({ status: 'approved', stage: 'done' });

    const after = await waitFor(async () => {
      const r = await call('review', 'POST', '/window/gaps', clerk, { citizenId: P.window });
      return r.body.outcome === 'registered' ? r.body : undefined;
    }, { timeoutMs: 60_000, message: 'gaps gone' });
    expect(after).toMatchObject({ outcome: 'registered', needsSurvey: false, gaps: [], pending: [] });

    const registry = await waitFor(async () => {
      const r = await call('dynamic-update', 'POST', '/persons/lookup', clerk, { citizenId: P.window });
      return r.body?.record?.comparison?.outcome === 'registered' ? r.body.record : undefined;
    }, { timeoutMs: 60_000, message: 'registry record' });
    expect(registry).toMatchObject({ phone: '13800138000', employmentStatus: 'farmer', flags: { needsSurvey: false } });
    expect(registry.collected.approvals.phone).toEqual({ reviewId, channel: 'window', kind: 'collection', approvedAt: expect.any(String) });
    expect(Object.keys(registry.insurance).sort()).toEqual([`medical:resident:${COUNTY}`, `pension:resident:${COUNTY}`]);

    // The survey target opened for the person closed by itself: they were registered at the window.
    const survey = await waitFor(async () => {
      const r = await call('survey-tasking', 'POST', '/persons/lookup', clerk, { citizenId: P.window });
      return r.body?.tasks?.[0]?.status === 'closed' ? r.body.tasks[0] : undefined;
    }, { timeoutMs: 60_000, message: 'survey target closed' });
    expect(survey).toMatchObject({ status: 'closed', closedReason: 'OUTCOME_REGISTERED' });
  });

  it('self-service: a citizen sees and corrects only their own record, with evidence, and can withdraw', async () => {
    const me = person('citizen', 'citizen-1', COUNTY, P.citizen);
    const neighbour = person('citizen', 'citizen-2', COUNTY, P.neighbour);
    const own = await call('review', 'GET', '/me', me);
    expect(own.status).toBe(200);
    expect(own.body.record).toMatchObject({ citizenId: P.citizen, name: '居民2', phone: null, insurance: [] });
    expect(own.body.gaps.map((g: { code: string }) => g.code)).toEqual(['MISSING_PHONE', 'UNINSURED']);

    // A correction of the name needs evidence: refused naming the field and the rule.
    const noEvidence = await call('review', 'POST', '/me/corrections', me, { submissionId: uuid('self', '0'), fields: { name: '李小明' }, evidence: [] });
    expect(noEvidence).toEqual({
      status: 400,
      body: { statusCode: 400, code: 'VALIDATION_FAILED', message: 'a correction of name needs evidence', violations: [{ field: 'evidence', rule: 'arrayNotEmpty', message: 'evidence must name at least one document for a correction of name' }] },
    });
    const corrected = await call('review', 'POST', '/me/corrections', me, {
      submissionId: uuid('self', '1'), fields: { name: '李小明', phone: '13900139000' }, evidence: [{ kind: 'id-card', reference: '身份证正反面照片 P-1' }],
    });
    expect(corrected).toMatchObject({ status: 201, body: { channel: 'self-service', stage: 'initial', status: 'pending' } });

    // Only their own: the neighbour sees nothing of it, and nobody can name another person here.
    expect((await call('review', 'GET', '/me/requests', me)).body).toMatchObject([{ reviewId: corrected.body.reviewId, kind: 'correction', submitterId: 'citizen-1' }]);
    expect((await call('review', 'GET', '/me/requests', neighbour)).body).toEqual([]);
    expect((await call('review', 'GET', '/me', neighbour)).body.record.citizenId).toBe(P.neighbour);
    const theirs = await call('review', 'POST', `/me/requests/${corrected.body.reviewId}/withdraw`, neighbour, { expectedVersion: 1 });
    expect(theirs).toEqual({ status: 404, body: { statusCode: 404, code: 'NOT_FOUND', message: 'not found' } });
    // A citizen token opens no other route, with any person named.
    expect((await call('review', 'GET', `/reviews/${corrected.body.reviewId}`, me)).status).toBe(403);
    expect((await call('review', 'POST', '/window/gaps', me, { citizenId: P.neighbour })).status).toBe(403);
    expect((await call('review', 'POST', '/persons/lookup', me, { citizenId: P.neighbour })).status).toBe(403);
    expect((await call('dynamic-update', 'POST', '/persons/lookup', me, { citizenId: P.citizen })).status).toBe(403);
    // Self-service is for citizens only; and no citizen token exists without its citizen ID.
    expect((await call('review', 'GET', '/me', clerk)).status).toBe(403);
    expect(() => mintToken({ sub: 'x', name: 'x', role: 'citizen', division: COUNTY, ttlSeconds: 60 }, JWT_SECRET)).toThrow("cid must be the citizen's own 18-character citizen ID for role citizen");

    const withdrawn = await call('review', 'POST', `/me/requests/${corrected.body.reviewId}/withdraw`, me, { expectedVersion: 1 });
    expect(withdrawn).toMatchObject({ status: 200, body: { status: 'closed' } });
    expect((await item(corrected.body.reviewId, township)).item).toMatchObject({ status: 'closed', closeCode: 'withdrawn' });
  });

  it('identity items of every channel: a citizen ID must be valid and agree with sex and birth date (400), and be no other registered person\'s (409)', async () => {
    const me = person('citizen', 'citizen-1', COUNTY, P.citizen);
    const evidence = [{ kind: 'id-card', reference: '身份证正反面照片 P-9' }];
    const wrong = await call('review', 'POST', '/me/corrections', me, {
      submissionId: uuid('identity', '1'), fields: { citizenId: '440981199006061236', sex: 'female', birthDate: '2030-01-01' }, evidence,
    });
    expect(wrong).toEqual({
      status: 400,
      body: {
        statusCode: 400, code: 'VALIDATION_FAILED', message: 'the citizen ID, sex and birth date of the change must agree: 2 items wrong',
        violations: [
          { field: 'fields.citizenId', rule: 'citizenId', message: 'fields.citizenId fails GB 11643: the check character does not match (ISO 7064 MOD 11-2)' },
          { field: 'fields.birthDate', rule: 'notInFuture', message: 'fields.birthDate must not be in the future' },
        ],
      },
    });
    const disagrees = await call('review', 'POST', '/me/corrections', me, {
      submissionId: uuid('identity', '2'), fields: { citizenId: '440981199006061235', sex: 'female', birthDate: '1990-06-07' }, evidence,
    });
    expect(disagrees).toEqual({
      status: 400,
      body: {
        statusCode: 400, code: 'VALIDATION_FAILED', message: 'the citizen ID, sex and birth date of the change must agree: 2 items wrong',
        violations: [
          { field: 'fields.sex', rule: 'matchesCitizenId', message: 'fields.sex is female but citizen ID 440981********1235 says male' },
          { field: 'fields.birthDate', rule: 'matchesCitizenId', message: 'fields.birthDate is 1990-06-07 but citizen ID 440981********1235 says 1990-06-06' },
        ],
      },
    });
    // The window (and the grassroots platform, a department) are held to the same rules.
    const atWindow = await call('review', 'POST', '/window/submissions', clerk, { citizenId: P.window, submissionId: uuid('identity', '3'), fields: { sex: 'female' }, evidence });
    expect(atWindow).toEqual({
      status: 400,
      body: {
        statusCode: 400, code: 'VALIDATION_FAILED', message: 'the citizen ID, sex and birth date of the change must agree: 1 item wrong',
        violations: [{ field: 'fields.sex', rule: 'matchesCitizenId', message: `fields.sex is female but citizen ID ${P.window.slice(0, 6)}********${P.window.slice(-4)} says male` }],
      },
    });
    // Another registered person's citizen ID: refused, without saying whose.
    const theirs = await call('review', 'POST', '/me/corrections', me, {
      submissionId: uuid('identity', '4'), fields: { citizenId: P.neighbour, sex: 'female', birthDate: '1993-03-03' }, evidence,
    });
    expect(theirs).toEqual({
      status: 409,
      body: { statusCode: 409, code: 'CONFLICT', message: 'fields.citizenId is the citizen ID of another person in the registry: a correction cannot give it to this one (if both records are one person, registry maintenance links them)' },
    });
    const byDepartment = await call('review', 'POST', '/department-changes', key('civil-affairs'), {
      citizenId: P.grassroots, submissionId: uuid('identity', '5'), fields: { citizenId: P.stale, sex: 'male', birthDate: '1995-09-09' }, evidence,
    });
    expect(byDepartment.status).toBe(409);
    // Nothing refused entered review.
    const mine = (await call('review', 'GET', '/me/requests', me)).body.map((r: { submissionId: string }) => r.submissionId);
    expect(mine.filter((s: string) => ['1', '2', '4'].map((n) => uuid('identity', n)).includes(s))).toEqual([]);
  });

  it('the grassroots platform: its change goes to another reviewer (four eyes), who rejects it with a coded reason', async () => {
    // The platform records a change to keep the registry right: that is its purpose here, not a review.
    const submitted = await call('review', 'POST', '/grassroots/changes', { ...township, 'x-purpose': 'registry-maintenance' }, {
      citizenId: P.grassroots, submissionId: uuid('grassroots', '1'), fields: { phone: '13700137000', residenceAddress: '南宫居委会 9 号' }, evidence: [],
    });
    expect(submitted).toMatchObject({ status: 201, body: { channel: 'grassroots', stage: 'initial' } });
    const { reviewId } = submitted.body;
    const own = await call('review', 'POST', `/reviews/${reviewId}/initial-approval`, township, { expectedVersion: 1 });
    expect(own).toEqual({ status: 403, body: { statusCode: 403, code: 'FORBIDDEN', message: 'you submitted this item: someone else must review it' } });
    const rejected = await call('review', 'POST', `/reviews/${reviewId}/reject`, township2, { expectedVersion: 1, reasonCode: 'false-information', reason: '地址与实际不符' });
    expect(rejected).toMatchObject({ status: 201, body: { status: 'rejected' } });
    expect((await item(reviewId)).item).toMatchObject({ status: 'rejected', rejectCode: 'false-information', rejectReason: '地址与实际不符' });
    // Nothing of it entered the registry.
    const registry = await call('dynamic-update', 'POST', '/persons/lookup', clerk, { citizenId: P.grassroots });
    expect(registry.body.record).toMatchObject({ phone: null, collected: null });
  });

  it('a department change: returned naming the fields to fix, submitted again, and the first one closed as a duplicate', async () => {
    const civil = key('civil-affairs');
    const first = await call('review', 'POST', '/department-changes', civil, { citizenId: P.department, submissionId: uuid('dept', '1'), fields: { phone: '1370013700' + '1' }, evidence: [] });
    expect(first).toMatchObject({ status: 201, body: { channel: 'department' } });
    const returned = await call('review', 'POST', `/reviews/${first.body.reviewId}/return`, township, { expectedVersion: 1, reason: '号码不全', fieldsToFix: ['phone'] });
    expect(returned).toMatchObject({ status: 201, body: { status: 'returned' } });
    expect((await item(first.body.reviewId)).item).toMatchObject({ status: 'returned', returnReason: '号码不全', fieldsToFix: ['phone'] });
    const again = await call('review', 'POST', '/department-changes', civil, { citizenId: P.department, submissionId: uuid('dept', '2'), fields: { phone: '13700137002' }, evidence: [] });
    const duplicate = await call('review', 'POST', '/department-changes', civil, { citizenId: P.department, submissionId: uuid('dept', '3'), fields: { phone: '13700137002' }, evidence: [] });
    const closed = await call('review', 'POST', `/reviews/${duplicate.body.reviewId}/close`, township, { expectedVersion: 1, closeReason: 'duplicate', reason: `与 ${again.body.reviewId} 重复` });
    expect(closed).toMatchObject({ status: 201, body: { status: 'closed' } });
    // A submission ID used again for another person is refused.
    const reused = await call('review', 'POST', '/department-changes', civil, { citizenId: P.window, submissionId: uuid('dept', '2'), fields: { phone: '13700137002' }, evidence: [] });
    expect(reused).toEqual({ status: 409, body: { statusCode: 409, code: 'CONFLICT', message: `submission ${uuid('dept', '2')} was already used for another change` } });
  });

  it('bulk approval: a result per item, a stale version refused without undoing the others', async () => {
    const ids: string[] = [];
    for (const [i, p] of P.bulk.entries()) {
      const r = await call('review', 'POST', '/window/submissions', clerk, { citizenId: p, submissionId: uuid('bulk', String(i)), fields: { phone: `1360013600${i}` }, evidence: [] });
      ids.push(r.body.reviewId);
    }
    const initial = await call('review', 'POST', '/reviews/bulk-approval', township, {
      stage: 'initial', comment: '批量初审', items: [{ reviewId: ids[0], expectedVersion: 1 }, { reviewId: ids[1], expectedVersion: 7 }, { reviewId: ids[2], expectedVersion: 1 }],
    });
    expect(initial).toEqual({
      status: 200,
      body: {
        approved: 2,
        refused: 1,
        results: [
          { reviewId: ids[0], outcome: 'approved', eventId: expect.any(String), stage: 'final', status: 'pending', version: 2 },
          { reviewId: ids[1], outcome: 'refused', error: { statusCode: 409, code: 'CONFLICT', message: `review ${ids[1]} is at version 1, not 7: reload it and decide again` } },
          { reviewId: ids[2], outcome: 'approved', eventId: expect.any(String), stage: 'final', status: 'pending', version: 2 },
        ],
      },
    });
    const final = await call('review', 'POST', '/reviews/bulk-approval', county, { stage: 'final', items: [{ reviewId: ids[0], expectedVersion: 2 }, { reviewId: ids[2], expectedVersion: 2 }] });
    expect(final.body).toMatchObject({ approved: 2, refused: 0 });
    const overLimit = await call('review', 'POST', '/reviews/bulk-approval', county, { stage: 'final', items: Array.from({ length: 501 }, () => ({ reviewId: ids[0], expectedVersion: 1 })) });
    expect(overLimit.status).toBe(400);
    expect(overLimit.body.violations).toEqual([{ field: 'items', rule: 'arrayMaxSize', message: 'items must contain no more than 500 elements' }]);
  });

  it('a stale item: the record changed in its field since submission, approval refused, rebased, then approved; conflicting items shown', async () => {
    const submitted = await call('review', 'POST', '/window/submissions', clerk, { citizenId: P.stale, submissionId: uuid('stale', '1'), fields: { phone: '13500135000' }, evidence: [] });
    const other = await call('review', 'POST', '/grassroots/changes', { ...township2, 'x-purpose': 'registry-maintenance' }, { citizenId: P.stale, submissionId: uuid('stale', '2'), fields: { phone: '13500135999' }, evidence: [] });
    const { reviewId } = submitted.body;
    const view = await item(reviewId, township);
    expect(view['conflicts']).toEqual([{ reviewId: other.body.reviewId, channel: 'grassroots', fields: ['phone'] }]);

    // Public security now sends a phone for the person: the item's phone is stale.
    const household = { ...(household8(P.stale) as object) };
    expect((await call('comparison', 'POST', '/records', key('public-security'), { records: [household] })).status).toBe(202);
    await waitFor(async () => ((await item(reviewId, township))['stale'] as string[]).length === 1, { timeoutMs: 60_000, message: 'stale item' });
    const refused = await call('review', 'POST', `/reviews/${reviewId}/initial-approval`, township, { expectedVersion: 1 });
    expect(refused).toEqual({
      status: 409,
      body: { statusCode: 409, code: 'CONFLICT', message: `review ${reviewId} is stale: since it was submitted the record changed in phone; check it and rebase it (POST /reviews/${reviewId}/rebase), or return it` },
    });
    expect((await call('review', 'POST', `/reviews/${reviewId}/rebase`, township, { expectedVersion: 1 })).body).toMatchObject({ version: 2, status: 'pending' });
    expect((await call('review', 'POST', `/reviews/${reviewId}/initial-approval`, township, { expectedVersion: 2 })).body).toMatchObject({ stage: 'final' });
  });

  it('two approvers deciding the same item at once: exactly one wins, the other gets a conflict', async () => {
    const submitted = await call('review', 'POST', '/window/submissions', clerk, { citizenId: P.race, submissionId: uuid('race', '1'), fields: { phone: '13400134000' }, evidence: [] });
    const { reviewId } = submitted.body;
    await call('review', 'POST', `/reviews/${reviewId}/initial-approval`, township, { expectedVersion: 1 });
    const [a, b] = await Promise.all([
      call('review', 'POST', `/reviews/${reviewId}/final-approval`, county, { expectedVersion: 2 }),
      call('review', 'POST', `/reviews/${reviewId}/final-approval`, county2, { expectedVersion: 2 }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.code).toBe('CONFLICT');
    expect((await item(reviewId)).item).toMatchObject({ status: 'approved', version: 3 });
    // One final approval on the log (read back through the seal: published outbox rows keep no payload, ADR 0009).
    const finals = await waitFor(
      async () => {
        const found = (await readAllEvents(testKafkaSettings(stack.topic))).filter((e) => e.type === 'review.final-approved' && (e.payload as { reviewId?: string }).reviewId === reviewId);
        return found.length ? found : undefined;
      },
      { timeoutMs: 30_000, message: 'the final approval on the log' },
    );
    expect(finals).toHaveLength(1);
  });

  it('scope: nobody acts outside their division or stage; the queue lists in scope only, with waiting figures and gauges', async () => {
    const submitted = await call('review', 'POST', '/window/submissions', clerk, { citizenId: P.neighbour, submissionId: uuid('scope', '1'), fields: { phone: '13300133000' }, evidence: [] });
    const { reviewId } = submitted.body;
    const notFound = { status: 404, body: { statusCode: 404, code: 'NOT_FOUND', message: 'not found' } };
    expect(await call('review', 'GET', `/reviews/${reviewId}`, otherTownship)).toEqual(notFound);
    expect(await call('review', 'POST', `/reviews/${reviewId}/initial-approval`, otherTownship, { expectedVersion: 1 })).toEqual(notFound);
    expect(await call('review', 'GET', `/reviews/${reviewId}`, otherCounty)).toEqual(notFound);
    // A county approver at the initial stage: the role's stage.
    expect(await call('review', 'POST', `/reviews/${reviewId}/initial-approval`, county, { expectedVersion: 1 })).toMatchObject({ status: 403 });
    // A reviewer whose token names a whole county is refused at the door, on every route (the division level of the role).
    const countyLevelReviewer = person('grassroots-reviewer', 'township-wide', COUNTY);
    expect(await call('review', 'POST', `/reviews/${reviewId}/initial-approval`, countyLevelReviewer, { expectedVersion: 1 })).toEqual({
      status: 403,
      body: { statusCode: 403, code: 'FORBIDDEN', message: 'role grassroots-reviewer works at township or village level, not county level (division 440981)' },
    });

    const queue = await call('review', 'GET', '/reviews?stage=initial&status=pending&channel=window&reason=MISSING_PHONE', township);
    expect(queue.status).toBe(200);
    expect(queue.body.items.every((i: { channel: string; stage: string; villageCode: string }) => i.channel === 'window' && i.stage === 'initial' && i.villageCode.startsWith(TOWNSHIP))).toBe(true);
    expect(queue.body.items.map((i: { reviewId: string }) => i.reviewId)).toContain(reviewId);
    expect((await call('review', 'GET', '/reviews', otherTownship)).body).toEqual({ total: 0, items: [] });
    expect((await call('review', 'GET', '/reviews?waitingDays=30', township)).body).toEqual({ total: 0, items: [] });

    const figures = await call('review', 'GET', `/reviews/queues?division=${TOWNSHIP}`, township);
    expect(figures.body).toMatchObject({ division: TOWNSHIP, dueDays: 5, stages: [{ stage: 'initial', overdue: 0 }, { stage: 'final', overdue: 0 }] });
    expect(figures.body.stages[0].pending).toBeGreaterThanOrEqual(1);
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`${stack.managementUrls.review}/metrics`)).text();
      return /qmcb_review_queue_pending\{county="440981",stage="initial"\} [1-9]/.test(text) ? text : undefined;
    }, { timeoutMs: 30_000, message: 'queue gauges' });
    expect(metrics).toMatch(/qmcb_review_queue_overdue\{county="440981",stage="initial"\} 0/);
  });

  it('audits every read of personal data here: the gaps at the window, the item, the queue, with who, role and purpose', async () => {
    const queueRead = await reviewDb.query(
      `SELECT count(*)::int AS n FROM audit.audit_event WHERE (entry::jsonb)->>'route' = '/reviews' AND action = 'list' AND result = 'ok' AND actor = 'user:township-1' AND purpose = 'review'`,
    );
    expect(queueRead.rows[0].n).toBeGreaterThanOrEqual(1);
    const rows = await reviewDb.query(
      `SELECT actor, role, division, (entry::jsonb)->>'route' AS route, purpose FROM audit.audit_event WHERE people @> ARRAY[$1]::text[] AND result = 'ok' ORDER BY audit_event.seq`,
      // The trail names people by person ID, never by citizen ID.
      [new PersonIds(process.env['PERSON_ID_SECRET'] as string).idOf(P.window)],
    );
    expect(rows.rows).toContainEqual({ actor: 'user:clerk-1', role: 'window-clerk', division: COUNTY, route: '/window/gaps', purpose: 'window-service' });
    expect(rows.rows).toContainEqual({ actor: 'user:township-1', role: 'grassroots-reviewer', division: TOWNSHIP, route: '/reviews/:reviewId', purpose: 'review' });
    // The decisions too, with their result.
    expect(rows.rows).toContainEqual({ actor: 'user:county-1', role: 'county-approver', division: COUNTY, route: '/reviews/:reviewId/final-approval', purpose: 'review' });
  });
});

/** The stale person's household record again, now with a phone. */
function household8(citizenId: string): object {
  return household(88, citizenId, { name: '居民9', phone: '13800000009' });
}
