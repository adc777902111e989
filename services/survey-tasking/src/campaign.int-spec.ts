import type { INestApplication } from '@nestjs/common';
import { mintToken } from '@qmcb/auth';
import {
  OUTCOME_DETERMINED,
  PERSON_ERASED,
  REVIEW_FINAL_APPROVED,
  REVIEW_INITIAL_APPROVED,
  REVIEW_RETURNED,
  SOURCE_RECORD_RECEIVED,
  deterministicId,
  newEvent,
} from '@qmcb/contracts';
import type { ChangeRequest, RegistrationEvent } from '@qmcb/contracts';
import { EventLogProducer, applyEvents } from '@qmcb/event-log';
import { checkCharacter, personKeyFor } from '@qmcb/domain';
import { PersonIds } from '@qmcb/platform';
import { LogTransport, createServiceTestingApp, loadServiceConfig, runServiceCommand } from '@qmcb/service-kit';
import { createTestDatabase, createTestTopic, deleteTestTopic, readAllEvents, testKafkaSettings, waitFor } from '@qmcb/testing';
import { Client } from 'pg';
import type { TestDatabase } from '@qmcb/testing';
import ExcelJS from 'exceljs';
import type { AddressInfo } from 'net';
import { randomBytes, randomUUID } from 'crypto';
import { DataSource } from 'typeorm';
import { HouseholdMemberRepository } from './households/household-member.repository';
import { ProgressGauges } from './progress/progress-gauges';
import { SurveyTaskRepository } from './targets/survey-task.repository';
import { SurveyTaskingModule } from './survey-tasking.module';
import { register } from 'prom-client';

/**
 * A survey campaign of 高州市 (440981) in 石仔岭街道 (440981002), over HTTP with the service's own module
 * on the real broker, PostgreSQL and Redis. Department records and comparison's and review's decisions
 * are appended to the log as those services would; survey tasking consumes them. Targets generated,
 * teams formed and assigned, visits with every outcome, incomplete and conflicting submissions, the
 * correction of a wrong citizen ID, a person found on site, a target closed because its person was
 * registered another way, reassignment; the exact target states, progress figures and ledger rows
 * (CSV and XLSX parsed back) at each step.
 */
const JWT_SECRET = randomBytes(32).toString('base64url');
const KEY_SECRET = randomBytes(32).toString('base64url');
const COUNTY = '440981';
const TOWNSHIP = '440981002'; // 石仔岭街道
const V1 = '440981002001'; // 南宫居委会
const V2 = '440981002002'; // 南珠居委会
const V3 = '440981002201'; // 茂岭村委会
const AS_OF = '2026-11-01T00:00:00.000Z';

// HTTP answers are asserted field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const id = (birth: string, seq: string): string => {
  const id17 = `${COUNTY}${birth.replace(/-/g, '')}${seq}`;
  return `${id17}${checkCharacter(id17)}`;
};

interface Person {
  tag: string;
  citizenId: string;
  name: string;
  sex: 'male' | 'female';
  birthDate: string;
  village: string;
  householdNo: string;
  relation: string;
  phone?: string;
  /** Comparison's reasons: a target; none: registered. */
  reasons: string[];
}

const P = (tag: string, name: string, birth: string, seq: string, village: string, householdNo: string, relation: string, reasons: string[], phone?: string): Person => ({
  tag, citizenId: id(birth, seq), name, sex: Number(seq[2]) % 2 === 1 ? 'male' : 'female', birthDate: birth, village, householdNo, relation, reasons, ...(phone ? { phone } : {}),
});

const A = P('A', '李明', '1975-03-15', '131', V1, '0001', '户主', ['UNINSURED'], '13800000001');
const B = P('B', '王芳', '1977-06-01', '142', V1, '0001', '配偶', [], '13800000002');
const C = P('C', '李强', '2000-01-20', '151', V1, '0001', '子', ['MISSING_PHONE']);
const D = P('D', '陈华', '1980-05-05', '163', V1, '0002', '户主', ['UNINSURED'], '13800000004');
const G = P('G', '黄勇', '1990-09-09', '171', V2, '0004', '户主', ['UNINSURED'], '13800000007');
const H = P('H', '梁军', '1970-01-01', '211', V3, '0101', '户主', ['UNINSURED'], '13800000008');
const I = P('I', '林涛', '1988-02-02', '231', V3, '0102', '户主', ['UNINSURED'], '13800000009');
const J = P('J', '何杰', '1966-03-03', '251', V3, '0103', '户主', ['UNINSURED'], '13800000010');
const K = P('K', '罗平', '1940-04-04', '271', V3, '0104', '户主', ['AGE_60_NO_PENSION'], '13800000011');
const L = P('L', '邓超', '1995-05-05', '291', V3, '0105', '户主', ['UNINSURED'], '13800000012');
const M = P('M', '冯磊', '1985-06-06', '311', V3, '0106', '户主', ['UNINSURED'], '13800000013');
// F's ID was mistyped by public security: the check character fails, so the person is keyed by a surrogate.
const F_TRUE_ID = id('1992-07-07', '332');
const F_SENT = `${F_TRUE_ID.slice(0, 17)}${F_TRUE_ID[17] === '0' ? '1' : '0'}`;
const F: Person = { tag: 'F', citizenId: F_SENT, name: '吴娜', sex: 'female', birthDate: '1992-07-07', village: V2, householdNo: '0003', relation: '户主', reasons: ['INACCURATE_CITIZEN_ID', 'UNINSURED'], phone: '13800000006' };
// N is met at A's household: not on the list.
const N_ID = id('2019-08-08', '362');

const PEOPLE = [A, B, C, D, F, G, H, I, J, K, L, M];
const TARGETS = PEOPLE.filter((p) => p.reasons.length > 0);
const key = (p: Person): string => personKeyFor(p.citizenId);

const origin = (source: string, tag: string): { source: string; actor: string; occurredAt: string; correlationId: string } => ({ source, actor: source, occurredAt: new Date().toISOString(), correlationId: `int-${tag}` });

function householdRecord(p: Person): RegistrationEvent {
  const valid = p !== F;
  return newEvent(SOURCE_RECORD_RECEIVED, deterministicId('int', 'hj', p.tag), key(p), {
    department: 'public-security', sourceRecordId: `HJ-${p.tag}`, mode: 'snapshot', asOf: AS_OF, citizenIdAsSent: p.citizenId, citizenIdValid: valid,
    facts: { kind: 'household', name: p.name, sex: p.sex, birthDate: p.birthDate, villageCode: p.village, status: 'normal', address: `高州市石仔岭街道${p.householdNo}号`, householdNo: p.householdNo, relationToHead: p.relation, ...(p.phone ? { phone: p.phone } : {}) },
  }, { ...origin('dept:public-security', p.tag), occurredAt: AS_OF });
}

function outcome(p: Person, value: 'needs-survey' | 'registered', reasons: string[], n = 1): RegistrationEvent {
  return newEvent(OUTCOME_DETERMINED, deterministicId('int', 'outcome', p.tag, String(n)), key(p), {
    outcome: value, previousOutcome: n === 1 ? 'none' : 'needs-survey', reasons: reasons.map((code) => ({ code, rule: 'int', ruleVersion: 1, detail: '' })), coverage: [],
  }, origin('svc:comparison', p.tag));
}

const INSURED = [
  { insuranceType: 'pension', scheme: 'resident', status: 'active', region: COUNTY },
  { insuranceType: 'medical', scheme: 'resident', status: 'active', region: COUNTY },
] as const;

function formOf(p: Pick<Person, 'citizenId' | 'name' | 'sex' | 'birthDate' | 'village'>, patch: Partial<ChangeRequest['fields']> = {}): ChangeRequest['fields'] {
  return {
    citizenId: p.citizenId, name: p.name, sex: p.sex, birthDate: p.birthDate, phone: '13900000000', residenceDivision: p.village, residenceAddress: '高州市石仔岭街道', employmentStatus: 'farmer',
    insurance: INSURED.map((i) => ({ ...i })), insuredElsewhere: false, ...patch,
  };
}

const member = (p: Person, status = 'present'): { citizenId: string; name: string; relation: string; status: string } => ({ citizenId: p.citizenId, name: p.name, relation: p.relation, status });

/** RFC 4180 CSV, as a spreadsheet reads it. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length > 0) row.push(field), rows.push(row);
  return rows;
}

async function parseXlsx(bytes: Buffer): Promise<string[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(bytes);
  const sheet = workbook.worksheets[0];
  if (!sheet) return [];
  // An empty cell is not stored: read every column of the header's width.
  const width = sheet.getRow(1).cellCount;
  const rows: string[][] = [];
  sheet.eachRow((r) => rows.push(Array.from({ length: width }, (_, i) => {
    const v = r.getCell(i + 1).value;
    return v === null || v === undefined ? '' : String(v);
  })));
  return rows;
}

describe('a survey campaign of 高州市 石仔岭街道 (real broker, PostgreSQL, Redis)', () => {
  let app: INestApplication;
  let ids: PersonIds;
  let baseUrl: string;
  let topic: string;
  let db: TestDatabase;
  let producer: EventLogProducer;
  const bearer = (role: string, division: string, sub: string): Record<string, string> => ({ authorization: `Bearer ${mintToken({ sub, name: sub, role, division, ttlSeconds: 3600 }, JWT_SECRET)}`, 'x-purpose': 'survey' });
  const county = bearer('county-approver', COUNTY, 'county-1');
  const township = bearer('grassroots-reviewer', TOWNSHIP, 'township-1');
  const sv = (sub: string, division = TOWNSHIP): Record<string, string> => bearer('surveyor', division, sub);
  const task = new Map<string, string>();

  beforeAll(async () => {
    topic = await createTestTopic(3);
    db = await createTestDatabase();
    process.env['SURVEY_GAUGES_INTERVAL_MS'] = '0';
    const { config, kafka } = loadServiceConfig('survey-tasking', {
      ...process.env, DATABASE_URL: db.url, LOG_TOPIC: topic, KAFKA_ENSURE_TOPICS: 'false', AUTH_JWT_SECRET: JWT_SECRET, API_KEY_SECRET: KEY_SECRET, CONSUMER_GROUP: `survey-int-${randomUUID()}`,
    });
    app = await createServiceTestingApp(SurveyTaskingModule.register(config, kafka));
    ids = app.get(PersonIds);
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    producer = await EventLogProducer.connect(testKafkaSettings(topic));
  });

  afterAll(async () => {
    await producer?.disconnect();
    await app?.close();
    await db?.drop();
    if (topic) await deleteTestTopic(topic);
  });

  async function call(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${baseUrl}${path}`, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  /** `npm run projection -- survey-tasking <argv>` against this spec's database and topic: its exit code and what it printed. */
  async function surveyCommand(argv: string[]): Promise<{ code: number; printed: string }> {
    const out: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const saved = { ...process.env };
    Object.assign(process.env, { DATABASE_URL: db.url, LOG_TOPIC: topic, AUTH_JWT_SECRET: JWT_SECRET, API_KEY_SECRET: KEY_SECRET, LOG_LEVEL: 'error' });
    try {
      const code = await runServiceCommand('survey-tasking', (config, kafka) => SurveyTaskingModule.register(config, kafka), argv);
      return { code, printed: out.join('') };
    } finally {
      process.env = saved;
      write.mockRestore();
    }
  }

  async function dbQuery(sql: string): Promise<Record<string, unknown>[]> {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  }

  async function download(path: string, headers: Record<string, string>): Promise<{ status: number; type: string | null; bytes: Buffer }> {
    const res = await fetch(`${baseUrl}${path}`, { headers });
    return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
  }

  /** Every target of the township, by person tag: [status, responsible surveyor]. */
  async function states(): Promise<Record<string, [string, string | null]>> {
    const r = await call('GET', `/tasks?division=${TOWNSHIP}&limit=500`, county);
    const byKey = new Map<string, Json>(r.body.items.map((t: Json) => [ids.keyOf(t.personId), t]));
    const out: Record<string, [string, string | null]> = {};
    for (const p of [...TARGETS, { tag: 'N', citizenId: N_ID } as Person]) {
      const t = byKey.get(key(p));
      if (t) out[p.tag] = [t.status, t.responsibleId];
    }
    return out;
  }

  const waitStates = (expected: Record<string, [string, string | null]>, message: string): Promise<unknown> =>
    waitFor(async () => JSON.stringify(await states()) === JSON.stringify(expected), { timeoutMs: 60_000, message }).catch(async (e) => {
      expect(await states()).toEqual(expected);
      throw e;
    });

  let campaignId: string;
  const T1 = randomUUID();
  const T2 = randomUUID();

  it('1. turns every needs-survey person into a target in their village, with what the surveyor needs at the door', async () => {
    await producer.append([...PEOPLE.map(householdRecord), ...PEOPLE.map((p) => (p.reasons.length ? outcome(p, 'needs-survey', p.reasons) : outcome(p, 'registered', ['COMPLETE'])))]);
    await waitFor(async () => (await call('GET', `/tasks?division=${TOWNSHIP}`, county)).body.total === TARGETS.length, { timeoutMs: 60_000, message: 'targets' });
    const list = await call('GET', `/tasks?division=${TOWNSHIP}&limit=500`, county);
    for (const t of list.body.items) task.set(TARGETS.find((p) => key(p) === ids.keyOf(t.personId))?.tag as string, t.taskId);
    expect(await states()).toEqual(Object.fromEntries(TARGETS.map((p) => [p.tag, ['open', null]])));
    const a = list.body.items.find((t: Json) => t.personId === ids.idOf(A.citizenId));
    expect(a).toMatchObject({
      villageCode: V1, townshipCode: TOWNSHIP, countyCode: COUNTY, origin: 'comparison', status: 'open', reasons: ['UNINSURED'], householdKey: `${V1}-0001`, visits: 0, responsibleId: null,
      person: { citizenId: A.citizenId, name: '李明', sex: 'male', birthDate: '1975-03-15', hukouDivision: V1, hukouAddress: '高州市石仔岭街道0001号', phone: '13800000001', householdNo: '0001', relation: '户主', insurance: [] },
      why: [{ code: 'UNINSURED', label: '未参保', explanation: '没有任何参保记录，请了解未参保原因并动员参保。' }],
      followUp: { kind: 'visit', due: null, whereRegion: null, whereText: null },
    });
    const f = list.body.items.find((t: Json) => ids.keyOf(t.personId) === key(F));
    expect(ids.keyOf(f.personId)).toMatch(/^X-/);
    expect(f).toMatchObject({ householdKey: `${V2}-0003`, person: { citizenId: F_SENT, name: '吴娜' }, why: [{ label: '身份号码有误' }, { label: '未参保' }] });
  });

  it('2. opens the county campaign, forms teams of two under the township, and refuses a team of one', async () => {
    campaignId = randomUUID();
    const opened = await call('POST', '/campaigns', county, { campaignId, countyCode: COUNTY, name: '2026年石仔岭街道入户调查', startsOn: '2026-11-01', deadline: '2099-12-31' });
    expect(opened).toMatchObject({ status: 201, body: { campaignId, countyCode: COUNTY, status: 'open', deadline: '2099-12-31' } });
    expect((await call('POST', '/campaigns', county, { campaignId: randomUUID(), countyCode: COUNTY, name: '另一个', startsOn: '2026-11-01', deadline: '2099-12-31' })).status).toBe(409);
    expect((await call('POST', '/campaigns', township, { campaignId: randomUUID(), countyCode: COUNTY, name: 'x', startsOn: '2026-11-01', deadline: '2099-12-31' })).status).toBe(403);
    // Dates that do not exist are refused naming each field (they once reached PostgreSQL: 500).
    expect(await call('POST', '/campaigns', county, { campaignId: randomUUID(), countyCode: COUNTY, name: 'x', startsOn: '2026-02-30', deadline: '2026-13-45' })).toEqual({
      status: 400,
      body: {
        statusCode: 400, code: 'VALIDATION_FAILED', message: 'validation failed: startsOn, deadline',
        violations: [
          { field: 'startsOn', rule: 'isCalendarDate', message: 'startsOn must be a date that exists (YYYY-MM-DD), got "2026-02-30"' },
          { field: 'deadline', rule: 'isCalendarDate', message: 'deadline must be a date that exists (YYYY-MM-DD), got "2026-13-45"' },
        ],
      },
    });
    const lonely = await call('POST', `/campaigns/${campaignId}/teams`, township, { teamId: randomUUID(), townshipCode: TOWNSHIP, name: '单人组', members: [{ surveyorId: 'sv-x', name: '某' }] });
    expect(lonely).toEqual({ status: 400, body: { statusCode: 400, code: 'VALIDATION_FAILED', message: 'members must name 2 to 3 surveyors (一般以2-3人为一组), got 1', violations: [{ field: 'members', rule: 'teamSize', message: 'members must name 2 to 3 surveyors (一般以2-3人为一组), got 1' }] } });
    expect((await call('POST', `/campaigns/${campaignId}/teams`, township, { teamId: T1, townshipCode: TOWNSHIP, name: 'T1', members: [{ surveyorId: 'sv-a', name: '张一' }, { surveyorId: 'sv-b', name: '张二' }] })).status).toBe(201);
    expect((await call('POST', `/campaigns/${campaignId}/teams`, township, { teamId: T2, townshipCode: TOWNSHIP, name: 'T2', members: [{ surveyorId: 'sv-c', name: '张三' }, { surveyorId: 'sv-d', name: '张四' }] })).status).toBe(201);
    // Another township's reviewer cannot form teams here.
    expect((await call('POST', `/campaigns/${campaignId}/teams`, bearer('grassroots-reviewer', '440981003', 'tw-2'), { teamId: randomUUID(), townshipCode: TOWNSHIP, name: 'x', members: [{ surveyorId: 'a', name: 'a' }, { surveyorId: 'b', name: 'b' }] })).status).toBe(404);
  });

  it('3. distributes the township by workload: runs of households to teams, each household whole to one surveyor', async () => {
    const auto = await call('POST', `/campaigns/${campaignId}/assignments/auto`, township, { townshipCode: TOWNSHIP });
    expect(auto.status).toBe(201);
    expect(auto.body).toMatchObject({ campaignId, assigned: 11, perSurveyor: { 'sv-a': 3, 'sv-b': 2, 'sv-c': 3, 'sv-d': 3 } });
    expect(auto.body.villages.filter((v: Json) => [V1, V2, V3].includes(v.villageCode))).toEqual([
      { villageCode: V1, teamIds: [T1] },
      { villageCode: V2, teamIds: [T1] },
      { villageCode: V3, teamIds: [T2] },
    ]);
    // Every village of the township has a team, those without targets too.
    expect(auto.body.villages.every((v: Json) => v.teamIds.length === 1)).toBe(true);
    await waitStates(
      { A: ['open', 'sv-a'], C: ['open', 'sv-a'], D: ['open', 'sv-b'], F: ['open', 'sv-b'], G: ['open', 'sv-a'], H: ['open', 'sv-c'], I: ['open', 'sv-d'], J: ['open', 'sv-c'], K: ['open', 'sv-d'], L: ['open', 'sv-c'], M: ['open', 'sv-d'] },
      'assignment',
    );
    // A household is named as target lists show it; a citizen ID in a household key is refused, field and rule named.
    const byCitizenId = await call('POST', `/campaigns/${campaignId}/assignments`, township, { teamId: T1, householdKeys: [`${V1}-0001`, `P-${A.citizenId}`] });
    const message = 'householdKeys.1 must be a householdKey from a target list: <village code>-<户号>, or P-<person ID> for a person without a 户号';
    expect(byCitizenId).toEqual({
      status: 400,
      body: { statusCode: 400, code: 'VALIDATION_FAILED', message: 'householdKeys.1 is not a household key', violations: [{ field: 'householdKeys.1', rule: 'householdKey', message }] },
    });
  });

  let svaCursor: string;
  let svbCursor: string;
  let sveCursor: string;

  it("4. gives a surveyor their own targets only: a paged download with a cursor, and 404 for anyone else's", async () => {
    const first = await call('GET', '/my/targets?limit=2', sv('sv-a'));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ more: true, removed: [] });
    const second = await call('GET', `/my/targets?limit=2&since=${first.body.next}`, sv('sv-a'));
    expect(second.body.more).toBe(false);
    const got = [...first.body.targets, ...second.body.targets].map((t: Json) => t.taskId).sort();
    expect(got).toEqual([task.get('A'), task.get('C'), task.get('G')].sort());
    const h1 = [...first.body.households, ...second.body.households].find((h: Json) => h.householdKey === `${V1}-0001`);
    expect(h1.members.map((m: Json) => [m.name, m.relation, m.status])).toEqual(
      [[A, 'open'], [B, null], [C, 'open']].sort((x, y) => (key(x[0] as Person) < key(y[0] as Person) ? -1 : 1)).map(([p, s]) => [(p as Person).name, (p as Person).relation, s]),
    );
    svaCursor = second.body.next;
    // Nothing changed since: an empty download.
    expect((await call('GET', `/my/targets?since=${svaCursor}`, sv('sv-a'))).body).toMatchObject({ targets: [], removed: [], more: false });
    const b = await call('GET', '/my/targets', sv('sv-b'));
    svbCursor = b.body.next;
    expect(b.body.targets.map((t: Json) => t.taskId).sort()).toEqual([task.get('D'), task.get('F')].sort());
    // Every 404 has one body: not assigned to you is indistinguishable from no such target.
    const notMine = { status: 404, body: { statusCode: 404, code: 'NOT_FOUND', message: 'not found' } };
    expect(await call('GET', `/tasks/${task.get('D')}`, sv('sv-a'))).toEqual(notMine);
    expect(await call('POST', `/tasks/${task.get('D')}/visits`, sv('sv-a'), { visitId: randomUUID(), outcome: 'not-found', visitedAt: new Date().toISOString() })).toEqual(notMine);
    expect((await call('GET', `/tasks?division=${TOWNSHIP}`, sv('sv-a'))).body.total).toBe(3);
    // Nor the record of a person they are not sent to.
    expect(await call('POST', '/persons/lookup', sv('sv-a'), { citizenId: D.citizenId })).toEqual({ status: 404, body: { statusCode: 404, code: 'NOT_FOUND', message: 'not found' } });
    expect(await call('GET', `/persons/${ids.idOf(D.citizenId)}`, sv('sv-a'))).toEqual({ status: 404, body: { statusCode: 404, code: 'NOT_FOUND', message: 'not found' } });
    expect((await call('POST', '/persons/lookup', sv('sv-a'), { citizenId: A.citizenId })).body.tasks.map((t: Json) => t.taskId)).toEqual([task.get('A')]);
    expect((await call('GET', `/persons/${ids.idOf(A.citizenId)}`, sv('sv-a'))).body.tasks.map((t: Json) => t.taskId)).toEqual([task.get('A')]);
    expect((await call('GET', '/my/targets?since=garbage!', sv('sv-a'))).status).toBe(400);
    expect((await call('GET', `/tasks/${task.get('A')}`, sv('sv-a'))).body).toMatchObject({ taskId: task.get('A'), household: { householdKey: `${V1}-0001` }, assignments: [{ surveyorId: 'sv-a', mode: 'auto', endedAt: null }] });
  });

  it('5. records every visit outcome with its follow-up; refuses one missing what it needs; a retry records it once', async () => {
    const now = new Date();
    const visitedAt = now.toISOString();
    const threeDaysAgo = new Date(now.getTime() - 3 * 86_400_000);
    const visits: [string, string, Json][] = [
      ['H', 'sv-c', { outcome: 'refused', reason: '认为没必要参保', visitedAt }],
      ['I', 'sv-d', { outcome: 'away', whereRegion: '440106', whereText: '广州市天河区务工', visitedAt }],
      ['J', 'sv-c', { outcome: 'moved-out', whereText: '随子女迁往深圳', visitedAt }],
      ['L', 'sv-c', { outcome: 'not-found', reason: '邻居称不认识此人', visitedAt }],
      // Nobody home three days ago, the revisit planned for yesterday: overdue now.
      ['M', 'sv-d', { outcome: 'nobody-home', visitedAt: threeDaysAgo.toISOString(), revisitOn: new Date(now.getTime() + 8 * 3_600_000 - 86_400_000).toISOString().slice(0, 10) }],
    ];
    const deathWithoutProof = await call('POST', `/tasks/${task.get('K')}/visits`, sv('sv-d'), { visitId: randomUUID(), outcome: 'deceased', visitedAt });
    expect(deathWithoutProof).toEqual({
      status: 400,
      body: {
        statusCode: 400, code: 'VALIDATION_FAILED', message: 'the deceased visit is incomplete: 2 items missing or wrong',
        violations: [
          { field: 'deathDate', rule: 'isDefined', message: 'deathDate must be given when the outcome is deceased (the date of death)' },
          { field: 'evidence', rule: 'arrayNotEmpty', message: 'evidence must name at least one document (death or cremation certificate) when the outcome is deceased' },
        ],
      },
    });
    expect(await call('POST', `/tasks/${task.get('M')}/visits`, sv('sv-d'), { visitId: randomUUID(), outcome: 'nobody-home', visitedAt, revisitOn: '2026-13-45' })).toEqual({
      status: 400,
      body: { statusCode: 400, code: 'VALIDATION_FAILED', message: 'validation failed: revisitOn', violations: [{ field: 'revisitOn', rule: 'isCalendarDate', message: 'revisitOn must be a date that exists (YYYY-MM-DD), got "2026-13-45"' }] },
    });
    visits.push(['K', 'sv-d', { outcome: 'deceased', deathDate: '2026-10-30', evidence: [{ kind: 'death-certificate', reference: '粤死证-2026-001' }], visitedAt }]);
    for (const [tag, who, body] of visits) {
      const visitId = randomUUID();
      const r = await call('POST', `/tasks/${task.get(tag)}/visits`, sv(who), { visitId, ...body });
      expect([tag, r.status]).toEqual([tag, 201]);
      const again = await call('POST', `/tasks/${task.get(tag)}/visits`, sv(who), { visitId, ...body });
      expect(again).toEqual(r);
      if (tag === 'H') {
        expect(await call('POST', `/tasks/${task.get(tag)}/visits`, sv(who), { visitId, ...body, reason: '改了' })).toEqual({
          status: 409, body: { statusCode: 409, code: 'CONFLICT', message: 'this visitId was already used for another upload: generate a new one' },
        });
      }
    }
    const detail = await call('GET', `/tasks/${task.get('I')}`, sv('sv-d'));
    expect(detail.body).toMatchObject({ status: 'away', visits: 1, lastOutcome: 'away', whereRegion: '440106', followUp: { kind: 'cross-region-inquiry', whereRegion: '440106', whereText: '广州市天河区务工' } });
    expect((await call('GET', `/tasks/${task.get('M')}`, sv('sv-d'))).body.followUp.kind).toBe('revisit');
    expect((await call('GET', `/tasks/${task.get('J')}`, sv('sv-c'))).body.followUp).toEqual({ kind: 'transfer', due: null, whereRegion: null, whereText: '随子女迁往深圳' });
  });

  const aSubmission = randomUUID();

  it('6. refuses an incomplete form field by field (三不漏), takes the complete one once, and refuses a second form while it is in review', async () => {
    const incomplete = await call('POST', `/tasks/${task.get('A')}/submissions`, sv('sv-a'), {
      submissionId: aSubmission, visitId: randomUUID(),
      request: { kind: 'registration-form', fields: formOf(A, { phone: undefined, insurance: [] }), evidence: [], unknown: [{ field: 'employer', reason: '务农无单位' }] },
      household: { householdNo: '0001', members: [member(A), member(C)] },
    });
    expect(incomplete).toEqual({
      status: 400,
      body: {
        statusCode: 400, code: 'VALIDATION_FAILED', message: 'the registration form is incomplete: 3 items missing or wrong',
        violations: [
          { field: 'request.fields.phone', rule: 'filledOrUnknown', message: 'request.fields.phone (联系电话) must be filled in or marked unknown with a reason' },
          { field: 'request.fields.notInsuredReason', rule: 'filledOrUnknown', message: 'request.fields.notInsuredReason (未参保原因) must be filled in or marked unknown with a reason' },
          { field: 'household.members', rule: 'accountedFor', message: `household.members must account for 王芳 (配偶, ${B.citizenId.slice(0, 6)}********${B.citizenId.slice(-4)})` },
        ],
      },
    });
    const complete = { submissionId: aSubmission, visitId: randomUUID(), request: { kind: 'registration-form', fields: formOf(A), evidence: [], unknown: [] }, household: { householdNo: '0001', members: [member(A), member(B), member(C)] } };
    const ok = await call('POST', `/tasks/${task.get('A')}/submissions`, sv('sv-a'), complete);
    expect(ok).toEqual({ status: 201, body: { taskId: task.get('A'), submissionId: aSubmission, visitId: complete.visitId, eventId: deterministicId('survey', 'form-submitted', aSubmission), status: 'submitted' } });
    expect(await call('POST', `/tasks/${task.get('A')}/submissions`, sv('sv-a'), complete)).toEqual(ok);
    const second = await call('POST', `/tasks/${task.get('A')}/submissions`, sv('sv-a'), { ...complete, submissionId: randomUUID() });
    expect(second.status).toBe(409);
    expect(second.body.message).toMatch(/is submitted; only a task waiting for a visit/);
    // The wrong surveyor cannot submit it, the right one only once.
    expect((await call('POST', `/tasks/${task.get('A')}/submissions`, sv('sv-b'), { ...complete, submissionId: randomUUID() })).status).toBe(404);
  });

  let fUpload: Json;
  let fAnswer: { status: number; body: Json };

  it('7. corrects a wrong citizen ID only with evidence, and refuses a sex that contradicts the ID', async () => {
    const base = { visitId: randomUUID(), household: { householdNo: '0003', members: [{ citizenId: F_SENT, name: F.name, relation: '户主', status: 'present' }] } };
    const noEvidence = await call('POST', `/tasks/${task.get('F')}/submissions`, sv('sv-b'), { ...base, submissionId: randomUUID(), request: { kind: 'registration-form', fields: formOf({ ...F, citizenId: F_TRUE_ID }), evidence: [], unknown: [] } });
    expect(noEvidence.body.violations).toEqual([
      { field: 'request.evidence', rule: 'evidenceForCorrection', message: 'request.evidence must name the document (ID card, household book) for the correction of citizenId (公民身份号码)' },
    ]);
    const wrongSex = await call('POST', `/tasks/${task.get('F')}/submissions`, sv('sv-b'), {
      ...base, submissionId: randomUUID(), request: { kind: 'registration-form', fields: formOf({ ...F, citizenId: F_TRUE_ID }, { sex: 'male' }), evidence: [{ kind: 'id-card', reference: '身份证复印件' }], unknown: [] },
    });
    expect(wrongSex.body.violations).toEqual([
      { field: 'request.fields.sex', rule: 'matchesCitizenId', message: `request.fields.sex is male but citizen ID ${F_TRUE_ID.slice(0, 6)}********${F_TRUE_ID.slice(-4)} says female` },
    ]);
    fUpload = { ...base, submissionId: randomUUID(), request: { kind: 'registration-form', fields: formOf({ ...F, citizenId: F_TRUE_ID }), evidence: [{ kind: 'id-card', reference: '身份证复印件' }], unknown: [] } };
    fAnswer = await call('POST', `/tasks/${task.get('F')}/submissions`, sv('sv-b'), fUpload);
    expect(fAnswer.status).toBe(201);
  });

  let nTask: string;

  it('8. adds a person found at the household with their form, linked to it; the next form of the household must account for them', async () => {
    const nForm = { citizenId: N_ID, name: '李小宝', sex: 'female' as const, birthDate: '2019-08-08', village: V1 };
    const r = await call('POST', `/tasks/${task.get('C')}/found-persons`, sv('sv-a'), {
      submissionId: randomUUID(), visitId: randomUUID(), citizenId: N_ID, name: '李小宝', relation: '孙女',
      request: { kind: 'registration-form', fields: formOf(nForm, { employmentStatus: 'student', phone: undefined, notInsuredReason: 'student', insurance: [] }), evidence: [], unknown: [{ field: 'phone', reason: '儿童无手机' }] },
      household: { householdNo: '0001', members: [member(A), member(B), member(C), { citizenId: N_ID, name: '李小宝', relation: '孙女', status: 'present' }] },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ personId: ids.idOf(N_ID), householdKey: `${V1}-0001`, foundInTaskId: task.get('C'), status: 'submitted' });
    nTask = r.body.taskId;
    await waitFor(async () => (await call('GET', `/tasks/${nTask}`, sv('sv-a'))).status === 200, { timeoutMs: 30_000, message: 'found target' });
    expect((await call('GET', `/tasks/${nTask}`, sv('sv-a'))).body).toMatchObject({ origin: 'found-on-site', status: 'submitted', responsibleId: 'sv-a', foundInTaskId: task.get('C'), why: [{ code: 'FOUND_ON_SITE', label: '入户新发现' }] });
    // C's form without N is now incomplete: N is a member of the household.
    const cBody = { submissionId: randomUUID(), visitId: randomUUID(), request: { kind: 'registration-form', fields: formOf(C), evidence: [], unknown: [] }, household: { householdNo: '0001', members: [member(A), member(B), member(C)] } };
    const withoutN = await call('POST', `/tasks/${task.get('C')}/submissions`, sv('sv-a'), cBody);
    expect(withoutN.body.violations).toEqual([{ field: 'household.members', rule: 'accountedFor', message: `household.members must account for 李小宝 (孙女, ${N_ID.slice(0, 6)}********${N_ID.slice(-4)})` }]);
    const stranger = id('1999-01-01', '412');
    const withStranger = await call('POST', `/tasks/${task.get('C')}/submissions`, sv('sv-a'), { ...cBody, household: { members: [...cBody.household.members, { citizenId: N_ID, name: '李小宝', relation: '孙女', status: 'present' }, { citizenId: stranger, name: '路人', relation: '租户', status: 'present' }] } });
    expect(withStranger.body.violations).toEqual([{ field: 'household.members.4', rule: 'foundOnSite', message: `household.members.4 (路人) is not a registered member of this household: add them with POST /tasks/${task.get('C')}/found-persons first` }]);
    const ok = await call('POST', `/tasks/${task.get('C')}/submissions`, sv('sv-a'), { ...cBody, household: { members: [...cBody.household.members, { citizenId: N_ID, name: '李小宝', relation: '孙女', status: 'present' }] } });
    expect(ok.status).toBe(201);
  });

  it('9. closes a target by itself when its person is registered another way', async () => {
    await producer.append([outcome(G, 'registered', ['COMPLETE'], 2)]);
    await waitFor(async () => (await call('GET', `/tasks/${task.get('G')}`, county)).body.status === 'closed', { timeoutMs: 60_000, message: 'G closed' });
    expect((await call('GET', `/tasks/${task.get('G')}`, county)).body).toMatchObject({ status: 'closed', closedReason: 'OUTCOME_REGISTERED', finishedAt: expect.any(String), followUp: null });
  });

  it("10. follows review's decisions: approved, returned with fields to fix, a death confirmed", async () => {
    // Review decides on a form it read from the log: the surveyors' uploads are relayed first.
    await waitFor(async () => Number((await dbQuery(`SELECT count(*)::int AS n FROM survey_tasking.outbox WHERE published_at IS NULL`))[0]?.n) === 0, { timeoutMs: 60_000, message: 'outbox relayed' });
    const r = (submissionId: string): { reviewId: string; submissionId: string; reviewerId: string } => ({ reviewId: deterministicId('review', 'item', submissionId), submissionId, reviewerId: 'county-1' });
    const list = await call('GET', `/tasks?division=${TOWNSHIP}&limit=500`, county);
    const sub = (tag: string): string => list.body.items.find((t: Json) => t.taskId === task.get(tag)).submissionId;
    const o = (tag: string): { source: string; actor: string; occurredAt: string; correlationId: string } => origin('svc:review', `rv-${tag}`);
    const aRequest = { kind: 'registration-form' as const, fields: formOf(A), evidence: [], unknown: [] };
    await producer.append([
      newEvent(REVIEW_INITIAL_APPROVED, deterministicId('int', 'ini', 'A'), key(A), { ...r(sub('A')), reviewerId: 'township-1', townshipCode: TOWNSHIP, comment: '' }, o('A')),
      newEvent(REVIEW_FINAL_APPROVED, deterministicId('int', 'fin', 'A'), key(A), { ...r(sub('A')), channel: 'survey', countyCode: COUNTY, request: aRequest }, o('A')),
      newEvent(REVIEW_RETURNED, deterministicId('int', 'ret', 'C'), key(C), { ...r(sub('C')), stage: 'initial', reason: '电话号码无法接通', fieldsToFix: ['phone'] }, o('C')),
      newEvent(REVIEW_FINAL_APPROVED, deterministicId('int', 'fin', 'K'), key(K), { ...r(sub('K')), channel: 'survey', countyCode: COUNTY, request: { kind: 'death-claim', fields: { deathDate: '2026-10-30' }, evidence: [], unknown: [] } }, o('K')),
    ]);
    await waitStates(
      {
        A: ['approved', 'sv-a'], C: ['returned', 'sv-a'], D: ['open', 'sv-b'], F: ['submitted', 'sv-b'], G: ['closed', 'sv-a'], H: ['refused', 'sv-c'], I: ['away', 'sv-d'], J: ['moved-out', 'sv-c'],
        K: ['deceased', 'sv-d'], L: ['not-found', 'sv-c'], M: ['revisit', 'sv-d'], N: ['submitted', 'sv-a'],
      },
      'review decisions',
    );
    expect((await call('GET', `/tasks/${task.get('C')}`, sv('sv-a'))).body).toMatchObject({ returnReason: '电话号码无法接通', fieldsToFix: ['phone'], followUp: { kind: 'correct-and-resubmit' } });
  });

  it('11. reports progress per township, village and team, the overdue list, and the gauges', async () => {
    const byTownship = await call('GET', `/campaigns/${campaignId}/progress`, county);
    expect(byTownship.body).toMatchObject({ campaignId, countyCode: COUNTY, deadline: '2099-12-31', division: COUNTY, groupBy: 'township' });
    const total = {
      targets: 12, unassigned: 0, visited: 10, submitted: 2, approved: 1, returned: 1, closedOut: 3, overdue: 1,
      byOutcome: { collected: 4, refused: 1, away: 1, 'moved-out': 1, deceased: 1, 'not-found': 1, 'nobody-home': 1 },
      byStatus: { approved: 1, returned: 1, open: 1, submitted: 2, closed: 1, refused: 1, away: 1, 'moved-out': 1, deceased: 1, 'not-found': 1, revisit: 1 },
    };
    expect(byTownship.body.total).toEqual(total);
    expect(byTownship.body.groups).toEqual([{ key: TOWNSHIP, name: '石仔岭街道', ...total }]);
    const byVillage = await call('GET', `/campaigns/${campaignId}/progress?groupBy=village&division=${TOWNSHIP}`, township);
    expect(byVillage.body.groups.map((g: Json) => [g.key, g.name, g.targets, g.visited, g.closedOut, g.overdue])).toEqual([
      [V1, '南宫居委会', 4, 3, 1, 0],
      [V2, '南珠居委会', 2, 1, 1, 0],
      [V3, '茂岭村委会', 6, 6, 1, 1],
    ]);
    const byTeam = await call('GET', `/campaigns/${campaignId}/progress?groupBy=team`, county);
    expect(byTeam.body.groups.map((g: Json) => [g.name, g.targets, g.visited]).sort()).toEqual([['T1', 6, 4], ['T2', 6, 6]]);
    const overdue = await call('GET', `/campaigns/${campaignId}/overdue`, township);
    expect(overdue.body).toMatchObject({ total: 1, items: [{ taskId: task.get('M'), status: 'revisit' }] });
    expect((await call('GET', `/campaigns/${campaignId}/progress`, bearer('grassroots-reviewer', '440902001', 'elsewhere'))).status).toBe(404);
    await app.get(ProgressGauges).refresh();
    // What the management port's /metrics serves: prom-client's default registry.
    const metrics = await register.metrics();
    expect(metrics).toContain(`qmcb_survey_targets{campaign="${campaignId}",county="${COUNTY}",township="${TOWNSHIP}",status="approved"} 1`);
    expect(metrics).toContain(`qmcb_survey_targets_overdue{campaign="${campaignId}",county="${COUNTY}",township="${TOWNSHIP}"} 1`);
    expect(metrics).toContain(`qmcb_survey_targets_by_outcome{campaign="${campaignId}",county="${COUNTY}",township="${TOWNSHIP}",outcome="collected"} 4`);
  });

  it('12. exports the rectification ledger (整改台账) and the village summary (个人信息汇总表) as CSV and XLSX, the same rows in both', async () => {
    const csv = await download(`/campaigns/${campaignId}/ledgers/rectification?format=csv&division=${TOWNSHIP}`, township);
    expect(csv.status).toBe(200);
    expect(csv.type).toBe('text/csv; charset=utf-8');
    expect(csv.bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const rows = parseCsv(csv.bytes.toString('utf8').slice(1));
    const xlsx = await download(`/campaigns/${campaignId}/ledgers/rectification?format=xlsx&division=${TOWNSHIP}`, township);
    expect(xlsx.type).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(await parseXlsx(xlsx.bytes)).toEqual(rows);
    expect(rows[0]).toEqual(['序号', '乡镇（街道）', '村（居）委会', '姓名', '公民身份号码', '存在问题', '责任调查员', '调查组', '走访次数', '最近走访日期', '调查结果', '整改情况', '是否销号', '销号日期', '销号原因']);
    const byName = new Map(rows.slice(1).map((r) => [r[3], r]));
    expect(rows.length).toBe(13);
    expect(rows.slice(1).map((r) => r[0])).toEqual(Array.from({ length: 12 }, (_, i) => String(i + 1)));
    const pick = (name: string): string[] => {
      const r = byName.get(name) as string[];
      return [r[1], r[2], r[4], r[5], r[6], r[7], r[8], r[10], r[11], r[12], r[14]] as string[];
    };
    expect(pick('李明')).toEqual(['石仔岭街道', '南宫居委会', A.citizenId, '未参保', '张一', 'T1', '1', '已采集', '已审定入库', '是', '调查信息审定入库']);
    expect(pick('黄勇')).toEqual(['石仔岭街道', '南珠居委会', G.citizenId, '未参保', '张一', 'T1', '0', '未走访', '已销号', '是', '已通过其他渠道登记']);
    expect(pick('罗平')).toEqual(['石仔岭街道', '茂岭村委会', K.citizenId, '60岁以上无养老待遇', '张四', 'T2', '1', '已死亡', '已死亡', '是', '死亡已核实']);
    expect(pick('梁军')).toEqual(['石仔岭街道', '茂岭村委会', H.citizenId, '未参保', '张三', 'T2', '1', '拒绝', '拒绝登记', '否', '']);
    expect(pick('吴娜')).toEqual(['石仔岭街道', '南珠居委会', F_TRUE_ID, '身份号码有误、未参保', '张二', 'T1', '1', '已采集', '待初审', '否', '']);
    expect(pick('李小宝')).toEqual(['石仔岭街道', '南宫居委会', N_ID, '入户新发现', '张一', 'T1', '1', '已采集', '待初审', '否', '']);

    // The township's summary of a village: every target in it, whoever is responsible.
    const summaryCsv = await download(`/campaigns/${campaignId}/ledgers/summary?format=csv&division=${V1}`, township);
    const summary = parseCsv(summaryCsv.bytes.toString('utf8').slice(1));
    const summaryXlsx = await download(`/campaigns/${campaignId}/ledgers/summary?format=xlsx&division=${V1}`, township);
    expect(await parseXlsx(summaryXlsx.bytes)).toEqual(summary);
    expect(summary[0]).toEqual([
      '序号', '乡镇（街道）', '村（居）委会', '户号', '姓名', '公民身份号码', '性别', '出生日期', '与户主关系', '户口所在地', '常住所在地', '常住地址', '联系电话', '就业状态', '工作单位',
      '养老保险', '医疗保险', '失业保险', '工伤保险', '生育保险', '未参保原因', '异地参保', '调查原因', '调查结果', '状态', '责任调查员', '调查组',
    ]);
    // Household by household: 0001 (李明, 李强 and 李小宝 found there, in target order), then 0002.
    expect(summary.slice(1).map((r) => r[4]).slice(0, 3).sort()).toEqual(['李小宝', '李强', '李明'].sort());
    expect(summary.slice(1).map((r) => [r[0], r[4]])[3]).toEqual(['4', '陈华']);
    const a = summary.find((r) => r[4] === '李明') as string[];
    expect(a).toEqual([
      a[0], '石仔岭街道', '南宫居委会', '0001', '李明', A.citizenId, '男', '1975-03-15', '户主', '南宫居委会', '南宫居委会', '高州市石仔岭街道', '13900000000', '务农', '',
      '城乡居民参保缴费（440981）', '城乡居民参保缴费（440981）', '未参保', '未参保', '未参保', '', '否', '未参保', '已采集', '已审定入库', '张一', 'T1',
    ]);
    const n = summary.find((r) => r[4] === '李小宝') as string[];
    expect([n[3], n[8], n[12], n[13], n[15], n[20], n[22]]).toEqual(['0001', '孙女', '不详（儿童无手机）', '在校学生', '未参保', '在校学生', '入户新发现']);
    const d = summary.find((r) => r[4] === '陈华') as string[];
    expect([d[12], d[13], d[15], d[23], d[24], d[25]]).toEqual(['13800000004', '', '未参保', '未走访', '待调查', '张二']);
    expect(summary.length).toBe(5);

    // A surveyor's summary lists the targets assigned to them only (docs/security.md), in CSV and XLSX alike:
    // sv-a's of 南宫居委会 leaves out 陈华 (sv-b's); of the whole township, it adds 黄勇 (theirs, in 南珠居委会) and nobody else's.
    const names = (rows: string[][]): string[] => rows.slice(1).map((r) => r[4] as string).sort();
    const ownCsv = await download(`/campaigns/${campaignId}/ledgers/summary?format=csv&division=${V1}`, sv('sv-a', V1));
    expect(ownCsv.status).toBe(200);
    const own = parseCsv(ownCsv.bytes.toString('utf8').slice(1));
    expect(own[0]).toEqual(summary[0]);
    expect(names(own)).toEqual(['李小宝', '李强', '李明'].sort());
    expect((own.find((r) => r[4] === '李明') as string[]).slice(1)).toEqual(a.slice(1));
    expect(own.slice(1).map((r) => r[0])).toEqual(['1', '2', '3']);
    expect(await parseXlsx((await download(`/campaigns/${campaignId}/ledgers/summary?format=xlsx&division=${V1}`, sv('sv-a', V1))).bytes)).toEqual(own);
    const ownTownship = parseCsv((await download(`/campaigns/${campaignId}/ledgers/summary?format=csv&division=${TOWNSHIP}`, sv('sv-a'))).bytes.toString('utf8').slice(1));
    expect(names(ownTownship)).toEqual(['李小宝', '李强', '李明', '黄勇'].sort());
    expect(ownTownship.slice(1).every((r) => r[25] === '张一')).toBe(true);
    expect(await parseXlsx((await download(`/campaigns/${campaignId}/ledgers/summary?format=xlsx&division=${TOWNSHIP}`, sv('sv-a'))).bytes)).toEqual(ownTownship);
    const svb = parseCsv((await download(`/campaigns/${campaignId}/ledgers/summary?format=csv&division=${TOWNSHIP}`, sv('sv-b'))).bytes.toString('utf8').slice(1));
    expect(names(svb)).toEqual(['吴娜', '陈华'].sort());
    // A surveyor with nothing assigned gets the header alone.
    expect(parseCsv((await download(`/campaigns/${campaignId}/ledgers/summary?format=csv&division=${V1}`, sv('sv-x', V1))).bytes.toString('utf8').slice(1))).toEqual([summary[0]]);
    // The rectification ledger is the organisers' (the township's and the county's): a surveyor is refused it.
    for (const format of ['csv', 'xlsx']) {
      expect(await call('GET', `/campaigns/${campaignId}/ledgers/rectification?format=${format}&division=${V1}`, sv('sv-a', V1))).toEqual({
        status: 403, body: { statusCode: 403, code: 'FORBIDDEN', message: 'role surveyor may not call this endpoint' },
      });
    }
    // Read page by page (by position in village, household, target order), the ledger is the same, none lost or twice.
    const repo = app.get(SurveyTaskRepository);
    const scope = { campaignId, countyCode: COUNTY, open: true };
    const paged: string[] = [];
    let after: { villageCode: string; householdKey: string; taskId: string } | null = null;
    for (;;) {
      const page = await repo.ledgerPage(app.get(DataSource).manager, scope, TOWNSHIP, after, 5);
      paged.push(...page.map((t) => t.taskId));
      if (page.length < 5) break;
      const last = page[page.length - 1] as (typeof page)[number];
      after = { villageCode: last.villageCode, householdKey: last.householdKey, taskId: last.taskId };
    }
    expect(paged).toEqual((await repo.ledgerPage(app.get(DataSource).manager, scope, TOWNSHIP, null, 1000)).map((t) => t.taskId));
    expect(paged).toHaveLength(12);
    // A surveyor of another village sees no such ledger; nobody gets a rectification ledger outside their division.
    expect((await download(`/campaigns/${campaignId}/ledgers/summary?division=${V1}`, sv('sv-x', V2))).status).toBe(404);
  });

  it('13. when a surveyor leaves the team, their targets go to the ones who stay, the history kept, and their download drops them', async () => {
    const changed = await call('PUT', `/campaigns/${campaignId}/teams/${T1}/members`, township, { members: [{ surveyorId: 'sv-a', name: '张一' }, { surveyorId: 'sv-e', name: '张五' }] });
    expect(changed).toMatchObject({ status: 200, body: { teamId: T1, members: [{ surveyorId: 'sv-a' }, { surveyorId: 'sv-e' }], reassigned: 2 } });
    await waitStates(
      {
        A: ['approved', 'sv-a'], C: ['returned', 'sv-a'], D: ['open', 'sv-e'], F: ['submitted', 'sv-e'], G: ['closed', 'sv-a'], H: ['refused', 'sv-c'], I: ['away', 'sv-d'], J: ['moved-out', 'sv-c'],
        K: ['deceased', 'sv-d'], L: ['not-found', 'sv-c'], M: ['revisit', 'sv-d'], N: ['submitted', 'sv-a'],
      },
      'reassignment',
    );
    const history = await call('GET', `/tasks/${task.get('D')}/assignments`, township);
    expect(history.body.map((h: Json) => [h.surveyorId, h.previousSurveyorId, h.mode, h.endedAt === null])).toEqual([
      ['sv-b', null, 'auto', false],
      ['sv-e', 'sv-b', 'member-left', true],
    ]);
    const gone = await call('GET', `/my/targets?since=${svbCursor}`, sv('sv-b'));
    expect(gone.body).toMatchObject({ targets: [], more: false });
    expect(gone.body.removed.sort()).toEqual([task.get('D'), task.get('F')].sort());
    expect((await call('GET', `/tasks/${task.get('D')}`, sv('sv-b'))).status).toBe(404);
    // A device retrying an upload it made before the target left it gets the first answer, not a 404.
    expect(await call('POST', `/tasks/${task.get('F')}/submissions`, sv('sv-b'), fUpload)).toEqual(fAnswer);
    const mine = await call('GET', '/my/targets', sv('sv-e'));
    expect(mine.body.targets.map((t: Json) => t.taskId).sort()).toEqual([task.get('D'), task.get('F')].sort());
    sveCursor = mine.body.next;
    // sv-a's download since step 4: A (approved), C (returned), G (closed) and N (new) changed.
    const again = await call('GET', `/my/targets?since=${svaCursor}`, sv('sv-a'));
    expect(again.body.targets.map((t: Json) => t.taskId).sort()).toEqual([task.get('A'), task.get('C'), task.get('G'), nTask].sort());
  });

  it('14. gives the targets of a household that arrive together to one surveyor, whatever partitions their events are on', async () => {
    // Four new members of one household of V3 (team T2), appended at once: their events spread over
    // the topic's partitions, which the projection applies concurrently.
    const members = [
      P('W1', '郑一', '1991-01-01', '511', V3, '0199', '户主', ['UNINSURED']),
      P('W2', '郑二', '1992-02-02', '522', V3, '0199', '配偶', ['UNINSURED']),
      P('W3', '郑三', '2012-03-03', '531', V3, '0199', '子', ['UNINSURED']),
      P('W4', '郑四', '2014-04-04', '542', V3, '0199', '女', ['UNINSURED']),
    ];
    expect(new Set(members.map((m) => m.citizenId)).size).toBe(4);
    await producer.append(members.flatMap((m) => [householdRecord(m), outcome(m, 'needs-survey', m.reasons)]));
    let responsible: (string | null)[] = [];
    await waitFor(
      async () => {
        const r = await call('GET', `/tasks?division=${TOWNSHIP}&limit=500`, county);
        const mine = new Set(members.map((m) => ids.idOf(key(m))));
        responsible = r.body.items.filter((t: Json) => mine.has(t.personId)).map((t: Json) => t.responsibleId);
        return responsible.length === 4 && responsible.every((x) => x !== null);
      },
      { timeoutMs: 60_000, message: 'the household targets assigned' },
    );
    expect(new Set(responsible).size).toBe(1);
  });

  it('14a. holds no citizen ID in any row of any table: the key columns hold person IDs, a household of one `P-<person ID>` (ADR 0011, stage 5)', async () => {
    // Someone without a 户号, in a village of another township no team works: a household of their own.
    const Q = P('Q', '赵敏', '1983-08-08', '381', '440981003001', '', '', ['UNINSURED'], '13800000014');
    const facts = { kind: 'household' as const, name: Q.name, sex: Q.sex, birthDate: Q.birthDate, villageCode: Q.village, status: 'normal' as const, address: '高州市金山街道', phone: Q.phone as string };
    await producer.append([
      newEvent(SOURCE_RECORD_RECEIVED, deterministicId('int', 'hj', Q.tag), key(Q), {
        department: 'public-security', sourceRecordId: `HJ-${Q.tag}`, mode: 'snapshot', asOf: AS_OF, citizenIdAsSent: Q.citizenId, citizenIdValid: true, facts,
      }, { ...origin('dept:public-security', Q.tag), occurredAt: AS_OF }),
      outcome(Q, 'needs-survey', Q.reasons),
    ]);
    const q = await waitFor(async () => (await call('GET', '/tasks?division=440981003', county)).body.items?.[0], { timeoutMs: 60_000, message: "Q's target" });
    // Clients see the household as before: `P-<person ID>`.
    expect([q.personId, q.householdKey, q.person.citizenId]).toEqual([ids.idOf(key(Q)), `P-${ids.idOf(key(Q))}`, Q.citizenId]);
    expect(await dbQuery(`SELECT person_key, household_key FROM survey_tasking.survey_task WHERE task_id = '${q.taskId}'`)).toEqual([{ person_key: ids.idOf(key(Q)), household_key: `P-${ids.idOf(key(Q))}` }]);

    const tables = await dbQuery(`SELECT table_schema AS schema, table_name AS table FROM information_schema.tables
      WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE' ORDER BY 1, 2`);
    const names = tables.map((t) => `${t['schema']}.${t['table']}`);
    expect(names).toEqual(expect.arrayContaining(['survey_tasking.person_record', 'survey_tasking.survey_task', 'survey_tasking.survey_visit', 'survey_tasking.survey_assignment', 'survey_tasking.survey_household_member', 'survey_tasking.survey_task_erased']));
    const texts: string[] = [];
    for (const t of tables) texts.push(...(await dbQuery(`SELECT to_jsonb(x)::text AS text FROM "${t['schema']}"."${t['table']}" x`)).map((r) => String(r['text'])));
    expect(texts.length).toBeGreaterThan(PEOPLE.length * 4);
    // Every person key of the flow (citizen IDs, and F's surrogate key), the true and the mistyped ID, the person found on site.
    const citizenIds = [...new Set([...PEOPLE, Q].flatMap((p) => [p.citizenId, key(p)])), F_TRUE_ID, N_ID];
    for (const value of citizenIds) expect({ value, rows: texts.filter((t) => t.includes(value)) }).toEqual({ value, rows: [] });
  });

  it('15. rebuilt from the log, the projection equals the live one: campaigns, teams, villages, assignments, visits, households, targets', async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      // The live projection first catches up: every decision relayed and every event on the log applied.
      await waitFor(async () => {
        const onLog = (await readAllEvents(testKafkaSettings(topic))).length;
        const { rows } = await client.query(`SELECT (SELECT count(*) FROM survey_tasking.applied_event)::int AS applied, (SELECT count(*) FROM survey_tasking.outbox WHERE published_at IS NULL)::int AS pending`);
        return rows[0].pending === 0 && rows[0].applied === onLog;
      }, { timeoutMs: 60_000, message: 'caught up' });
      // Bookkeeping of when a row was written (the download cursor's transaction IDs) legitimately differs.
      const snapshot = async (): Promise<Record<string, string[]>> => {
        const out: Record<string, string[]> = {};
        for (const t of ['survey_task', 'survey_visit', 'survey_household_member', 'survey_campaign', 'survey_team', 'survey_village_team', 'survey_assignment']) {
          const { rows } = await client.query(`SELECT to_jsonb(x) - 'synced_xid' AS row FROM survey_tasking.${t} x`);
          out[t] = rows.map((r) => JSON.stringify(r.row)).sort();
        }
        return out;
      };
      const before = await snapshot();
      expect(before['survey_assignment']?.length).toBe(11 + 1 + 2 + 4);
      expect((await surveyCommand(['rebuild'])).code).toBe(0);
      expect(await snapshot()).toEqual(before);
    } finally {
      await client.end();
    }
  });

  it('15a. holds no name, phone or citizen ID readable in its targets, visits and households: only in their key columns (ADR 0011, stage 4)', async () => {
    const rows = await dbQuery(`SELECT (to_jsonb(t) - 'person_key' - 'household_key')::text AS text FROM survey_tasking.survey_task t
      UNION ALL SELECT (to_jsonb(v) - 'person_key')::text FROM survey_tasking.survey_visit v
      UNION ALL SELECT (to_jsonb(m) - 'person_key' - 'household_key')::text FROM survey_tasking.survey_household_member m`);
    expect(rows.length).toBeGreaterThan(PEOPLE.length);
    const personal = [...PEOPLE.flatMap((p) => [p.name, p.citizenId, ...(p.phone ? [p.phone] : [])]), F_TRUE_ID, N_ID, '李小宝'];
    for (const { text } of rows) for (const value of personal) expect({ text, value, readable: String(text).includes(value) }).toEqual({ text, value, readable: false });
  });

  it('15b. seal-records seals a household member written before sealing in place, and the answers stay the same', async () => {
    const repo = app.get(HouseholdMemberRepository);
    const manager = app.get(DataSource).manager;
    const member = (await repo.findMany(manager, [key(B)])).get(key(B));
    expect(member?.name).toBe(B.name);
    // B's row as a version before stage 4 wrote it.
    await dbQuery(`UPDATE survey_tasking.survey_household_member SET sealed = NULL, citizen_id = '${member?.citizenId}', name = '${member?.name}', relation = '${member?.relation}',
      sex = '${member?.sex}', birth_date = '${member?.birthDate}' WHERE person_key = '${ids.idOf(key(B))}'`);
    expect((await repo.findMany(manager, [key(B)])).get(key(B))).toEqual(member);
    expect((await surveyCommand(['seal-records'])).code).toBe(0);
    const [row] = await dbQuery(`SELECT (to_jsonb(m) - 'person_key' - 'household_key')::text AS text, sealed IS NOT NULL AS sealed FROM survey_tasking.survey_household_member m WHERE person_key = '${ids.idOf(key(B))}'`);
    expect(row?.['sealed']).toBe(true);
    expect(String(row?.['text'])).not.toContain(B.name);
    expect((await repo.findMany(manager, [key(B)])).get(key(B))).toEqual(member);
  });

  it('15c. seal-records re-keys what a version before stage 5 wrote (citizen IDs in the key columns, P-<citizen ID> household keys): every table comes back exactly as it was, and the answers with it', async () => {
    const repo = app.get(HouseholdMemberRepository);
    const manager = app.get(DataSource).manager;
    const member = (await repo.findMany(manager, [key(B)])).get(key(B));
    expect(member?.name).toBe(B.name);
    const tables = ['person_record', 'survey_task', 'survey_visit', 'survey_assignment', 'survey_household_member'];
    const snapshot = async (): Promise<Record<string, string[]>> => {
      const out: Record<string, string[]> = {};
      for (const t of tables) out[t] = (await dbQuery(`SELECT (to_jsonb(x) - 'synced_xid' - 'updated_at')::text AS row FROM survey_tasking.${t} x`)).map((r) => String(r['row'])).sort();
      return out;
    };
    const before = await snapshot();
    // Back to what a version before stage 5 stored: the person key itself, and P-<person key>.
    const plain = (value: string): string => ids.keyOf(value) ?? value;
    let plainRows = 0;
    for (const t of tables) {
      for (const { v } of (await dbQuery(`SELECT DISTINCT person_key AS v FROM survey_tasking.${t}`)) as { v: string }[]) {
        if (plain(v) === v) continue;
        plainRows += (await dbQuery(`WITH u AS (UPDATE survey_tasking.${t} SET person_key = '${plain(v)}' WHERE person_key = '${v}' RETURNING 1) SELECT count(*)::int AS n FROM u`))[0]?.['n'] as number;
      }
    }
    for (const t of ['survey_task', 'survey_household_member']) {
      for (const { v } of (await dbQuery(`SELECT DISTINCT household_key AS v FROM survey_tasking.${t} WHERE household_key LIKE 'P-%'`)) as { v: string }[]) {
        await dbQuery(`UPDATE survey_tasking.${t} SET household_key = 'P-${plain(v.slice(2))}' WHERE household_key = '${v}'`);
      }
    }
    expect(plainRows).toBeGreaterThan(PEOPLE.length);
    expect(await snapshot()).not.toEqual(before);
    // Looked up by person ID, the rows a version before wrote are not found: hence seal-records before the consumers start.
    expect((await repo.findMany(manager, [key(B)])).get(key(B))).toBeUndefined();

    const { code, printed } = await surveyCommand(['seal-records']);
    expect(code).toBe(0);
    const rekeyed = [...printed.matchAll(/seal-records survey-tasking: \S+ done, (\d+) rows re-keyed/g)].map((m) => Number(m[1]));
    // Every key column, household keys included, each row once.
    expect(rekeyed).toHaveLength(tables.length + 2);
    expect(rekeyed.slice(0, tables.length).reduce((a, b) => a + b, 0)).toBe(plainRows);
    expect(printed).toContain('seal-records survey-tasking: survey_task.household_key done');
    expect(await snapshot()).toEqual(before);
    expect((await repo.findMany(manager, [key(B)])).get(key(B))).toEqual(member);
    // Run again: nothing left to re-key.
    const again = await surveyCommand(['seal-records']);
    expect([...again.printed.matchAll(/done, (\d+) rows re-keyed/g)].map((m) => Number(m[1]))).toEqual(new Array(tables.length + 2).fill(0));
  });

  it("16. when a person is erased, the download of every surveyor who had their target lists it as removed, and nothing of theirs", async () => {
    const erasure = newEvent(PERSON_ERASED, deterministicId('keyring', 'erase', key(D)), key(D), { reason: 'PIPL art. 47 request 9', requestedBy: 'operator:ops-1' }, { ...origin('ops:keyring', 'erase-D'), actor: 'operator:ops-1' });
    // Applied as the live runner applies a batch (step 15's rebuild closed the process's keyring connections, which the runner's consumer needs).
    const transport = app.get(LogTransport);
    const sealer = await transport.sealer();
    await app.get(DataSource).transaction((manager) => applyEvents(manager, transport, [{ event: erasure, partition: 0, offset: '1000000' }], { rebuilding: false, partition: 0, sealer }));
    expect(await dbQuery(`SELECT count(*)::int AS n FROM survey_tasking.survey_task WHERE person_key = ANY(ARRAY['${ids.idOf(key(D))}', '${key(D)}'])`)).toEqual([{ n: 0 }]);
    // sv-e holds D's target (since step 13): their next download says to drop it.
    const e = await call('GET', `/my/targets?since=${sveCursor}`, sv('sv-e'));
    expect(e.status).toBe(200);
    expect(e.body).toMatchObject({ more: false, removed: [task.get('D')] });
    expect(e.body.targets.map((t: Json) => t.taskId)).not.toContain(task.get('D'));
    // sv-b had it before (their assignment ended): told again, harmlessly; nothing of D in either answer.
    const b = await call('GET', `/my/targets?since=${svbCursor}`, sv('sv-b'));
    expect(b.body.removed).toContain(task.get('D'));
    for (const answer of [e, b]) {
      const text = JSON.stringify(answer.body);
      for (const what of [D.citizenId, D.name, D.phone as string, key(D), ids.idOf(key(D))]) expect(text).not.toContain(what);
    }
    // Once told, not again; and the device of a surveyor who never had it hears nothing of it.
    expect((await call('GET', `/my/targets?since=${e.body.next}`, sv('sv-e'))).body).toMatchObject({ targets: [], removed: [], more: false });
    expect((await call('GET', `/my/targets?since=${svaCursor}`, sv('sv-a'))).body.removed).toEqual([]);
    // The tombstone holds the target, the surveyor, the village and when: nothing of the person.
    const rows = await dbQuery(`SELECT to_jsonb(x) - 'synced_xid' AS row FROM survey_tasking.survey_task_erased x ORDER BY surveyor_id`);
    expect(rows.map((r) => Object.keys(r['row'] as object).sort())).toEqual([['erased_at', 'surveyor_id', 'task_id', 'village_code'], ['erased_at', 'surveyor_id', 'task_id', 'village_code']]);
    expect(rows.map((r) => [(r['row'] as Json).task_id, (r['row'] as Json).surveyor_id, (r['row'] as Json).village_code])).toEqual([[task.get('D'), 'sv-b', V1], [task.get('D'), 'sv-e', V1]]);
  });

});
