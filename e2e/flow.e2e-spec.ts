import { mintApiKey, mintToken } from '@qmcb/auth';
import type { RegistrationEvent } from '@qmcb/contracts';
import { checkCharacter, foldEvents } from '@qmcb/domain';
import { SERVICES, createTestDatabase, createTestTopic, httpJson, readAllEvents, startStack, testKafkaSettings, waitFor } from '@qmcb/testing';
import type { HttpResult, RunningStack, ServiceName } from '@qmcb/testing';
import { join } from 'path';

/**
 * One person through all four services over HTTP, against the real broker, PostgreSQL and Redis:
 * household registration without pension → needs survey → task in the village → form submitted →
 * township initial review → county final approval → registry carries the collected information
 * with the flag lifted. Each service's GET of the person agrees with the log.
 */
const JWT_SECRET = 'e2e-jwt-secret';
const KEY_SECRET = 'e2e-api-key-secret';
const VILLAGE = '440981002001'; // 高州市 石仔岭街道 南宫居委会
const TOWNSHIP = VILLAGE.slice(0, 9);
const COUNTY = VILLAGE.slice(0, 6);
const ID17 = `${COUNTY}19850315123`;
const CITIZEN_ID = `${ID17}${checkCharacter(ID17)}`;

const token = (role: string, division: string, sub: string): string =>
  mintToken({ sub, name: sub, role, division, ttlSeconds: 3600 }, JWT_SECRET);

describe('registration flow across the four services', () => {
  let stack: RunningStack;
  let topic: string;
  const dbs: { drop(): Promise<void> }[] = [];

  beforeAll(async () => {
    topic = await createTestTopic(3);
    const urls = {} as Record<ServiceName, string>;
    for (const s of SERVICES) {
      const db = await createTestDatabase();
      dbs.push(db);
      urls[s.name] = db.url;
    }
    const suffix = topic.replace(/[^a-z0-9]/gi, '').slice(-10);
    stack = await startStack({
      logDir: join(__dirname, '..', 'tmp', 'e2e-logs'),
      ports: { comparison: 3201, 'survey-tasking': 3202, review: 3203, 'dynamic-update': 3204 },
      env: (name) => ({
        DATABASE_URL: urls[name],
        LOG_TOPIC: topic,
        CONSUMER_GROUP: `${name}-${suffix}`,
        AUTH_JWT_SECRET: JWT_SECRET,
        API_KEY_SECRET: KEY_SECRET,
      }),
    });
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    for (const db of dbs) await db.drop();
  });

  const call = (service: ServiceName, method: string, path: string, auth: Record<string, string>, body?: unknown): Promise<HttpResult> =>
    httpJson(stack.urls[service], method, path, auth, body);

  it('takes an uninsured resident from department records to an approved registry record', async () => {
    const publicSecurity = { 'x-api-key': mintApiKey('public-security', 'ps-e2e', KEY_SECRET) };
    const surveyor = { authorization: `Bearer ${token('surveyor', VILLAGE, 'surveyor-1')}` };
    const township = { authorization: `Bearer ${token('grassroots-reviewer', TOWNSHIP, 'township-1')}` };
    const county = { authorization: `Bearer ${token('county-approver', COUNTY, 'county-1')}` };
    const clerk = { authorization: `Bearer ${token('window-clerk', COUNTY, 'clerk-1')}` };

    // 1. Public security posts the household record; no insurance system knows the person.
    const posted = await call('comparison', 'POST', '/records', publicSecurity, {
      records: [
        {
          sourceRecordId: 'HJ-0001',
          citizenId: CITIZEN_ID,
          mode: 'snapshot',
          asOf: '2026-11-01T00:00:00.000Z',
          facts: { kind: 'household', name: '李明', sex: 'male', birthDate: '1985-03-15', villageCode: VILLAGE, status: 'normal', hukouType: 'agricultural' },
        },
      ],
    });
    expect(posted.status).toBe(202);
    expect(posted.body.accepted).toBe(1);

    // 2. Comparison marks the person "needs survey" (uninsured).
    const compared = await waitFor(async () => {
      const r = await call('comparison', 'GET', `/persons/${CITIZEN_ID}`, clerk);
      return r.status === 200 && r.body.record.comparison?.outcome === 'needs-survey' ? r.body : undefined;
    }, { timeoutMs: 60_000, message: 'comparison outcome' });
    expect(compared.record.flags.needsSurvey).toBe(true);
    expect(compared.record.comparison.reasons.map((r: { code: string }) => r.code)).toEqual(['UNINSURED']);

    // 3. Survey tasking creates a task in the person's village.
    const tasks = await waitFor(async () => {
      const r = await call('survey-tasking', 'GET', `/tasks?division=${VILLAGE}`, surveyor);
      return r.status === 200 && r.body.total === 1 ? r.body : undefined;
    }, { timeoutMs: 60_000, message: 'survey task' });
    const task = tasks.items[0];
    expect(task).toMatchObject({ personKey: CITIZEN_ID, villageCode: VILLAGE, townshipCode: TOWNSHIP, countyCode: COUNTY, status: 'open', reasons: ['UNINSURED'] });

    // 4. The surveyor submits the registration form; the person enrolled on site in the resident schemes.
    const form = {
      name: '李明',
      phone: '13800138000',
      employmentStatus: 'farmer',
      residenceAddress: '广东省高州市石仔岭街道南宫居委会 12 号',
      residenceDivision: VILLAGE,
      insurance: [
        { insuranceType: 'pension', scheme: 'resident', status: 'active', region: COUNTY },
        { insuranceType: 'medical', scheme: 'resident', status: 'active', region: COUNTY },
      ],
      insuredElsewhere: false,
    };
    const submitted = await call('survey-tasking', 'POST', `/tasks/${task.taskId}/submissions`, { ...surveyor, 'idempotency-key': 'visit-1' }, form);
    expect(submitted.status).toBe(201);
    const retried = await call('survey-tasking', 'POST', `/tasks/${task.taskId}/submissions`, { ...surveyor, 'idempotency-key': 'visit-1' }, form);
    expect(retried.body).toEqual(submitted.body);

    // 5. Initial review at the township.
    const pending = await waitFor(async () => {
      const r = await call('review', 'GET', `/reviews?stage=initial&status=pending`, township);
      return r.status === 200 && r.body.total === 1 ? r.body.items[0] : undefined;
    }, { timeoutMs: 60_000, message: 'review item' });
    expect(pending).toMatchObject({ submissionId: submitted.body.submissionId, taskId: task.taskId, townshipCode: TOWNSHIP, stage: 'initial', status: 'pending', form });
    const initial = await call('review', 'POST', `/reviews/${pending.reviewId}/initial-approval`, township, { expectedVersion: pending.version, comment: '信息核实无误' });
    expect(initial.status).toBe(201);
    expect(initial.body).toMatchObject({ reviewId: pending.reviewId, stage: 'final', status: 'pending' });

    // A township reviewer cannot give final approval.
    const wrongRole = await call('review', 'POST', `/reviews/${pending.reviewId}/final-approval`, township, { expectedVersion: pending.version + 1 });
    expect(wrongRole.status).toBe(403);

    // 6. County final approval.
    const final = await call('review', 'POST', `/reviews/${pending.reviewId}/final-approval`, county, { expectedVersion: pending.version + 1 });
    expect(final.status).toBe(201);
    expect(final.body).toMatchObject({ reviewId: pending.reviewId, stage: 'done', status: 'approved' });

    // 7. The registry carries the collected information with the flag lifted.
    const registry = await waitFor(async () => {
      const r = await call('dynamic-update', 'GET', `/persons/${CITIZEN_ID}`, clerk);
      return r.status === 200 && r.body.record.comparison?.outcome === 'registered' ? r.body : undefined;
    }, { timeoutMs: 60_000, message: 'registry record' });
    expect(registry.record).toMatchObject({
      personKey: CITIZEN_ID,
      name: '李明',
      phone: '13800138000',
      employmentStatus: 'farmer',
      residenceDivision: VILLAGE,
      hukouDivision: VILLAGE,
      flags: { needsSurvey: false, duplicate: false },
      survey: { taskId: task.taskId, status: 'approved' },
      collected: form,
    });
    expect(Object.keys(registry.record.insurance).sort()).toEqual([`medical:resident:${COUNTY}`, `pension:resident:${COUNTY}`]);
    expect(registry.history.map((h: { type: string }) => h.type)).toEqual([
      'source.record-received',
      'comparison.outcome-determined',
      'survey.task-created',
      'survey.form-submitted',
      'review.initial-approved',
      'review.final-approved',
      'comparison.outcome-determined',
    ]);

    // 8. Every service's GET agrees with the log.
    const events: RegistrationEvent[] = (await readAllEvents(testKafkaSettings(topic))).filter((e) => e.personKey === CITIZEN_ID);
    expect(events).toHaveLength(7);
    const expected = foldEvents(events);
    if (!expected) throw new Error('no events for the person on the log');
    for (const s of SERVICES) {
      const r = await waitFor(async () => {
        const got = await call(s.name, 'GET', `/persons/${CITIZEN_ID}`, clerk);
        return got.status === 200 && got.body.record.version === expected.version ? got.body : undefined;
      }, { timeoutMs: 60_000, message: `${s.name} caught up` });
      expect(r.record).toEqual(expected);
    }
  });
});
