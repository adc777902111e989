import { mintApiKey, mintToken } from '@qmcb/auth';
import { InsuranceFacts } from '@qmcb/contracts';
import type { Department } from '@qmcb/contracts';
import { checkCharacter } from '@qmcb/domain';
import { PERSON_ID_PATTERN, PersonIds } from '@qmcb/platform';
import { httpJson, startIsolatedStack, waitFor } from '@qmcb/testing';
import type { HttpResult, IsolatedStack, ServiceName } from '@qmcb/testing';
import { plainToInstance } from 'class-transformer';
import { randomBytes } from 'crypto';
import { Client } from 'pg';
import { validateSync } from 'class-validator';
import { join } from 'path';

/**
 * Comparison's views over HTTP against the real broker, PostgreSQL and Redis: the explainable
 * person view, flag lists and counts scoped by division, the cross-region export of non-local
 * insured people (§10), and re-comparison after the higher registry's import.
 */
const JWT_SECRET = randomBytes(32).toString('base64url');
const KEY_SECRET = randomBytes(32).toString('base64url');
const COUNTY = '440981'; // 高州市
const TOWNSHIP = '440981002'; // 石仔岭街道
const V1 = '440981002001'; // 南宫居委会
const V2 = '440981002002'; // 南珠居委会
const OTHER_TOWNSHIP = '440981100'; // 谢鸡镇
const V3 = '440981100001'; // 谢鸡居委会
const ELSEWHERE = '440902'; // 茂南区, another county
const ELSEWHERE_VILLAGE = '440902001001';
const AS_OF = '2026-11-01T00:00:00.000Z';

const id = (first17: string): string => `${first17}${checkCharacter(first17)}`;
/** Sex digit (17th): odd male, even female; birth dates as recorded below. */
const P = {
  liMing: id('44098119850315123'), // household V1 + social insurance; the two disagree on the name
  wangFang: id('44098119900701002'), // household V1 only: uninsured until the higher registry's import
  chenGang: id('44098119700101011'), // household V3 (another township) only: uninsured
  zhangWei: id('44098119800505015'), // household V2, insured here: registered, local (not exported)
  zhaoLei: id('44010619880808017'), // no household here, insured here: exported
  sunLi: id('44090219920202024'), // household in another county, insured here: exported
  zhouQiang: id('44098119750606031'), // household V1 moved out, insured here: exempt, exported
  liuYang: id('44098119950909013'), // household V2 only: uninsured
  huangJing: id('44098119930303022'), // household V1 only: uninsured
};

/** A person's headers: the token, and why they read personal data (X-Purpose) when they do. */
const token = (role: string, division: string, sub: string, purpose?: string): Record<string, string> => ({
  authorization: `Bearer ${mintToken({ sub, name: sub, role, division, ttlSeconds: 3600 }, JWT_SECRET)}`,
  ...(purpose ? { 'x-purpose': purpose } : {}),
});
const key = (department: Department): { 'x-api-key': string } => ({ 'x-api-key': mintApiKey(department, `${department}-views`, KEY_SECRET) });

function household(sourceRecordId: string, citizenId: string, facts: Record<string, unknown>): object {
  return { sourceRecordId, citizenId, mode: 'snapshot', asOf: AS_OF, facts: { kind: 'household', status: 'normal', hukouType: 'agricultural', ...facts } };
}

function insurance(sourceRecordId: string, citizenId: string, asOf: string, facts: Record<string, unknown>): object {
  return { sourceRecordId, citizenId, mode: 'snapshot', asOf, facts: { kind: 'insurance', status: 'active', region: COUNTY, ...facts } };
}

const UUID = expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
const ISO = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

/** Masked as for display: the first 6 and last 4 characters kept. */
const masked = (citizenId: string): string => `${citizenId.slice(0, 6)}********${citizenId.slice(-4)}`;

/**
 * The county once every record above is compared: seven people filed under a village of the county,
 * and 赵雷, insured here without a household here, filed under the county that insures him.
 */
const COUNTY_SUMMARY = {
  division: COUNTY,
  total: 8,
  byOutcome: { registered: 2, duplicate: 0, 'needs-survey': 5, exempt: 1 },
  byReason: { COMPLETE: 2, EXEMPT_MOVED_OUT: 1, INACCURATE_NAME: 1, UNINSURED: 4 },
};

describe('comparison views: explain, flags, cross-region exchange', () => {
  let stack: IsolatedStack;
  let comparisonDb = '';

  /**
   * People disclosed on a route by comparison's audit trail (read, list, or export batches), as
   * `actor person_key`, sorted. The trail stores person IDs, never the key: each is turned back here.
   */
  async function audited(route: string): Promise<string[]> {
    const client = new Client({ connectionString: comparisonDb });
    await client.connect();
    try {
      const { rows } = await client.query<{ actor: string; p: string }>(
        `SELECT actor, p FROM audit.audit_event, unnest(people) AS p
          WHERE (entry::jsonb)->>'route' = $1 AND result IN ('ok', 'partial')`,
        [route],
      );
      expect(rows.filter((r) => !PERSON_ID_PATTERN.test(r.p))).toEqual([]);
      return rows.map((r) => `${r.actor} ${ids.keyOf(r.p)}`).sort();
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    stack = await startIsolatedStack({
      logDir: join(__dirname, '..', 'tmp', 'e2e-logs', 'comparison-views'),
      ports: { comparison: 3261, 'survey-tasking': 3262, review: 3263, 'dynamic-update': 3264 },
      env: () => ({ AUTH_JWT_SECRET: JWT_SECRET, API_KEY_SECRET: KEY_SECRET, COMPARISON_GAUGES_INTERVAL_MS: '300' }),
    });
    comparisonDb = stack.databaseUrls.comparison;

    const households = [
      household('HJ-LM', P.liMing, { name: '李明', sex: 'male', birthDate: '1985-03-15', ethnicity: '汉族', villageCode: V1, address: '广东省高州市石仔岭街道南宫居委会1号', phone: '13800138001' }),
      household('HJ-WF', P.wangFang, { name: '王芳', sex: 'female', birthDate: '1990-07-01', villageCode: V1, address: '广东省高州市石仔岭街道南宫居委会2号', phone: '13800138002' }),
      household('HJ-CG', P.chenGang, { name: '陈刚', sex: 'male', birthDate: '1970-01-01', villageCode: V3, address: '广东省高州市谢鸡镇谢鸡居委会3号', phone: '13800138003' }),
      household('HJ-ZW', P.zhangWei, { name: '张伟', sex: 'male', birthDate: '1980-05-05', villageCode: V2, address: '广东省高州市石仔岭街道南珠居委会4号', phone: '13800138004' }),
      household('HJ-SL', P.sunLi, { name: '孙丽', sex: 'female', birthDate: '1992-02-02', villageCode: ELSEWHERE_VILLAGE, address: '广东省茂名市茂南区红旗街道建设社区6号', phone: '13800138006' }),
      household('HJ-ZQ', P.zhouQiang, { name: '周强', sex: 'male', birthDate: '1975-06-06', villageCode: V1, address: '广东省高州市石仔岭街道南宫居委会7号', phone: '13800138007', status: 'moved-out' }),
      household('HJ-LY', P.liuYang, { name: '刘洋', sex: 'male', birthDate: '1995-09-09', villageCode: V2, address: '广东省高州市石仔岭街道南珠居委会8号', phone: '13800138008' }),
      household('HJ-HJ', P.huangJing, { name: '黄静', sex: 'female', birthDate: '1993-03-03', villageCode: V1, address: '广东省高州市石仔岭街道南宫居委会9号', phone: '13800138009' }),
    ];
    const insured = [
      insurance('SI-LM-P', P.liMing, '2026-10-01T00:00:00.000Z', { insuranceType: 'pension', scheme: 'employee', employer: '高州市第一中学', since: '2008-07-01', name: '李敏' }),
      insurance('SI-LM-M', P.liMing, '2026-10-15T00:00:00.000Z', { insuranceType: 'medical', scheme: 'employee', employer: '高州市第一中学', since: '2008-07-01' }),
      insurance('SI-ZW-P', P.zhangWei, AS_OF, { insuranceType: 'pension', scheme: 'resident', since: '2012-01-01', name: '张伟' }),
      insurance('SI-ZW-M', P.zhangWei, AS_OF, { insuranceType: 'medical', scheme: 'resident', since: '2012-01-01', name: '张伟' }),
      insurance('SI-ZL-P', P.zhaoLei, AS_OF, { insuranceType: 'pension', scheme: 'employee', employer: '高州市恒达制衣厂', since: '2019-03-01', name: '赵雷', sex: 'male', birthDate: '1988-08-08', phone: '13900139005', address: '广东省高州市潘州街道工业园宿舍5号' }),
      insurance('SI-ZL-M', P.zhaoLei, AS_OF, { insuranceType: 'medical', scheme: 'employee', employer: '高州市恒达制衣厂', since: '2019-03-01', name: '赵雷' }),
      insurance('SI-SL-P', P.sunLi, AS_OF, { insuranceType: 'pension', scheme: 'employee', employer: '高州市恒达制衣厂', since: '2021-05-01', name: '孙丽' }),
      insurance('SI-ZQ-P', P.zhouQiang, AS_OF, { insuranceType: 'pension', scheme: 'employee', since: '2000-01-01', name: '周强' }),
      insurance('SI-ZQ-M', P.zhouQiang, AS_OF, { insuranceType: 'medical', scheme: 'employee', since: '2000-01-01', name: '周强' }),
    ];
    // Households first, decided before any insurance record arrives, so each person's history does not
    // depend on how the consumer batches events (a batch decides once, after its last event).
    expect((await call('POST', '/records', key('public-security'), { records: households })).status).toBe(202);
    await waitFor(async () => {
      const r = await call('GET', `/flags/summary?division=${COUNTY}`, token('analyst', COUNTY, 'analyst-1'));
      return r.status === 200 && r.body.total === 7 && r.body.byReason.UNINSURED === 6 ? true : undefined;
    }, { timeoutMs: 60_000, message: 'households compared' });
    expect((await call('POST', '/records', key('social-insurance'), { records: insured })).status).toBe(202);

    // Every person of the county compared with every record applied: the reason counts differ at
    // every earlier step (李明 is UNINSURED until his insurance records are applied).
    let last: unknown = null;
    await waitFor(async () => {
      const r = await call('GET', `/flags/summary?division=${COUNTY}`, token('analyst', COUNTY, 'analyst-1'));
      last = r.body;
      return r.status === 200 && JSON.stringify(r.body) === JSON.stringify(COUNTY_SUMMARY) ? true : undefined;
    }, { timeoutMs: 60_000, message: 'the county compared' }).catch(() => undefined);
    expect(last).toEqual(COUNTY_SUMMARY);
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const call = (method: string, path: string, auth: Record<string, string>, body?: unknown, service: ServiceName = 'comparison'): Promise<HttpResult> =>
    httpJson(stack.urls[service], method, path, auth, body);

  const clerk = token('window-clerk', COUNTY, 'clerk-1', 'window-service');
  const township = token('grassroots-reviewer', TOWNSHIP, 'township-1', 'comparison-check');
  const county = token('county-approver', COUNTY, 'county-1', 'comparison-check');
  const exporter = token('county-approver', COUNTY, 'county-1', 'cross-region-exchange');
  /** The person IDs the services hand out: they share PERSON_ID_SECRET with this process. */
  const ids = new PersonIds(process.env['PERSON_ID_SECRET'] as string);
  const pid = (citizenId: string): string => ids.idOf(citizenId);
  /** People in the order lists and exports give them within a division: by person ID, what the key columns hold (ADR 0011, stage 5). */
  const inIdOrder = (...citizenIds: string[]): string[] => [...citizenIds].sort((a, b) => (pid(a) < pid(b) ? -1 : pid(a) > pid(b) ? 1 : 0));

  const flagged = (citizenId: string, name: string, division: string, outcome: string, reasonCodes: string[]): object => ({
    personId: pid(citizenId),
    citizenIdMasked: masked(citizenId),
    name,
    division,
    outcome,
    reasonCodes,
    decidedAt: ISO,
  });

  /** The status per insurance type as the rule coverage-status gives it (with its facts): insured in `insured`, the employment types not due without a tax record. */
  const coverageOf = (insured: { type: 'pension' | 'medical'; field: string; source: string; asOf: string; region: string }[]): object[] => [
    ...insured.map(({ type, field, source, asOf, region }) => {
      const here = region === COUNTY;
      return {
        insuranceType: type, status: here ? 'insured-here' : 'insured-elsewhere', reason: null, regions: [region], rule: 'coverage-status', ruleVersion: 1,
        detail: `${here ? 'insured in the home county' : 'insured in another county'}: ${source} ${field}=active; record home county=${COUNTY}`,
        facts: [{ source, field, value: 'active', asOf }, { source: 'record', field: 'home county', value: COUNTY, asOf: null }],
      };
    }),
    ...['unemployment', 'work-injury', 'maternity'].map((type) => ({
      insuranceType: type, status: 'not-due', reason: 'NOT_EMPLOYED', regions: [], rule: 'coverage-status', ruleVersion: 1,
      detail: 'due with employment; not employed per tax: record tax=none', facts: [{ source: 'record', field: 'tax', value: null, asOf: null }],
    })),
  ];
  const withoutFacts = (items: object[]): object[] => items.map((i) => Object.fromEntries(Object.entries(i).filter(([k]) => k !== 'facts')));

  it('explains a person whose household and social-insurance records disagree on the name', async () => {
    // Re-evaluated as of a fixed time so the body does not depend on today's date.
    const r = await call('GET', `/persons/${pid(P.liMing)}?asOf=2026-11-02T00:00:00.000Z`, clerk);
    expect(r.status).toBe(200);
    const householdAsOf = AS_OF;
    const pensionAsOf = '2026-10-01T00:00:00.000Z';
    const medicalAsOf = '2026-10-15T00:00:00.000Z';
    const liMingCoverage = coverageOf([
      { type: 'pension', field: `pension:employee:${COUNTY}`, source: 'social-insurance', asOf: pensionAsOf, region: COUNTY },
      { type: 'medical', field: `medical:employee:${COUNTY}`, source: 'social-insurance', asOf: medicalAsOf, region: COUNTY },
    ]);
    const household = { name: '李明', sex: 'male', birthDate: '1985-03-15', ethnicity: '汉族', address: '广东省高州市石仔岭街道南宫居委会1号', villageCode: V1, hukouType: 'agricultural', status: 'normal', phone: '13800138001' };
    const entry = (insuranceType: string, asOf: string, name: string | null): object => ({
      insuranceType, scheme: 'employee', status: 'active', region: COUNTY, employer: '高州市第一中学', since: '2008-07-01', receivingBenefit: null, benefitStatus: null,
      name, sex: null, birthDate: null, phone: null, address: null, source: 'department', department: 'social-insurance', asOf, eventId: UUID,
    });
    const nameFacts = [
      { source: 'public-security', field: 'name', value: '李明', asOf: householdAsOf },
      { source: 'social-insurance', field: 'pension:employee:440981.name', value: '李敏', asOf: pensionAsOf },
    ];
    const nameReason = {
      code: 'INACCURATE_NAME', rule: 'inaccurate-information', ruleVersion: 1,
      detail: 'sources disagree on the name: public-security name=李明; social-insurance pension:employee:440981.name=李敏',
    };
    expect(r.body).toEqual({
      personId: pid(P.liMing),
      citizenIdMasked: masked(P.liMing),
      // The merged record as folded from the log (asserted whole against the log in flow.e2e-spec.ts).
      record: expect.objectContaining({ personId: pid(P.liMing), citizenId: P.liMing, name: '李明', sex: 'male', birthDate: '1985-03-15', phone: '13800138001', hukouDivision: V1 }),
      // What each source holds: public security's household, social insurance's two entries (its newest record: medical).
      sources: {
        'public-security': {
          sourceRecordId: 'HJ-LM', mode: 'snapshot', asOf: householdAsOf, eventId: UUID,
          facts: { household: { ...household, householdNo: null, relationToHead: null, asOf: householdAsOf, eventId: UUID } },
          identity: {
            name: '李明', sex: 'male', birthDate: '1985-03-15', phone: '13800138001', address: household.address, asOf: householdAsOf, eventId: UUID,
            fieldAsOf: { name: householdAsOf, sex: householdAsOf, birthDate: householdAsOf, phone: householdAsOf, address: householdAsOf },
          },
        },
        'social-insurance': {
          sourceRecordId: 'SI-LM-M', mode: 'snapshot', asOf: medicalAsOf, eventId: UUID,
          facts: { insurance: { 'medical:employee:440981': entry('medical', medicalAsOf, null), 'pension:employee:440981': entry('pension', pensionAsOf, '李敏') } },
          identity: {
            name: '李敏', sex: null, birthDate: null, phone: null, address: null, asOf: medicalAsOf, eventId: UUID,
            fieldAsOf: { name: pensionAsOf, sex: null, birthDate: null, phone: null, address: null },
          },
        },
      },
      // Which source wins each field, and why; every source that gives one, the winner first.
      fields: {
        name: {
          value: '李明', source: 'public-security',
          reason: 'public-security is the authority for household identity (precedence 2); survey gives none',
          candidates: [{ source: 'public-security', value: '李明', asOf: householdAsOf }, { source: 'social-insurance', value: '李敏', asOf: pensionAsOf }],
        },
        sex: {
          value: 'male', source: 'public-security', reason: 'public-security is the authority for household identity (precedence 2); survey gives none',
          candidates: [{ source: 'public-security', value: 'male', asOf: householdAsOf }, { source: 'citizen-id', value: 'male', asOf: null }],
        },
        birthDate: {
          value: '1985-03-15', source: 'public-security', reason: 'public-security is the authority for household identity (precedence 2); survey gives none',
          candidates: [{ source: 'public-security', value: '1985-03-15', asOf: householdAsOf }, { source: 'citizen-id', value: '1985-03-15', asOf: null }],
        },
        phone: {
          value: '13800138001', source: 'public-security', reason: 'public-security gives a phone (precedence 2); survey gives none',
          candidates: [{ source: 'public-security', value: '13800138001', asOf: householdAsOf }],
        },
        address: {
          value: household.address, source: 'public-security', reason: 'public-security holds the household address (precedence 1)',
          candidates: [{ source: 'public-security', value: household.address, asOf: householdAsOf }],
        },
        hukouDivision: {
          value: V1, source: 'public-security', reason: 'public-security keeps the household registration (precedence 1); only it states one',
          candidates: [{ source: 'public-security', value: V1, asOf: householdAsOf }],
        },
        residenceDivision: { value: null, source: null, reason: 'no source gives a residence village', candidates: [] },
      },
      // The decision on the log, and the rules re-run: the same, with the facts the rule fired on;
      // the status per insurance type the same way.
      comparison: {
        outcome: 'needs-survey',
        previousOutcome: 'needs-survey',
        reasons: [{ ...nameReason, facts: nameFacts }],
        decidedAt: ISO,
        eventId: UUID,
        coverage: liMingCoverage,
        evaluatedAt: ISO,
        stale: false,
        explanation: { asOf: '2026-11-02T00:00:00.000Z', outcome: 'needs-survey', reasons: [{ ...nameReason, facts: nameFacts }], hits: [{ ...nameReason, facts: nameFacts }], coverage: liMingCoverage },
      },
      outcomes: expect.any(Array),
      links: { linkedTo: null, linked: [] },
    });
    // Uninsured on the household record alone; inaccurate once social insurance named him otherwise;
    // once more when the medical record made his medical insured (a changed status), unless both
    // records were applied in one batch.
    const outcomes = r.body.outcomes as { eventId: string; outcome: string; previousOutcome: string; basedOnVersion: number; decidedAt: string; reasons: object[] }[];
    expect(outcomes[0]).toEqual({
      eventId: UUID, outcome: 'needs-survey', previousOutcome: 'none', basedOnVersion: 1, decidedAt: ISO,
      reasons: [{ code: 'UNINSURED', rule: 'uninsured', ruleVersion: 1, detail: 'no active pension and no active medical insurance: social-insurance pension=none active; social-insurance medical=none active' }],
    });
    expect([2, 3]).toContain(outcomes.length);
    for (const o of outcomes.slice(1)) expect(o).toEqual({ eventId: UUID, outcome: 'needs-survey', previousOutcome: 'needs-survey', basedOnVersion: expect.any(Number), decidedAt: ISO, reasons: [nameReason] });
    // The IDs agree with each other and with the record.
    const body = r.body;
    expect(body.sources['public-security'].eventId).toBe(body.sources['public-security'].facts.household.eventId);
    expect(body.sources['social-insurance'].eventId).toBe(body.sources['social-insurance'].facts.insurance['medical:employee:440981'].eventId);
    expect(body.comparison.eventId).toBe(outcomes.at(-1)?.eventId);
    expect(body.comparison.decidedAt).toBe(outcomes.at(-1)?.decidedAt);
    expect([3, 4]).toContain(outcomes[1]?.basedOnVersion);
    expect(body.record.comparison).toEqual({
      outcome: 'needs-survey', previousOutcome: 'needs-survey', reasons: [nameReason], coverage: withoutFacts(liMingCoverage), decidedAt: body.comparison.decidedAt, eventId: body.comparison.eventId,
    });

    // An unknown person and one outside the caller's division get the same 404; the view is audited.
    const outside = await call('GET', `/persons/${pid(P.liMing)}`, token('window-clerk', ELSEWHERE, 'clerk-2', 'window-service'));
    expect(outside).toEqual({ status: 404, body: { statusCode: 404, code: 'NOT_FOUND', message: 'not found' } });
    expect(await call('GET', `/persons/${pid(id('44098119000101001'))}`, clerk)).toEqual(outside);
    expect(await call('POST', '/persons/lookup', token('window-clerk', ELSEWHERE, 'clerk-2', 'window-service'), { citizenId: P.liMing })).toEqual(outside);
    expect((await call('GET', `/persons/${pid(P.liMing)}`, token('surveyor', V1, 'surveyor-1', 'survey'))).status).toBe(403);
    // One disclosure; the refused ones disclosed nothing (they are in the audit as refusals, naming whom they asked for).
    expect(await audited('/persons/:personId')).toEqual([`user:clerk-1 ${P.liMing}`]);
  });

  it('marks the recorded decision stale when the rules, re-run later, would decide otherwise', async () => {
    // 陈刚 (born 1970-01-01) turns 60 on 2030-01-01 without a pension: the re-evaluation then adds
    // AGE_60_NO_PENSION, which the log does not carry until his record is compared again.
    const later = await call('GET', `/persons/${pid(P.chenGang)}?asOf=2030-06-01T00:00:00.000Z`, county);
    expect(later.status).toBe(200);
    expect(later.body.comparison).toMatchObject({ outcome: 'needs-survey', reasons: [expect.objectContaining({ code: 'UNINSURED' })], stale: true });
    expect(later.body.comparison.explanation.reasons.map((x: { code: string }) => x.code)).toEqual(['UNINSURED', 'AGE_60_NO_PENSION']);
    expect((await call('GET', `/persons/${pid(P.chenGang)}?asOf=2026-11-02T00:00:00.000Z`, county)).body.comparison.stale).toBe(false);
  });

  it('lists flagged people by outcome and reason within the caller\'s division, paginated and ordered by division and person ID', async () => {
    // The township reviewer's whole township by default: two villages, ordered by village then person ID.
    const name: Record<string, string> = { [P.wangFang]: '王芳', [P.huangJing]: '黄静', [P.zhouQiang]: '周强', [P.liMing]: '李明', [P.zhangWei]: '张伟', [P.liuYang]: '刘洋' };
    const v1Uninsured = inIdOrder(P.wangFang, P.huangJing);
    const page1 = await call('GET', '/flags?outcome=needs-survey&reason=UNINSURED&limit=2&offset=0', township);
    expect(page1).toEqual({
      status: 200,
      body: {
        total: 3,
        limit: 2,
        offset: 0,
        items: v1Uninsured.map((p) => flagged(p, name[p] as string, V1, 'needs-survey', ['UNINSURED'])),
      },
    });
    const page2 = await call('GET', `/flags?outcome=needs-survey&reason=UNINSURED&division=${TOWNSHIP}&limit=2&offset=2`, township);
    expect(page2).toEqual({ status: 200, body: { total: 3, limit: 2, offset: 2, items: [flagged(P.liuYang, '刘洋', V2, 'needs-survey', ['UNINSURED'])] } });
    // Each listed person is in the audit entry of the list.
    expect(await audited('/flags')).toEqual([`user:township-1 ${P.huangJing}`, `user:township-1 ${P.wangFang}`, `user:township-1 ${P.liuYang}`].sort());
    // The person key (the citizen ID itself) is never beside its masked form.
    expect(JSON.stringify(page1.body)).not.toContain(P.wangFang);
    // An analyst counting sees the same people with names masked.
    expect((await call('GET', '/flags?outcome=needs-survey&reason=UNINSURED&limit=2&offset=0', token('analyst', TOWNSHIP.slice(0, 6), 'analyst-1', 'statistics'))).body.items).toEqual(
      v1Uninsured.map((p) => flagged(p, `${(name[p] as string).slice(0, 1)}**`, V1, 'needs-survey', ['UNINSURED'])),
    );

    // Any outcome, any reason: everyone compared in the township, the exempt and registered too.
    const outcomeOf: Record<string, [string, string[]]> = {
      [P.zhouQiang]: ['exempt', ['EXEMPT_MOVED_OUT']],
      [P.liMing]: ['needs-survey', ['INACCURATE_NAME']],
      [P.wangFang]: ['needs-survey', ['UNINSURED']],
      [P.huangJing]: ['needs-survey', ['UNINSURED']],
      [P.zhangWei]: ['registered', ['COMPLETE']],
      [P.liuYang]: ['needs-survey', ['UNINSURED']],
    };
    const row = (p: string, village: string): ReturnType<typeof flagged> => flagged(p, name[p] as string, village, ...(outcomeOf[p] as [string, string[]]));
    const all = await call('GET', '/flags', township);
    expect(all).toEqual({
      status: 200,
      body: {
        total: 6,
        limit: 50,
        offset: 0,
        items: [...inIdOrder(P.zhouQiang, P.liMing, P.wangFang, P.huangJing).map((p) => row(p, V1)), ...inIdOrder(P.zhangWei, P.liuYang).map((p) => row(p, V2))],
      },
    });

    // One village; the reason alone.
    expect((await call('GET', `/flags?division=${V2}&reason=UNINSURED`, township)).body).toEqual({
      total: 1,
      limit: 50,
      offset: 0,
      items: [flagged(P.liuYang, '刘洋', V2, 'needs-survey', ['UNINSURED'])],
    });

    // The county approver sees the other township too; people filed elsewhere (or nowhere) never appear.
    expect((await call('GET', `/flags?reason=UNINSURED&division=${COUNTY}`, county)).body).toEqual({
      total: 4,
      limit: 50,
      offset: 0,
      items: [
        // By division, then person ID (random per run: the secret is the run's own).
        ...inIdOrder(P.wangFang, P.huangJing).map((p) => flagged(p, name[p] as string, V1, 'needs-survey', ['UNINSURED'])),
        flagged(P.liuYang, '刘洋', V2, 'needs-survey', ['UNINSURED']),
        flagged(P.chenGang, '陈刚', V3, 'needs-survey', ['UNINSURED']),
      ],
    });

    // Past the last page: the total, no items.
    expect((await call('GET', '/flags?reason=UNINSURED&offset=10', township)).body).toEqual({ total: 3, limit: 50, offset: 10, items: [] });
  });

  it('answers 404 for a division outside the caller\'s, 403 for the wrong role, 400 for a bad filter', async () => {
    const notFound = { status: 404, body: { statusCode: 404, code: 'NOT_FOUND', message: 'not found' } };
    expect(await call('GET', `/flags?division=${OTHER_TOWNSHIP}`, township)).toEqual(notFound);
    expect(await call('GET', `/flags?division=${COUNTY}`, township)).toEqual(notFound);
    expect(await call('GET', `/flags/summary?division=${ELSEWHERE}`, county)).toEqual(notFound);
    expect(await call('GET', '/flags', token('surveyor', V1, 'surveyor-1', 'survey'))).toEqual({
      status: 403,
      body: { statusCode: 403, code: 'FORBIDDEN', message: 'role surveyor may not call this endpoint' },
    });
    expect(await call('GET', '/flags', clerk)).toEqual({
      status: 403,
      body: { statusCode: 403, code: 'FORBIDDEN', message: 'role window-clerk may not call this endpoint' },
    });
    const bad = await call('GET', '/flags?outcome=flagged&limit=0', township);
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'validation failed: outcome, limit',
      violations: [
        { field: 'outcome', rule: 'isIn', message: 'outcome must be one of the following values: registered, duplicate, needs-survey, exempt' },
        { field: 'limit', rule: 'min', message: 'limit must not be less than 1' },
      ],
    });
  });

  it('counts people by outcome and reason in a division, and exports the counts as gauges', async () => {
    expect(await call('GET', '/flags/summary', township)).toEqual({
      status: 200,
      body: {
        division: TOWNSHIP,
        total: 6,
        byOutcome: { registered: 1, duplicate: 0, 'needs-survey': 4, exempt: 1 },
        byReason: { COMPLETE: 1, EXEMPT_MOVED_OUT: 1, INACCURATE_NAME: 1, UNINSURED: 3 },
      },
    });
    expect(await call('GET', `/flags/summary?division=${COUNTY}`, token('operations', '44', 'ops-1'))).toEqual({ status: 200, body: COUNTY_SUMMARY });
    // A township reviewer's token with a province division is refused everywhere, not given whole counties.
    expect(await call('GET', `/flags/summary?division=${COUNTY}`, token('grassroots-reviewer', '44', 'township-x'))).toEqual({
      status: 403,
      body: { statusCode: 403, code: 'FORBIDDEN', message: 'role grassroots-reviewer works at township or village level, not province level (division 44)' },
    });
    expect(await call('GET', `/flags/summary?division=${V3}`, county)).toEqual({
      status: 200,
      body: { division: V3, total: 1, byOutcome: { registered: 0, duplicate: 0, 'needs-survey': 1, exempt: 0 }, byReason: { UNINSURED: 1 } },
    });

    // Gauges count the whole projection: the county's seven, and 赵雷 and 孙丽 (filed nowhere here).
    const gauges = await waitFor(async () => {
      const text = await (await fetch(`${stack.managementUrls.comparison}/metrics`)).text();
      const lines = text.split('\n').filter((l) => l.startsWith('qmcb_comparison_people'));
      return lines.includes('qmcb_comparison_people{outcome="registered"} 3') ? lines : undefined;
    }, { timeoutMs: 10_000, message: 'people gauges refreshed' });
    expect(gauges.sort()).toEqual([
      'qmcb_comparison_people_by_reason{reason="COMPLETE"} 3',
      'qmcb_comparison_people_by_reason{reason="EXEMPT_MOVED_OUT"} 1',
      'qmcb_comparison_people_by_reason{reason="INACCURATE_NAME"} 1',
      'qmcb_comparison_people_by_reason{reason="UNINSURED"} 4',
      'qmcb_comparison_people{outcome="duplicate"} 0',
      'qmcb_comparison_people{outcome="exempt"} 1',
      'qmcb_comparison_people{outcome="needs-survey"} 5',
      'qmcb_comparison_people{outcome="registered"} 3',
    ]);
  });

  const exportLine = (citizenId: string, insuranceType: string, scheme: string, asOf: string, facts: Record<string, unknown>): object => ({
    sourceRecordId: expect.stringMatching(new RegExp(`^XR-${COUNTY}-${insuranceType}-${scheme}-[0-9a-f]{24}$`)),
    citizenId,
    mode: 'snapshot',
    asOf,
    facts: { kind: 'insurance', insuranceType, scheme, status: 'active', region: COUNTY, ...facts },
  });

  async function exportNdjson(auth: Record<string, string>, region = COUNTY): Promise<{ status: number; contentType: string | null; text: string }> {
    const res = await fetch(`${stack.urls.comparison}/exchange/non-local-insured?region=${region}`, { headers: auth });
    return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
  }

  it('exports the non-local insured of the county as NDJSON insurance records the higher registry loads as is, and no local person', async () => {
    const res = await exportNdjson(key('higher-registry'));
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/x-ndjson; charset=utf-8');
    expect(res.text.endsWith('\n')).toBe(true);
    const lines = res.text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    // Ordered by person ID (what the key columns hold, ADR 0011 stage 5), then insurance key: 赵雷 (no
    // household here), 孙丽 (household in 茂南区), 周强 (household moved out). 张伟 and 李明, insured here
    // with their household here, are not in it.
    const zhaoLei = { employer: '高州市恒达制衣厂', since: '2019-03-01', name: '赵雷', sex: 'male', birthDate: '1988-08-08', phone: '13900139005', address: '广东省高州市潘州街道工业园宿舍5号' };
    const zhouQiang = { since: '2000-01-01', name: '周强', sex: 'male', birthDate: '1975-06-06', phone: '13800138007', address: '广东省高州市石仔岭街道南宫居委会7号' };
    const linesOf: Record<string, object[]> = {
      [P.zhaoLei]: [exportLine(P.zhaoLei, 'medical', 'employee', AS_OF, zhaoLei), exportLine(P.zhaoLei, 'pension', 'employee', AS_OF, zhaoLei)],
      [P.sunLi]: [
        exportLine(P.sunLi, 'pension', 'employee', AS_OF, {
          employer: '高州市恒达制衣厂', since: '2021-05-01', name: '孙丽', sex: 'female', birthDate: '1992-02-02', phone: '13800138006', address: '广东省茂名市茂南区红旗街道建设社区6号',
        }),
      ],
      [P.zhouQiang]: [exportLine(P.zhouQiang, 'medical', 'employee', AS_OF, zhouQiang), exportLine(P.zhouQiang, 'pension', 'employee', AS_OF, zhouQiang)],
    };
    expect(lines).toEqual(inIdOrder(P.zhaoLei, P.sunLi, P.zhouQiang).flatMap((p) => linesOf[p] as object[]));
    // Exactly the shape of a record of POST /records and of the NDJSON bulk load, facts by the insurance contract.
    for (const line of lines) {
      expect(Object.keys(line).sort()).toEqual(['asOf', 'citizenId', 'facts', 'mode', 'sourceRecordId']);
      expect(validateSync(plainToInstance(InsuranceFacts, line.facts), { forbidUnknownValues: true, whitelist: true, forbidNonWhitelisted: true })).toEqual([]);
    }
    // Every exported person is audited (a disclosure) before their lines are sent.
    expect(await audited('/exchange/non-local-insured')).toEqual(
      [`key:higher-registry-views ${P.zhaoLei}`, `key:higher-registry-views ${P.sunLi}`, `key:higher-registry-views ${P.zhouQiang}`].sort(),
    );
    // Stable record IDs: a second export is the same file.
    expect((await exportNdjson(key('higher-registry'))).text).toBe(res.text);
    // A county approver gets only the people filed in the county, whom GET /persons would show them: 孙丽's household
    // is in 茂南区, so her name, phone and address are not the county's to hand out (GET /persons answers 404 for her).
    const approvers = await exportNdjson(exporter);
    expect(approvers.status).toBe(200);
    expect(approvers.text.trimEnd().split('\n').map((l) => (JSON.parse(l) as { citizenId: string }).citizenId)).toEqual(inIdOrder(P.zhaoLei, P.zhouQiang).flatMap((p) => [p, p]));
    expect(approvers.text).not.toContain(P.sunLi);
    expect((await call('GET', `/persons/${pid(P.sunLi)}`, county)).status).toBe(404);
    expect((await audited('/exchange/non-local-insured')).filter((line) => line.startsWith('user:'))).toEqual([`user:county-1 ${P.zhaoLei}`, `user:county-1 ${P.zhouQiang}`].sort());
    // An admin may export, masked: no role and purpose of theirs needs the full values.
    const adminExport = await exportNdjson(token('admin', COUNTY, 'admin-1', 'cross-region-exchange'));
    const adminLines = adminExport.text.trimEnd().split('\n').map((l) => JSON.parse(l) as { citizenId: string; facts: { name: string; phone: string } });
    const maskedLine: Record<string, string[]> = { [P.zhaoLei]: [masked(P.zhaoLei), '赵**', '139****9005'], [P.zhouQiang]: [masked(P.zhouQiang), '周**', '138****8007'] };
    expect(adminLines.map((l) => [l.citizenId, l.facts.name, l.facts.phone])).toEqual(inIdOrder(P.zhaoLei, P.zhouQiang).flatMap((p) => [maskedLine[p], maskedLine[p]]));

    expect(await exportNdjson(key('tax'))).toEqual({
      status: 403,
      contentType: 'application/json; charset=utf-8',
      text: JSON.stringify({ statusCode: 403, code: 'FORBIDDEN', message: 'department tax may not call this endpoint' }),
    });
    expect(JSON.parse((await exportNdjson(token('county-approver', ELSEWHERE, 'county-2', 'cross-region-exchange'))).text)).toEqual({ statusCode: 404, code: 'NOT_FOUND', message: 'not found' });
    // A county approver's token with a township division: the wrong level for the role. Other roles: refused.
    expect(JSON.parse((await exportNdjson(token('county-approver', TOWNSHIP, 'county-3', 'cross-region-exchange'))).text)).toEqual({
      statusCode: 403,
      code: 'FORBIDDEN',
      message: 'role county-approver works at county level, not township level (division 440981002)',
    });
    expect((await exportNdjson(township)).status).toBe(403);
    expect((await exportNdjson(token('analyst', COUNTY, 'analyst-1', 'cross-region-exchange'))).status).toBe(403);
    // A purpose the route does not serve: nothing.
    expect(JSON.parse((await exportNdjson(token('county-approver', COUNTY, 'county-1', 'statistics'))).text)).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'X-Purpose must be one of cross-region-exchange on this route',
      violations: [{ field: 'X-Purpose', rule: 'isIn', message: 'X-Purpose must be one of cross-region-exchange on this route' }],
    });
    // A county with no one insured: an empty file.
    expect(await exportNdjson(key('higher-registry'), ELSEWHERE)).toEqual({ status: 200, contentType: 'application/x-ndjson; charset=utf-8', text: '' });
  });

  it('re-compares people after the higher registry\'s bulk load of their insurance in other regions (§10 import)', async () => {
    // The higher registry returns local people's insurance elsewhere: 王芳, uninsured here, has resident
    // pension and medical in 茂南区; 张伟, insured here, also has a resident pension there.
    const imported = [
      { sourceRecordId: 'HR-440902-WF-P', citizenId: P.wangFang, mode: 'snapshot', asOf: '2026-11-05T00:00:00.000Z',
        facts: { kind: 'insurance', insuranceType: 'pension', scheme: 'resident', status: 'active', region: ELSEWHERE, since: '2015-01-01', name: '王芳' } },
      { sourceRecordId: 'HR-440902-WF-M', citizenId: P.wangFang, mode: 'snapshot', asOf: '2026-11-05T00:00:00.000Z',
        facts: { kind: 'insurance', insuranceType: 'medical', scheme: 'resident', status: 'active', region: ELSEWHERE, since: '2015-01-01' } },
      { sourceRecordId: 'HR-440902-ZW-P', citizenId: P.zhangWei, mode: 'snapshot', asOf: '2026-11-05T00:00:00.000Z',
        facts: { kind: 'insurance', insuranceType: 'pension', scheme: 'resident', status: 'active', region: ELSEWHERE, since: '2010-01-01', name: '张伟' } },
    ];
    const ndjson = `${imported.map((r) => JSON.stringify(r)).join('\n')}\n`;
    const res = await fetch(`${stack.urls.comparison}/loads?fileName=hr-440902-to-440981.ndjson`, {
      method: 'POST',
      headers: { ...key('higher-registry'), 'content-type': 'application/x-ndjson' },
      body: ndjson,
    });
    const report = (await res.json()) as Record<string, unknown>;
    expect({ status: res.status, report }).toEqual({
      status: 201,
      report: expect.objectContaining({ status: 'completed', department: 'higher-registry', format: 'ndjson', rows: 3, accepted: 3, duplicates: 0, quarantined: 0 }),
    });

    const view = await waitFor(async () => {
      const r = await call('GET', `/persons/${pid(P.wangFang)}`, clerk);
      const medical = r.body?.comparison?.coverage?.find((c: { insuranceType: string }) => c.insuranceType === 'medical');
      return r.status === 200 && r.body.comparison.outcome === 'registered' && medical?.status === 'insured-elsewhere' ? r.body : undefined;
    }, { timeoutMs: 60_000, message: 're-comparison after the import' });
    const wangFangCoverage = coverageOf([
      { type: 'pension', field: `pension:resident:${ELSEWHERE}`, source: 'higher-registry', asOf: '2026-11-05T00:00:00.000Z', region: ELSEWHERE },
      { type: 'medical', field: `medical:resident:${ELSEWHERE}`, source: 'higher-registry', asOf: '2026-11-05T00:00:00.000Z', region: ELSEWHERE },
    ]);
    // Insured elsewhere counts as insured: the facts the rule fired on are the higher registry's entries.
    const complete = {
      code: 'COMPLETE', rule: 'registered-directly', ruleVersion: 1,
      detail: `complete and accurate: higher-registry pension:resident:${ELSEWHERE}=active; higher-registry medical:resident:${ELSEWHERE}=active`,
      facts: [
        { source: 'higher-registry', field: `pension:resident:${ELSEWHERE}`, value: 'active', asOf: '2026-11-05T00:00:00.000Z' },
        { source: 'higher-registry', field: `medical:resident:${ELSEWHERE}`, value: 'active', asOf: '2026-11-05T00:00:00.000Z' },
      ],
    };
    expect(view.comparison).toEqual({
      outcome: 'registered',
      previousOutcome: 'needs-survey',
      // Decided on the pension record alone, or on both if the consumer applied them in one batch (the
      // medical one changes no code, so it makes no second event): the recorded detail names the
      // pension, and the medical entry only in the second case; the facts are the re-evaluation's.
      reasons: [{ ...complete, detail: expect.stringMatching(new RegExp(`^complete and accurate: higher-registry pension:resident:${ELSEWHERE}=active(; higher-registry medical:resident:${ELSEWHERE}=active)?$`)) }],
      decidedAt: ISO,
      eventId: UUID,
      coverage: wangFangCoverage,
      evaluatedAt: ISO,
      stale: false,
      explanation: { asOf: ISO, outcome: 'registered', reasons: [complete], hits: [complete], coverage: wangFangCoverage },
    });
    // A third outcome when the two imported records were compared in two batches: the medical one
    // changed only a status (medical not insured, then insured elsewhere).
    const history = view.outcomes.map((o: { previousOutcome: string; outcome: string; reasons: { code: string }[] }) => [o.previousOutcome, o.outcome, o.reasons.map((r) => r.code)]);
    expect(history.slice(0, 2)).toEqual([
      ['none', 'needs-survey', ['UNINSURED']],
      ['needs-survey', 'registered', ['COMPLETE']],
    ]);
    expect(history.slice(2)).toEqual(history.length === 3 ? [['registered', 'registered', ['COMPLETE']]] : []);
    expect(Object.keys(view.sources)).toEqual(['higher-registry', 'public-security']);
    expect(Object.keys(view.sources['higher-registry'].facts.insurance)).toEqual([`medical:resident:${ELSEWHERE}`, `pension:resident:${ELSEWHERE}`]);

    // 张伟: the same scheme active here and in another region is a duplicate (重复参保).
    const duplicate = await waitFor(async () => {
      const r = await call('GET', `/persons/${pid(P.zhangWei)}`, clerk);
      return r.status === 200 && r.body.comparison.outcome === 'duplicate' ? r.body : undefined;
    }, { timeoutMs: 60_000, message: 'duplicate after the import' });
    expect(duplicate.comparison.reasons.map((x: { code: string; facts: unknown[] }) => [x.code, x.facts])).toEqual([
      ['DUPLICATE_REGION', [
        { source: 'higher-registry', field: `pension:resident:${ELSEWHERE}`, value: 'active', asOf: '2026-11-05T00:00:00.000Z' },
        { source: 'social-insurance', field: `pension:resident:${COUNTY}`, value: 'active', asOf: AS_OF },
      ]],
    ]);

    // The flag is lifted: she leaves the list; he is flagged as a duplicate; the counts follow.
    expect((await call('GET', '/flags?reason=UNINSURED', township)).body.items.map((i: { personId: string }) => i.personId)).toEqual([pid(P.huangJing), pid(P.liuYang)]);
    expect((await call('GET', '/flags?outcome=duplicate', township)).body).toEqual({
      total: 1, limit: 50, offset: 0, items: [flagged(P.zhangWei, '张伟', V2, 'duplicate', ['DUPLICATE_REGION'])],
    });
    expect((await call('GET', '/flags/summary', township)).body).toEqual({
      division: TOWNSHIP,
      total: 6,
      byOutcome: { registered: 1, duplicate: 1, 'needs-survey': 3, exempt: 1 },
      byReason: { COMPLETE: 1, DUPLICATE_REGION: 1, EXEMPT_MOVED_OUT: 1, INACCURATE_NAME: 1, UNINSURED: 2 },
    });
    // Local people are never exported, whatever region they are insured in.
    expect((await exportNdjson(key('higher-registry'))).text).not.toContain(P.wangFang);
  });
});
