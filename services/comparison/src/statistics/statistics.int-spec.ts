import { NotFoundException } from '@nestjs/common';
import { INSURANCE_ENROLLED, deterministicId, newEvent } from '@qmcb/contracts';
import type { Department, RegistrationEvent, SourceFacts } from '@qmcb/contracts';
import type { PersonPrincipal } from '@qmcb/auth';
import { checkCharacter, childrenOf, maskCitizenId } from '@qmcb/domain';
import { EventLogProducer, OutboxRelay, ProjectionRunner, openDataSource, quietLogger } from '@qmcb/event-log';
import type { ProjectionHandler } from '@qmcb/event-log';
import { AuditRecorder, AuditService, AuditStore, PersonIds, runInRequest } from '@qmcb/platform';
import type { RequestContext } from '@qmcb/platform';
import { LogContext, PersonalDataSealer, PersonKeyColumn, PersonRecordRepository, RecordSealer, RegionPolicyProvider, allMigrations } from '@qmcb/service-kit';
import { createTestDatabase, createTestTopic, deleteTestTopic, testKafkaSettings } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import ExcelJS from 'exceljs';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { PassThrough } from 'stream';
import type { DataSource } from 'typeorm';
import { COMPARISON_MIGRATIONS } from '../comparison.module';
import { buildSourceRecordEvent } from '../ingestion/source-record-event';
import { IdentityLinks } from '../linking/identity-links';
import { PersonLinkRepository } from '../linking/person-link.repository';
import { OutcomeRepository } from '../outcomes/outcome.repository';
import { ComparisonProjection } from '../projection/comparison.projection';
import { CoverageRecorder } from './coverage-recorder';
import { CoverageRepository } from './coverage.repository';
import { RecompareDueRepository } from '../schedule/recompare-due.repository';
import { recompareDueEvent } from '../schedule/recompare-scheduler';
import { StatisticsService } from './statistics.service';
import type { CoverageStatistics } from './statistics.service';

jest.setTimeout(240_000);

/**
 * The statistics of a small county, loaded through the comparison projection (real Kafka and
 * PostgreSQL) in two phases: every figure asserted exactly, now and as of the time between the
 * phases, the changes between the two, the detail lists behind the figures (masked, audited), the
 * streamed exports and the reports parsed back.
 */
const COUNTY = '440981';
const [TA, TB] = childrenOf(COUNTY).map((d) => d.code) as [string, string];
const V1 = (childrenOf(TA)[0] as { code: string }).code;
const V2 = (childrenOf(TB)[0] as { code: string }).code;
const AS_OF = '2026-10-01T00:00:00.000Z';
const LATER = '2026-10-15T00:00:00.000Z';

const idOf = (birth: string, seq: string, division = COUNTY): string => {
  const body = `${division}${birth.replace(/-/g, '')}${seq}`;
  return body + checkCharacter(body);
};

const P1 = idOf('1986-05-05', '011'); // covered
const P2 = idOf('1986-06-06', '021'); // medical only; pension later: newly covered
const P3 = idOf('1961-03-03', '031'); // 65, medical only: 60+ without pension
const P4 = idOf('2006-04-04', '041'); // student with medical
const P5 = idOf('2016-02-02', '051'); // child with medical
const P6 = idOf('1996-03-03', '061'); // military
const P7 = idOf('1981-01-01', '071'); // insured elsewhere
const P8 = idOf('1976-01-01', '081'); // uninsured
const P9 = idOf('1991-01-01', '091'); // covered; medical ends later: newly uncovered
const P10 = idOf('1986-01-01', '101'); // moved out
const P11 = idOf('1990-01-01', '111', '440106'); // non-local insured here
const P12 = idOf('1980-08-08', '121'); // employee, all five
const P13 = idOf('1996-08-08', '131'); // arrives in phase 2
const P14 = idOf('2006-09-09', '141'); // student graduating in 2027, arrives in phase 3 (last test)

let n = 0;
function record(id: string, department: Department, facts: SourceFacts, asOf = AS_OF): RegistrationEvent {
  n += 1;
  return buildSourceRecordEvent({ sourceRecordId: `S-${n}`, citizenId: id, mode: 'snapshot', asOf, facts }, { department, actor: 'key:test', correlationId: 'stats', recordedAt: new Date().toISOString() });
}
const household = (id: string, village: string, status: 'normal' | 'military' | 'moved-out' = 'normal'): RegistrationEvent =>
  record(id, 'public-security', { kind: 'household', name: `人${id.slice(14, 17)}`, villageCode: village, status, phone: '13800138000', address: '广东省茂名市高州市某村1号' } as SourceFacts);
const cover = (id: string, insuranceType: string, scheme = 'resident', status = 'active', region = COUNTY, department: Department = 'social-insurance', asOf = AS_OF): RegistrationEvent =>
  record(id, department, { kind: 'insurance', insuranceType, scheme, status, region } as SourceFacts, asOf);

function phaseOne(): RegistrationEvent[] {
  return [
    household(P1, V1), cover(P1, 'pension'), cover(P1, 'medical'),
    household(P2, V1), cover(P2, 'medical'),
    household(P3, V1), cover(P3, 'medical'),
    household(P4, V1), cover(P4, 'medical'), record(P4, 'education', { kind: 'enrolment', enrolled: true, level: 'higher' } as SourceFacts),
    household(P5, V2), cover(P5, 'medical'),
    household(P6, V2, 'military'),
    household(P7, V2), cover(P7, 'pension', 'employee', 'active', '440982', 'higher-registry'), cover(P7, 'medical', 'employee', 'active', '440982', 'higher-registry'),
    household(P8, V2),
    household(P9, V2), cover(P9, 'pension'), cover(P9, 'medical'),
    household(P10, V1, 'moved-out'), cover(P10, 'pension'),
    cover(P11, 'pension', 'employee'), cover(P11, 'medical', 'employee'),
    household(P12, V1), record(P12, 'tax', { kind: 'tax', employed: true } as SourceFacts),
    ...['pension', 'medical'].map((t) => cover(P12, t, 'employee')), ...['unemployment', 'work-injury', 'maternity'].map((t) => cover(P12, t, 'single')),
  ];
}
function phaseTwo(): RegistrationEvent[] {
  return [cover(P2, 'pension', 'resident', 'active', COUNTY, 'social-insurance', LATER), cover(P9, 'medical', 'resident', 'ended', COUNTY, 'social-insurance', LATER), household(P13, V1), cover(P13, 'pension'), cover(P13, 'medical')];
}

/** The person IDs the answers show; key columns hold the same (ADR 0011 stage 5), so detail lists come in their order. */
const IDS = new PersonIds('statistics-int-person-id-secret-0123456789');
const KEYS = new PersonKeyColumn(IDS);
const byPersonId = (a: string, b: string): number => (IDS.idOf(a) < IDS.idOf(b) ? -1 : IDS.idOf(a) > IDS.idOf(b) ? 1 : 0);
/** Citizen IDs masked, in the order of a detail list. */
const masked = (...ids: string[]): string[] => ids.sort(byPersonId).map(maskCitizenId);

describe('coverage statistics of a county loaded through the comparison projection', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let topic: string;
  let producer: EventLogProducer;
  let runner: ProjectionRunner;
  let relay: OutboxRelay;
  /** Until the projection has applied everything, what it sent to other partitions through the log included. */
  const settle = async (): Promise<void> => {
    for (let quiet = 0; quiet < 2; ) {
      await runner.waitUntilCaughtUp(120_000);
      const [{ n }] = (await ds.query(`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`)) as [{ n: number }];
      quiet = n === 0 ? quiet + 1 : 0;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  let statistics: StatisticsService;
  let between: string;
  const dir = mkdtempSync(join(tmpdir(), 'qmcb-stats-'));
  const analyst: PersonPrincipal = { kind: 'person', sub: 'analyst-1', name: 'analyst-1', role: 'analyst', division: COUNTY };
  const reviewer: PersonPrincipal = { kind: 'person', sub: 'reviewer-1', name: 'reviewer-1', role: 'grassroots-reviewer', division: TB };
  const ids = IDS;
  /** As the platform's interceptor leaves a request for the handler: the analyst, purpose statistics, values masked. */
  const listRequest = (): RequestContext => ({ requestId: `req-${Math.random()}`, source: '127.0.0.1', method: 'GET', principal: analyst, purpose: 'statistics', unmasked: false, people: new Set(), audited: false });
  /** People the exports disclosed to the analyst, in the order of their audit entries (one per batch, before it was sent). */
  const disclosed = async (): Promise<string[]> =>
    (await new AuditStore(ds, ids).search({ actor: 'user:analyst-1', limit: 1000 })).filter((e) => e.action === 'access' && e.result === 'partial').flatMap((e) => e.people);

  beforeAll(async () => {
    const policies = join(dir, 'region-policies.json');
    writeFileSync(policies, JSON.stringify({ regions: { [COUNTY]: { coverageTargets: { medical: 0.97, pension: 0.9 } } } }));
    process.env['REGION_POLICIES_FILE'] = policies;
    db = await createTestDatabase();
    ds = await openDataSource({ url: db.url, schema: 'comparison', migrations: allMigrations(COMPARISON_MIGRATIONS) });
    topic = await createTestTopic(3);
    const settings = testKafkaSettings(topic, 3, 'statistics-test');
    producer = await EventLogProducer.connect(settings, { logger: quietLogger() });
    const records = new PersonRecordRepository(RecordSealer.fromEnv(), KEYS);
    const projection = new ComparisonProjection(records, new OutcomeRepository(records, PersonalDataSealer.fromEnv()), new RegionPolicyProvider(), new IdentityLinks(new PersonLinkRepository(KEYS, PersonalDataSealer.fromEnv()), records), new CoverageRecorder(new CoverageRepository(records)), new RecompareDueRepository(KEYS), PersonalDataSealer.fromEnv());
    const handler: ProjectionHandler = { handle: (events, ctx) => projection.handle([...events], new LogContext(ctx)) };
    runner = new ProjectionRunner({ name: 'cmp-stats', groupId: `cmp-stats-${topic}`, dataSource: ds, schema: 'comparison', handler, settings, logger: quietLogger() });
    await runner.start();
    // Decisions about people of other partitions reach them through the log.
    relay = new OutboxRelay({ dataSource: ds, producer, schema: 'comparison' });
    relay.start();
    await new AuditStore(ds).migrate();
    statistics = new StatisticsService(ds, new CoverageRepository(records), new RegionPolicyProvider(), new AuditService(new AuditRecorder(ds, { service: 'comparison' }, ids)), ids);
    await producer.append(phaseOne());
    await settle();
    await new Promise((r) => setTimeout(r, 20));
    between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await producer.append(phaseTwo());
    await settle();
  });

  afterAll(async () => {
    delete process.env['REGION_POLICIES_FILE'];
    await relay?.stop();
    await runner?.stop();
    await producer?.disconnect();
    await ds?.destroy();
    await db?.drop();
    if (topic) await deleteTestTopic(topic);
    rmSync(dir, { recursive: true, force: true });
  });

  const area = (s: CoverageStatistics, code: string) => s.areas.find((a) => a.division === code);

  it('counts the county as it stands: population, registration, each type with its reasons, target and distance, 60+ without pension', async () => {
    const s = await statistics.figures(analyst, COUNTY);
    expect(s).toMatchObject({ division: COUNTY, name: '高州市', level: 'county' });
    const t = s.total;
    expect([t.population, t.registered, t.registration.rate, t.agedWithoutPension]).toEqual([11, 9, 0.818182, 1]);
    expect(t.types.pension).toMatchObject({
      due: 8, insured: 6, insuredHere: 5, insuredElsewhere: 1, notInsured: 2, notDue: 1, exempt: 2, undecided: 0,
      coverage: { numerator: 6, denominator: 8, rate: 0.75 }, target: 0.9, gap: 0.15, shortOfTarget: 2,
      notInsuredByReason: { NEVER_ENROLLED: 2, LAPSED: 0 }, notDueByReason: { UNDER_AGE: 1, NOT_EMPLOYED: 0, NOT_ASSESSED: 0 },
      exemptByReason: { STUDENT: 1, MILITARY: 1, PRISONER: 0, DECEASED: 0, MOVED_OUT: 0, LINKED: 0 },
    });
    expect(t.types.medical).toMatchObject({ due: 10, insured: 8, insuredHere: 7, insuredElsewhere: 1, notInsured: 2, exempt: 1, coverage: { rate: 0.8 }, target: 0.97, shortOfTarget: 2, notInsuredByReason: { NEVER_ENROLLED: 1, LAPSED: 1 } });
    expect(t.types.unemployment).toMatchObject({ due: 1, insuredHere: 1, notDue: 9, exempt: 1, coverage: { rate: 1 }, target: null, gap: null, shortOfTarget: null, notDueByReason: { NOT_EMPLOYED: 9 } });
    expect(area(s, TA)).toMatchObject({ population: 6, registered: 5, types: { pension: { due: 5, insured: 4, exempt: 1 } }, agedWithoutPension: 1 });
    expect(area(s, TB)).toMatchObject({ population: 5, registered: 4, types: { pension: { due: 3, insured: 2, notDue: 1, exempt: 1 }, medical: { due: 4, insured: 2, notInsured: 2 } } });
    expect(s.areas.reduce((sum, a) => sum + a.population, 0)).toBe(11);
  });

  it('counts the county as it stood between the phases, and a township and a village on their own', async () => {
    const s = await statistics.figures(analyst, COUNTY, between);
    expect(s.asOf).toBe(between);
    expect([s.total.population, s.total.registered]).toEqual([10, 7]);
    expect(s.total.types.pension).toMatchObject({ due: 7, insuredHere: 3, insuredElsewhere: 1, notInsured: 3, coverage: { rate: 0.571429 }, gap: 0.328571, shortOfTarget: 3 });
    expect(s.total.types.medical).toMatchObject({ due: 9, insuredHere: 7, insuredElsewhere: 1, notInsured: 1, coverage: { rate: 0.888889 }, shortOfTarget: 1 });
    const township = await statistics.figures(reviewer, TB, between);
    expect(township).toMatchObject({ level: 'township', total: { population: 5, types: { medical: { due: 4, insured: 3 } } } });
    expect(township.areas.find((a) => a.division === V2)).toMatchObject({ population: 5 });
    const village = await statistics.figures(analyst, V1);
    expect(village).toMatchObject({ level: 'village', areas: [], total: { population: 6 } });
  });

  it('counts people newly covered and newly uncovered between the two times (not those who arrived since)', async () => {
    const c = await statistics.changes(analyst, COUNTY, between, undefined);
    expect(c.total.pension).toEqual({ 'newly-covered': 1, 'newly-uncovered': 0 });
    expect(c.total.medical).toEqual({ 'newly-covered': 0, 'newly-uncovered': 1 });
    expect(c.total.unemployment).toEqual({ 'newly-covered': 0, 'newly-uncovered': 0 });
    expect(c.areas.map((a) => [a.division, a.types.pension['newly-covered'], a.types.medical['newly-uncovered']])).toEqual([[TA, 1, 0], [TB, 0, 1]]);
  });

  it('lists the people behind each figure, masked, each with their person ID, everyone listed named to the audit; the total is the figure', async () => {
    const request = listRequest();
    const page = await runInRequest(request, () => statistics.detailPage(analyst, { division: COUNTY, figure: 'pension:not-insured' }, 50, 0));
    expect(page).toMatchObject({ figure: 'pension:not-insured', total: 2, limit: 50, offset: 0 });
    expect(page.items.map((i) => i.citizenIdMasked)).toEqual(masked(P3, P8));
    expect(page.items.map((i) => ids.keyOf(i.personId))).toEqual([P3, P8].sort(byPersonId));
    expect(page.items[0]).toMatchObject({ nameMasked: '人**', outcome: 'needs-survey', coverage: { pension: { status: 'not-insured', reason: 'NEVER_ENROLLED', regions: [] } } });
    expect([...request.people].sort()).toEqual([P3, P8].sort());
    const past = await statistics.detailPage(analyst, { division: COUNTY, figure: 'pension:not-insured:NEVER_ENROLLED', asOf: between }, 2, 1);
    expect([past.total, past.items.map((i) => i.citizenIdMasked)]).toEqual([3, masked(P2, P3, P8).slice(1, 3)]);
    expect((await statistics.detailPage(analyst, { division: COUNTY, figure: 'aged-without-pension' }, 50, 0)).items.map((i) => i.citizenIdMasked)).toEqual(masked(P3));
    expect((await statistics.detailPage(analyst, { division: COUNTY, figure: 'medical:not-insured:LAPSED' }, 50, 0)).items.map((i) => i.citizenIdMasked)).toEqual(masked(P9));
    expect((await statistics.detailPage(analyst, { division: COUNTY, figure: 'pension:insured-elsewhere' }, 50, 0)).items[0]?.coverage.pension.regions).toEqual(['440982']);
    const covered = await statistics.detailPage(analyst, { division: COUNTY, figure: 'pension:newly-covered', from: between }, 50, 0);
    expect([covered.total, covered.items.map((i) => [i.citizenIdMasked, i.statusBefore, i.coverage.pension.status])]).toEqual([1, [[maskCitizenId(P2), 'not-insured', 'insured-here']]]);
    expect((await statistics.detailPage(analyst, { division: COUNTY, figure: 'registered' }, 50, 0)).total).toBe(9);
    expect((await statistics.detailPage(analyst, { division: COUNTY, figure: 'population', asOf: between }, 50, 0)).total).toBe(10);
  });

  it('answers 404 outside the caller\'s division and 400 naming the field for a bad figure or division', async () => {
    await expect(statistics.figures(reviewer, TA)).rejects.toBeInstanceOf(NotFoundException);
    await expect(statistics.figures(reviewer, COUNTY)).rejects.toThrow('not found');
    await expect(statistics.detailPage(reviewer, { division: COUNTY, figure: 'population' }, 10, 0)).rejects.toBeInstanceOf(NotFoundException);
    await expect(statistics.detailPage(analyst, { division: COUNTY, figure: 'pension:exempt:LAPSED' }, 10, 0)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED', violations: [{ field: 'figure', rule: 'figure', message: 'the reason of exempt must be one of DECEASED, MOVED_OUT, MILITARY, PRISONER, STUDENT, LINKED' }],
    });
    await expect(statistics.detailPage(analyst, { division: COUNTY, figure: 'pension:newly-covered' }, 10, 0)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', violations: [{ field: 'from' }] });
    await expect(statistics.figures(analyst, '4409')).rejects.toMatchObject({ code: 'VALIDATION_FAILED', violations: [{ field: 'division' }] });
  });

  it('streams a whole detail list as CSV, NDJSON and XLSX that read back to the same people', async () => {
    const run = async (format: 'csv' | 'ndjson' | 'xlsx'): Promise<Buffer> => {
      const stream = new PassThrough();
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      const q = { division: COUNTY, figure: 'pension:due' };
      const sink = { closed: () => false, write: async (chunk: string) => void stream.write(chunk) };
      const before = (await disclosed()).length;
      const result = await runInRequest(listRequest(), () => statistics.exportDetails(analyst, q, statistics.prepareDetails(analyst, q), format, { sink, stream }));
      expect(result).toEqual({ people: 8, aborted: false });
      // Everyone exported was disclosed to the audit (before their batch was sent).
      expect((await disclosed()).slice(before).sort()).toEqual([P1, P2, P3, P7, P8, P9, P12, P13].sort());
      if (format !== 'xlsx') stream.end();
      return Buffer.concat(chunks);
    };
    const expected = masked(P1, P2, P3, P8, P9, P12, P13, P7);
    const csv = (await run('csv')).toString('utf8').replace(/^\ufeff/, '').split('\r\n');
    expect(csv[0]).toBe('养老保险应参保人员明细表');
    expect(csv[5]?.split(',').slice(0, 4)).toEqual(['序号', '公民身份号码(脱敏)', '姓名(脱敏)', '户籍地村(社区)代码']);
    expect(csv.slice(6, -1).map((l) => l.split(',')[1])).toEqual(expected);
    const ndjson = (await run('ndjson')).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { citizenIdMasked: string; personId: string });
    expect(ndjson.map((i) => i.citizenIdMasked)).toEqual(expected);
    expect(ndjson.map((i) => ids.keyOf(i.personId))).toEqual([P1, P2, P3, P8, P9, P12, P13, P7].sort(byPersonId));
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(await run('xlsx'));
    const sheet = workbook.getWorksheet('明细表');
    expect(sheet?.getCell('A1').value).toBe('养老保险应参保人员明细表');
    const rows: string[] = [];
    sheet?.eachRow((row, i) => {
      if (i > 5) rows.push(String(row.getCell(2).value));
    });
    expect(rows).toEqual(expected);
  });

  it('writes the summary report as CSV and XLSX that parse back to the figures', async () => {
    const figures = await statistics.figures(analyst, COUNTY);
    const collect = async (format: 'csv' | 'xlsx'): Promise<Buffer> => {
      const stream = new PassThrough();
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      await statistics.writeReport(figures, format, stream);
      if (format === 'csv') stream.end();
      return Buffer.concat(chunks);
    };
    const lines = (await collect('csv')).toString('utf8').replace(/^\ufeff/, '').split('\r\n');
    const header = (lines[6] as string).split(',');
    const totalRow = (lines.at(-2) as string).split(',');
    const cell = (name: string): string => totalRow[header.indexOf(name)] as string;
    expect(lines[0]).toBe('全民参保登记统计表');
    expect([cell('地区代码'), cell('户籍人口'), cell('登记人数'), cell('登记率(%)')]).toEqual([COUNTY, '11', '9', '81.82']);
    expect([cell('养老保险-应参保人数'), cell('养老保险-本地参保'), cell('养老保险-异地参保'), cell('养老保险-未参保'), cell('养老保险-参保率(%)'), cell('养老保险-目标(%)'), cell('养老保险-差距(百分点)'), cell('养老保险-距目标人数')]).toEqual([
      '8', '5', '1', '2', '75', '90', '15', '2',
    ]);
    expect([cell('医疗保险中断参保'), cell('在校学生'), cell('服兵役'), cell('未到参保年龄'), cell('60岁及以上未参加养老保险')]).toEqual(['1', '1', '1', '1', '1']);
    expect(lines.slice(7, -2).map((l) => l.split(',')[0])).toEqual(childrenOf(COUNTY).map((d) => d.code));

    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(await collect('xlsx'));
    const sheet = workbook.getWorksheet('统计表');
    const last = sheet?.getRow(sheet.rowCount);
    const columns = (sheet?.getRow(7).values as unknown[]).slice(1) as string[];
    expect(last?.getCell(1).value).toBe(COUNTY);
    expect(last?.getCell(columns.indexOf('户籍人口') + 1).value).toBe(11);
    expect(last?.getCell(columns.indexOf('参保率(%)') + 1).value).toBe(75);
    expect(sheet?.getCell('A6').value).toBe('基本情况');
  });

  // Last: it moves the county on. Dynamic update (issue 9) reaches the statistics through the same
  // rows: a business event of the insuring system, and a recompare day that ends a student's exemption.
  it('follows a business event and a recompare day: an enrolment covers, the end of school makes the pension due', async () => {
    const now = new Date().toISOString();
    const enrolled = newEvent(INSURANCE_ENROLLED, deterministicId('stats-test', 'enrolled', P8), P8, { department: 'social-insurance', businessId: 'CB-8', insuranceType: 'pension', scheme: 'resident', region: COUNTY, since: '2026-10-20' }, {
      source: 'svc:dynamic-update', actor: 'key:test', occurredAt: '2026-10-20T02:00:00.000Z', recordedAt: now, correlationId: 'stats',
    });
    await producer.append([
      enrolled,
      household(P14, V2), cover(P14, 'medical'),
      record(P14, 'education', { kind: 'enrolment', enrolled: true, level: 'higher', expectedGraduationYear: 2027 } as SourceFacts),
    ]);
    await settle();
    const student = await statistics.figures(analyst, COUNTY);
    expect(student.total.population).toBe(12);
    expect(student.total.types.pension).toMatchObject({
      due: 8, insured: 7, insuredHere: 6, insuredElsewhere: 1, notInsured: 1, notDue: 1, exempt: 3,
      coverage: { numerator: 7, denominator: 8, rate: 0.875 },
      exemptByReason: { STUDENT: 2, MILITARY: 1, PRISONER: 0, DECEASED: 0, MOVED_OUT: 0, LINKED: 0 },
    });
    expect((await statistics.detailPage(analyst, { division: COUNTY, figure: 'pension:insured-here' }, 50, 0)).items.map((i) => i.citizenIdMasked)).toEqual(masked(P1, P2, P8, P9, P12, P13));

    // The day school ends is kept for the student; the scheduler's event of that day (appended here as it would) compares again.
    const due = await new RecompareDueRepository(KEYS).forPerson(ds.manager, P14);
    expect(due).toMatchObject({ personKey: P14, dueDate: '2027-07-01', because: ['school year of 2027 ends'] });
    await producer.append([recompareDueEvent(due as NonNullable<typeof due>, new Date().toISOString())]);
    await settle();
    const graduated = await statistics.figures(analyst, COUNTY);
    expect(graduated.total.types.pension).toMatchObject({
      due: 9, insured: 7, notInsured: 2, notDue: 1, exempt: 2,
      coverage: { numerator: 7, denominator: 9, rate: 0.777778 },
      exemptByReason: { STUDENT: 1, MILITARY: 1, PRISONER: 0, DECEASED: 0, MOVED_OUT: 0, LINKED: 0 },
    });
    const notInsured = await statistics.detailPage(analyst, { division: COUNTY, figure: 'pension:not-insured' }, 50, 0);
    expect(notInsured.items.map((i) => [i.citizenIdMasked, i.coverage.pension.reason])).toEqual(masked(P3, P14).map((m) => [m, 'NEVER_ENROLLED']));
  });
});
