import { mintApiKey, mintToken } from '@qmcb/auth';
import { checkCharacter } from '@qmcb/domain';
import { httpJson, startIsolatedStack, waitFor } from '@qmcb/testing';
import type { HttpResult, IsolatedStack, ServiceName } from '@qmcb/testing';
import { randomBytes, randomUUID } from 'crypto';
import { join } from 'path';
import { PersonIds } from '@qmcb/platform';

/**
 * A person met at a household who was on no list (§18), across the four services: the surveyor adds
 * them with their form, review approves it in two stages, and the approved form makes them a person
 * comparison compares (they have no department record at all); what it still finds missing makes a
 * new target, which goes at once to the household's surveyor.
 */
const JWT_SECRET = randomBytes(32).toString('base64url');
const KEY_SECRET = randomBytes(32).toString('base64url');
const VILLAGE = '440981002201'; // 高州市 石仔岭街道 茂岭村委会
const TOWNSHIP = VILLAGE.slice(0, 9);
const COUNTY = VILLAGE.slice(0, 6);
const cid = (first17: string): string => `${first17}${checkCharacter(first17)}`;
const HEAD = cid(`${COUNTY}19700101131`);
const FOUND = cid(`${COUNTY}20150606242`);

/** A person's credentials, stating why they read personal data (X-Purpose, PIPL art. 6). */
const token = (role: string, division: string, sub: string, purpose: string): Record<string, string> => ({
  authorization: `Bearer ${mintToken({ sub, name: sub, role, division, ttlSeconds: 3600 }, JWT_SECRET)}`,
  'x-purpose': purpose,
});

describe('survey across the four services: a person found on site', () => {
  let stack: IsolatedStack;

  beforeAll(async () => {
    stack = await startIsolatedStack({
      logDir: join(__dirname, '..', 'tmp', 'e2e-logs'),
      ports: { comparison: 3271, 'survey-tasking': 3272, review: 3273, 'dynamic-update': 3274 },
      env: () => ({ AUTH_JWT_SECRET: JWT_SECRET, API_KEY_SECRET: KEY_SECRET, SURVEY_GAUGES_INTERVAL_MS: '0' }),
    });
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const call = (service: ServiceName, method: string, path: string, auth: Record<string, string>, body?: unknown): Promise<HttpResult> =>
    httpJson(stack.urls[service], method, path, auth, body);

  it('adds them with their form; once review approves it, comparison compares them, and a new target for what is still missing goes to the household’s surveyor', async () => {
    const county = token('county-approver', COUNTY, 'county-1', 'survey');
    const countyReview = token('county-approver', COUNTY, 'county-1', 'review');
    const township = token('grassroots-reviewer', TOWNSHIP, 'township-1', 'survey');
    const townshipReview = token('grassroots-reviewer', TOWNSHIP, 'township-1', 'review');
    const surveyor = token('surveyor', TOWNSHIP, 'sv-1', 'survey');
    const ids = new PersonIds(process.env['PERSON_ID_SECRET'] as string);
    const posted = await call('comparison', 'POST', '/records', { 'x-api-key': mintApiKey('public-security', 'ps-e2e', KEY_SECRET) }, {
      records: [{ sourceRecordId: 'HJ-S1', citizenId: HEAD, mode: 'snapshot', asOf: '2026-11-01T00:00:00.000Z',
        facts: { kind: 'household', name: '梁军', sex: 'male', birthDate: '1970-01-01', villageCode: VILLAGE, status: 'normal', householdNo: '0101', relationToHead: '户主', phone: '13800000008', address: '茂岭村 1 号' } }],
    });
    expect(posted.status).toBe(202);
    const head = await waitFor(async () => {
      const r = await call('survey-tasking', 'GET', `/tasks?division=${VILLAGE}`, county);
      return r.body?.total === 1 ? r.body.items[0] : undefined;
    }, { timeoutMs: 60_000, message: 'target of the head of the household' });

    const campaignId = randomUUID();
    expect((await call('survey-tasking', 'POST', '/campaigns', county, { campaignId, countyCode: COUNTY, name: '入户调查', startsOn: '2026-11-01', deadline: '2099-12-31' })).status).toBe(201);
    expect((await call('survey-tasking', 'POST', `/campaigns/${campaignId}/teams`, township, { teamId: randomUUID(), townshipCode: TOWNSHIP, name: '茂岭组', members: [{ surveyorId: 'sv-1', name: '调查员一' }, { surveyorId: 'sv-2', name: '调查员二' }] })).status).toBe(201);
    expect((await call('survey-tasking', 'POST', `/campaigns/${campaignId}/assignments/auto`, township, { townshipCode: TOWNSHIP })).body).toMatchObject({ assigned: 1, perSurveyor: { 'sv-1': 1 } });

    const members = [
      { citizenId: HEAD, name: '梁军', relation: '户主', status: 'present' },
      { citizenId: FOUND, name: '梁小文', relation: '孙子', status: 'present' },
    ];
    const found = await call('survey-tasking', 'POST', `/tasks/${head.taskId}/found-persons`, surveyor, {
      submissionId: randomUUID(), visitId: randomUUID(), citizenId: FOUND, name: '梁小文', relation: '孙子',
      request: {
        kind: 'registration-form',
        fields: { citizenId: FOUND, name: '梁小文', sex: 'female', birthDate: '2015-06-06', residenceDivision: VILLAGE, residenceAddress: '茂岭村 1 号', employmentStatus: 'student',
          insurance: [{ insuranceType: 'medical', scheme: 'resident', status: 'active', region: COUNTY }], notInsuredReason: 'student', insuredElsewhere: false },
        evidence: [], unknown: [{ field: 'phone', reason: '儿童无手机' }],
      },
      household: { householdNo: '0101', members },
    });
    expect(found.status).toBe(201);
    expect(found.body).toMatchObject({ personId: ids.idOf(FOUND), householdKey: `${VILLAGE}-0101`, foundInTaskId: head.taskId, status: 'submitted' });

    // Review: township, then county (someone else than the surveyor each time).
    const item = await waitFor(async () => {
      const r = await call('review', 'GET', '/reviews?stage=initial&status=pending', townshipReview);
      return r.body?.items?.find((i: { taskId: string }) => i.taskId === found.body.taskId);
    }, { timeoutMs: 60_000, message: 'review item of the person found' });
    expect((await call('review', 'POST', `/reviews/${item.reviewId}/initial-approval`, townshipReview, { expectedVersion: item.version, comment: '已核实户口簿' })).status).toBe(201);
    expect((await call('review', 'POST', `/reviews/${item.reviewId}/final-approval`, countyReview, { expectedVersion: item.version + 1 })).status).toBe(201);

    // Comparison now compares them, from the approved form alone.
    const compared = await waitFor(async () => {
      const r = await call('comparison', 'POST', '/persons/lookup', countyReview, { citizenId: FOUND });
      return r.status === 200 && r.body.record.comparison ? r.body.record : undefined;
    }, { timeoutMs: 60_000, message: 'comparison of the person found' });
    expect(compared).toMatchObject({ personId: ids.idOf(FOUND), citizenId: FOUND, name: '梁小文', residenceDivision: VILLAGE, household: null, collected: { citizenId: FOUND, employmentStatus: 'student' } });
    // Medical insurance covers a child; the phone the form marked unknown is still missing: needs survey again.
    expect([compared.comparison.outcome, compared.comparison.reasons.map((r: { code: string }) => r.code)]).toEqual(['needs-survey', ['MISSING_PHONE']]);
    const tasks = await waitFor(async () => {
      const r = await call('survey-tasking', 'GET', `/persons/${ids.idOf(FOUND)}`, county);
      return r.body?.tasks?.length === 2 ? r.body.tasks : undefined;
    }, { timeoutMs: 60_000, message: 'the found target approved and a new one for the missing phone' });
    expect(tasks.map((t: { origin: string; status: string; reasons: string[]; responsibleId: string | null }) => [t.origin, t.status, t.reasons, t.responsibleId])).toEqual([
      ['found-on-site', 'approved', ['FOUND_ON_SITE'], 'sv-1'],
      // A new target in a village the team works goes at once to the household's surveyor.
      ['comparison', 'open', ['MISSING_PHONE'], 'sv-1'],
    ]);
    expect(tasks[0]).toMatchObject({ householdKey: `${VILLAGE}-0101`, person: { householdNo: '0101', relation: '孙子' } });
    // The household as the surveyor sees it now has them.
    expect((await call('survey-tasking', 'GET', `/tasks/${head.taskId}`, surveyor)).body.household.members.map((m: { name: string; source: string }) => [m.name, m.source])).toEqual([
      ['梁军', 'household'],
      ['梁小文', 'found'],
    ]);
  });
});
