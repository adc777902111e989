import { mintApiKey, mintToken } from '@qmcb/auth';
import type { Department } from '@qmcb/contracts';
import { checkCharacter, personKeyFor } from '@qmcb/domain';
import { PersonIds } from '@qmcb/platform';
import { freeServicePorts, httpJson, startIsolatedStack, waitFor } from '@qmcb/testing';
import type { HttpResult, IsolatedStack, ServiceName } from '@qmcb/testing';
import { randomBytes } from 'crypto';
import { join } from 'path';
import { Client } from 'pg';

/**
 * Identity links from end to end (issue 10), over HTTP against the real broker, PostgreSQL and Redis:
 * a department sends insurance under a mistyped citizen ID; comparison proposes it as the person's
 * (INACCURATE_CITIZEN_ID, the pension counted); review queues the link where the person lives; the
 * township passes it on and another person at the county confirms it, and comparison registers the
 * person; a link rejected at the county leaves the records on their own and the person as before.
 */
const JWT_SECRET = randomBytes(32).toString('base64url');
const KEY_SECRET = randomBytes(32).toString('base64url');
const COUNTY = '440981';
const TOWNSHIP = '440981002';
const VILLAGE = '440981002001';
const AS_OF = '2026-11-01T00:00:00.000Z';

const id = (first17: string): string => `${first17}${checkCharacter(first17)}`;
/** The ID with another check character: invalid, one typo away. */
const typo = (citizenId: string): string => `${citizenId.slice(0, 17)}${citizenId[17] === '0' ? '1' : '0'}`;
const CONFIRMED = id('44098119850101001'); // 李明: the link is confirmed
const REJECTED = id('44098119850202003'); // 王芳: the link is rejected

const person = (role: string, sub: string, division: string): Record<string, string> => ({
  authorization: `Bearer ${mintToken({ sub, name: sub, role: role as never, division, ttlSeconds: 3600 }, JWT_SECRET)}`,
  'x-purpose': role === 'window-clerk' ? 'comparison-check' : 'review',
});
const key = (department: Department): { 'x-api-key': string } => ({ 'x-api-key': mintApiKey(department, `${department}-links`, KEY_SECRET) });
const township = person('grassroots-reviewer', 'township-1', TOWNSHIP);
const county = person('county-approver', 'county-1', COUNTY);
const townshipAtCounty = person('county-approver', 'township-1', COUNTY);
const clerk = person('window-clerk', 'clerk-1', COUNTY);

const household = (n: number, citizenId: string, name: string): object => ({
  sourceRecordId: `HJ-${n}`, citizenId, mode: 'snapshot', asOf: AS_OF,
  facts: { kind: 'household', name, villageCode: VILLAGE, status: 'normal', phone: '13800138000', address: `南宫居委会 ${n} 号` },
});
const insurance = (n: number, citizenId: string, insuranceType: string, name: string): object => ({
  sourceRecordId: `SI-${n}`, citizenId, mode: 'snapshot', asOf: AS_OF,
  facts: { kind: 'insurance', insuranceType, scheme: 'resident', status: 'active', region: COUNTY, name },
});

describe('identity links: proposed by comparison, reviewed in two stages, applied by comparison', () => {
  let stack: IsolatedStack;
  let comparisonDb: Client;

  // Comparison's key columns hold person IDs (ADR 0011, stage 5); the services share PERSON_ID_SECRET with this process.
  const stored = (personKey: string): string => new PersonIds(process.env['PERSON_ID_SECRET'] as string).idOf(personKey);
  const call = (service: ServiceName, method: string, path: string, auth: Record<string, string>, body?: unknown): Promise<HttpResult> =>
    httpJson(stack.urls[service], method, path, auth, body);
  const outcome = async (citizenId: string): Promise<[string, string[]] | null> => {
    const { rows } = await comparisonDb.query<{ outcome: string; reason_codes: string[] }>(`SELECT outcome, reason_codes FROM comparison.current_outcome WHERE person_key = $1`, [stored(personKeyFor(citizenId))]);
    return rows[0] ? [rows[0].outcome, rows[0].reason_codes] : null;
  };
  const linkStatus = async (citizenId: string): Promise<string | null> => {
    const { rows } = await comparisonDb.query<{ status: string }>(`SELECT status FROM comparison.person_link WHERE person_key = $1`, [stored(citizenId)]);
    return rows[0]?.status ?? null;
  };

  beforeAll(async () => {
    stack = await startIsolatedStack({
      logDir: join(__dirname, '..', 'tmp', 'e2e-logs', 'identity-links'),
      ports: await freeServicePorts(),
      env: () => ({ AUTH_JWT_SECRET: JWT_SECRET, API_KEY_SECRET: KEY_SECRET }),
    });
    comparisonDb = new Client({ connectionString: stack.databaseUrls.comparison });
    await comparisonDb.connect();
    // Each person has a household here and resident medical insurance; the pension came under a mistyped ID.
    const people = await call('comparison', 'POST', '/records', key('public-security'), { records: [household(1, CONFIRMED, '李明'), household(2, REJECTED, '王芳')] });
    expect(people.status).toBe(202);
    const medical = await call('comparison', 'POST', '/records', key('social-insurance'), { records: [insurance(1, CONFIRMED, 'medical', '李明'), insurance(2, REJECTED, 'medical', '王芳')] });
    expect(medical.status).toBe(202);
    for (const p of [CONFIRMED, REJECTED]) {
      await waitFor(async () => JSON.stringify(await outcome(p)) === JSON.stringify(['needs-survey', ['PARTLY_INSURED_NO_PENSION']]), { timeoutMs: 60_000, message: `the first decision on ${p}` });
    }
    const pensions = await call('comparison', 'POST', '/records', key('social-insurance'), { records: [insurance(3, typo(CONFIRMED), 'pension', '李明'), insurance(4, typo(REJECTED), 'pension', '王芳')] });
    expect(pensions.status).toBe(202);
  }, 240_000);

  afterAll(async () => {
    await comparisonDb?.end();
    await stack?.stop();
  });

  it('flags the person INACCURATE_CITIZEN_ID with the pension counted, and queues the link in review where the person lives', async () => {
    for (const p of [CONFIRMED, REJECTED]) {
      await waitFor(async () => JSON.stringify(await outcome(p)) === JSON.stringify(['needs-survey', ['INACCURATE_CITIZEN_ID']]), { timeoutMs: 60_000, message: `the link proposed to ${p}` });
      expect(await outcome(typo(p))).toEqual(['exempt', ['LINKED_TO_PERSON']]);
    }
    const queue = await waitFor(async () => {
      const r = await call('review', 'GET', '/links?status=pending', township);
      return r.status === 200 && r.body.total === 2 ? r.body : undefined;
    }, { timeoutMs: 60_000, message: 'two links in review' });
    expect(queue.items.map((l: { citizenIdMasked: string; records: { citizenIdAsSent: string }; score: number; stage: string; villageCode: string }) => [l.citizenIdMasked, l.records.citizenIdAsSent, l.score, l.stage, l.villageCode]).sort()).toEqual(
      [CONFIRMED, REJECTED].map((p) => [`${p.slice(0, 6)}********${p.slice(-4)}`, typo(p), 80, 'initial', VILLAGE]).sort(),
    );
    const view = await call('review', 'GET', `/links/${queue.items.find((l: { records: { citizenIdAsSent: string } }) => l.records.citizenIdAsSent === typo(CONFIRMED)).linkId}`, township);
    expect(view.status).toBe(200);
    expect([view.body.person.name, view.body.records.name, view.body.records.insurance]).toEqual(['李明', '李明', [{ insuranceType: 'pension', scheme: 'resident', status: 'active', region: COUNTY, department: 'social-insurance' }]]);
  });

  it('confirmed by the township then someone else at the county: comparison registers the person, the records stay theirs', async () => {
    const links = (await call('review', 'GET', '/links?status=pending', township)).body.items as { linkId: string; version: number; records: { citizenIdAsSent: string } }[];
    const link = links.find((l) => l.records.citizenIdAsSent === typo(CONFIRMED)) as { linkId: string; version: number };
    expect((await call('review', 'POST', `/links/${link.linkId}/initial-approval`, township, { expectedVersion: link.version, comment: '本人持证核实' })).body).toMatchObject({ stage: 'final', status: 'pending', version: 2 });
    // Four eyes: not the initial reviewer again.
    expect(await call('review', 'POST', `/links/${link.linkId}/final-approval`, townshipAtCounty, { expectedVersion: 2 })).toEqual({
      status: 403, body: { statusCode: 403, code: 'FORBIDDEN', message: 'you gave this item its initial review: someone else must give the final approval' },
    });
    expect((await call('review', 'POST', `/links/${link.linkId}/final-approval`, county, { expectedVersion: 2, comment: '同意' })).body).toMatchObject({ stage: 'done', status: 'confirmed', version: 3 });
    await waitFor(async () => (await linkStatus(CONFIRMED)) === 'confirmed', { timeoutMs: 60_000, message: 'comparison has the confirmation' });
    await waitFor(async () => JSON.stringify(await outcome(CONFIRMED)) === JSON.stringify(['registered', ['COMPLETE']]), { timeoutMs: 60_000, message: 'the person registered' });
    expect(await outcome(typo(CONFIRMED))).toEqual(['exempt', ['LINKED_TO_PERSON']]);
    // The person view shows the confirmed link, with the records' person ID.
    const lookup = await call('comparison', 'POST', '/persons/lookup', clerk, { citizenId: CONFIRMED });
    expect(lookup.status).toBe(200);
    expect(lookup.body.links.linked).toEqual([{ linkId: link.linkId, status: 'confirmed', citizenIdAsSent: typo(CONFIRMED), personId: expect.any(String) }]);
    expect(lookup.body.record.links[personKeyFor(typo(CONFIRMED))]).toMatchObject({ status: 'confirmed', decidedBy: 'county-1', note: '同意' });
  });

  it('rejected at the county: the records are compared on their own, the person is partly insured again', async () => {
    const links = (await call('review', 'GET', '/links?status=pending', township)).body.items as { linkId: string; version: number; records: { citizenIdAsSent: string } }[];
    const link = links.find((l) => l.records.citizenIdAsSent === typo(REJECTED)) as { linkId: string; version: number };
    expect((await call('review', 'POST', `/links/${link.linkId}/initial-approval`, township, { expectedVersion: link.version })).status).toBe(201);
    expect((await call('review', 'POST', `/links/${link.linkId}/reject`, county, { expectedVersion: 2, reason: '出生日期不符,不是同一人' })).body).toMatchObject({ stage: 'done', status: 'rejected', version: 3 });
    await waitFor(async () => (await linkStatus(REJECTED)) === 'rejected', { timeoutMs: 60_000, message: 'comparison has the rejection' });
    await waitFor(async () => JSON.stringify(await outcome(REJECTED)) === JSON.stringify(['needs-survey', ['PARTLY_INSURED_NO_PENSION']]), { timeoutMs: 60_000, message: 'the person compared without the records' });
    await waitFor(async () => (await outcome(typo(REJECTED)))?.[1]?.includes('INACCURATE_CITIZEN_ID') === true, { timeoutMs: 60_000, message: 'the records compared on their own' });
  });
});
