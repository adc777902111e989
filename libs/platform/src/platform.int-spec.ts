import { randomBytes } from 'crypto';
import { Body, Controller, Get, Global, Module, Param, Post } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import {
  AuthModule,
  CurrentPrincipal,
  Departments,
  NoPersonalData,
  PersonalData,
  Public,
  REVOKED_API_KEYS_SET,
  Roles,
  assertInDivision,
  departmentOf,
  mintApiKey,
  mintToken,
} from '@qmcb/auth';
import type { Principal, Role } from '@qmcb/auth';
import { DIVISION_PATTERNS } from '@qmcb/contracts';
import { Type } from 'class-transformer';
import { IsString, Length, Matches, ValidateNested } from 'class-validator';
import { Client } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { canonicalEntry } from './audit/audit-entry';
import { AuditStore } from './audit/audit-store';
import { AuditModule } from './audit/audit.module';
import { AuditService } from './audit/audit.service';
import { createTestingApp } from './bootstrap/bootstrap';
import { startManagementServer } from './bootstrap/management';
import type { ManagementServer } from './bootstrap/management';
import { DomainError } from './errors/domain.error';
import { PostgresHealthCheck, RedisHealthCheck, healthCheck } from './health/health-check';
import { HealthModule } from './health/health.module';
import { JsonLogger } from './logging/json-logger';
import { RedisRateLimiter } from './http/rate-limit';
import { MetricsModule } from './metrics/metrics.module';
import { PersonIds } from './person-ids/person-ids';
import { PersonIdsModule } from './person-ids/person-ids.module';
import { REDIS, RedisModule, closeRedisClient, createRedisClient } from './redis/redis.module';
import { SecurityModule } from './security.module';
import type { RedisClient } from './redis/redis.module';

jest.setTimeout(60_000);

const PG = { host: process.env['PGHOST'] ?? '127.0.0.1', port: Number(process.env['PGPORT'] ?? 5432), user: process.env['PGUSER'] ?? 'postgres', password: process.env['PGPASSWORD'] };
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** Nothing listens there: connections are refused. */
const UNREACHABLE_REDIS_URL = 'redis://127.0.0.1:1';
const SECRETS = { jwtSecret: 'platform-int-jwt-secret', apiKeySecret: 'platform-int-api-key-secret' };
const PERSON_ID_SECRET = randomBytes(32).toString('base64url');
const SCHEMA = 'platform_test';
const PERSON_KEY = '44098119850315123X';

let dataSource: DataSource;

class ContactForm {
  @IsString() @Length(1, 64)
  name: string;

  @Matches(/^1\d{10}$/, { message: 'phone must be an 11-digit mobile number' })
  phone: string;
}

class SubmitFormDto {
  @Matches(DIVISION_PATTERNS.village, { message: 'villageCode must be a 12-digit village/community code' })
  villageCode: string;

  @ValidateNested() @Type(() => ContactForm)
  form: ContactForm;
}

@Controller()
class ProbeController {
  constructor(
    private readonly audit: AuditService,
    private readonly ids: PersonIds,
  ) {}

  @Public()
  @Get('ping')
  ping(): { pong: true } {
    return { pong: true };
  }

  @Roles('window-clerk', 'county-approver')
  @PersonalData({ access: 'read', purposes: ['window-service', 'review'] })
  @Get('persons/:division/:personKey')
  async person(@CurrentPrincipal() principal: Principal, @Param('division') division: string, @Param('personKey') personKey: string): Promise<object> {
    this.audit.concerns([personKey]);
    assertInDivision(principal, division);
    return { personId: this.ids.idOf(personKey), division };
  }

  @Roles('county-approver')
  @PersonalData({ access: 'read', purposes: ['review', 'registry-maintenance'] })
  @Get('registry/:personId')
  registry(@Param('personId') personId: string): object {
    return { personId };
  }

  @Roles('county-approver', 'analyst')
  @PersonalData({ access: 'read', purposes: ['review', 'comparison-check'], unmasked: [{ roles: ['county-approver'], purposes: ['review'] }] })
  @Get('records/:personId')
  record(@Param('personId') personId: string): object {
    const personKey = this.ids.keyOf(personId) as string;
    return { personId, personKey, citizenIdMasked: '440981********123X', record: { personKey, citizenId: personKey, name: '李明' }, links: { linked: [{ recordKey: personKey, personId }] } };
  }

  @Roles('window-clerk')
  @PersonalData({ access: 'write', purposes: ['window-service'] })
  @Post('households/:personId/members')
  addMember(@Param('personId') personId: string): never {
    this.audit.concerns([this.ids.keyOf(personId) ?? '']);
    throw new DomainError('CONFLICT', `李小宝 is already a member of this household (孙女) at 13812345678: account for them in household.members`);
  }

  @Roles('window-clerk')
  @PersonalData({ access: 'write', purposes: ['window-service'] })
  @Post('forms')
  submit(@Body() dto: SubmitFormDto): { accepted: string; isInstance: boolean } {
    return { accepted: dto.villageCode, isInstance: dto.form instanceof ContactForm };
  }

  @Departments('public-security')
  @PersonalData({ access: 'write', purposes: ['data-submission'] })
  @Post('records')
  records(@CurrentPrincipal() principal: Principal): { department: string } {
    return { department: departmentOf(principal) };
  }

  @Roles('admin')
  @NoPersonalData()
  @Get('conflict')
  conflict(): never {
    throw new DomainError('CONFLICT', 'item is at version 3, not 2');
  }

  @Roles('admin')
  @NoPersonalData()
  @Get('boom')
  boom(): never {
    throw new Error(`lookup of ${PERSON_KEY} at 13812345678 failed`);
  }
}

@Global()
@Module({ providers: [{ provide: DataSource, useFactory: () => dataSource }], exports: [DataSource] })
class TestDatabaseModule {}

@Module({
  imports: [
    TestDatabaseModule,
    RedisModule.forRoot({ url: REDIS_URL, connectionName: 'platform-int-spec' }),
    SecurityModule.forRoot({ service: `platform-test-${randomBytes(4).toString('hex')}` }),
    AuthModule.forRoot({ ...SECRETS, revocationRedis: REDIS, limiter: RedisRateLimiter }),
    PersonIdsModule.forRoot({ secret: PERSON_ID_SECRET }),
    MetricsModule,
    AuditModule.forRoot({ service: 'platform-test' }),
    HealthModule.forRoot({ checks: [PostgresHealthCheck, RedisHealthCheck, healthCheck('kafka', async () => undefined)] }),
  ],
  controllers: [ProbeController],
})
class ProbeAppModule {}

const bearer = (role: Role, division = '440981', ttlSeconds = 600): string =>
  `Bearer ${mintToken({ sub: `u-${role}`, name: '张三', role, division, ttlSeconds }, SECRETS.jwtSecret)}`;

/** The audit entries written so far, once there are at least `n` (entries after the answer are written just after it). */
async function waitForEntries(n: number): Promise<Record<string, unknown>[]> {
  const store = new AuditStore(dataSource, new PersonIds(PERSON_ID_SECRET));
  for (let i = 0; i < 100; i += 1) {
    const entries = await store.search({ limit: 1000 });
    if (entries.length >= n) return entries as unknown as Record<string, unknown>[];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`fewer than ${n} audit entries`);
}

async function waitForRequest(requestId: string): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 100; i += 1) {
    const entries = (await new AuditStore(dataSource, new PersonIds(PERSON_ID_SECRET)).search({ limit: 1000 })).filter((e) => e.requestId === requestId);
    if (entries.length) return entries as unknown as Record<string, unknown>[];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no audit entry for request ${requestId}`);
}

describe('platform over HTTP (real PostgreSQL and Redis)', () => {
  const database = `qmcb_test_${randomBytes(6).toString('hex')}`;
  const logLines: Record<string, unknown>[] = [];
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  let management: ManagementServer;
  let redis: RedisClient;
  /** A second connection, for what the application's own cannot do while it is blocked or lost. */
  let other: RedisClient;

  beforeAll(async () => {
    const admin = new Client({ ...PG, database: 'postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    dataSource = new DataSource({
      type: 'postgres',
      ...PG,
      username: PG.user,
      database,
      extra: { options: `-c search_path=${SCHEMA}` },
      synchronize: false,
    });
    await dataSource.initialize();
    await dataSource.query(`CREATE SCHEMA ${SCHEMA}`);
    await new AuditStore(dataSource).migrate();
    const logger = new JsonLogger({ service: 'platform-test', level: 'warn', write: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>) });
    app = await createTestingApp(ProbeAppModule, { logger });
    http = request(app.getHttpServer());
    management = await startManagementServer(app, { host: '127.0.0.1', port: 0, openApi: { title: 'platform-test' } });
    redis = app.get<RedisClient>(REDIS);
    other = await createRedisClient({ url: REDIS_URL, connectionName: 'platform-int-spec-other' });
  });

  afterAll(async () => {
    await management?.close();
    await app?.close();
    if (other) await closeRedisClient(other);
    if (dataSource?.isInitialized) await dataSource.destroy();
    const admin = new Client({ ...PG, database: 'postgres' });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it('answers 401 UNAUTHENTICATED without credentials, and with an expired or forged token', async () => {
    const path = `/persons/440981002001/${PERSON_KEY}`;
    const none = await http.get(path);
    expect(none.status).toBe(401);
    expect(none.body).toEqual({
      statusCode: 401,
      code: 'UNAUTHENTICATED',
      message: 'missing credentials: send Authorization: Bearer <token> or X-Api-Key: <key>',
    });
    const past = new Date(Date.now() - 3_600_000);
    const expired = mintToken({ sub: 'u1', name: 'n', role: 'window-clerk', division: '440981', ttlSeconds: 60 }, SECRETS.jwtSecret, { now: past });
    expect((await http.get(path).set('authorization', `Bearer ${expired}`)).body).toEqual({ statusCode: 401, code: 'UNAUTHENTICATED', message: 'token expired' });
    const forged = mintToken({ sub: 'u1', name: 'n', role: 'admin', division: '44', ttlSeconds: 60 }, 'not-the-secret');
    expect((await http.get(path).set('authorization', `Bearer ${forged}`)).status).toBe(401);
  });

  it('answers 403 FORBIDDEN to a wrong role, a wrong caller kind, and a division at the wrong level for the role', async () => {
    const wrongRole = await http.get(`/persons/440981002001/${PERSON_KEY}`).set('authorization', bearer('surveyor', '440981002'));
    expect(wrongRole.status).toBe(403);
    expect(wrongRole.body).toEqual({ statusCode: 403, code: 'FORBIDDEN', message: 'role surveyor may not call this endpoint' });
    const system = await http.get(`/persons/440981002001/${PERSON_KEY}`).set('x-api-key', mintApiKey('public-security', 'pso-1', SECRETS.apiKeySecret));
    expect(system.body).toEqual({ statusCode: 403, code: 'FORBIDDEN', message: 'department systems may not call this endpoint' });
    const province = await http.get(`/persons/440981002001/${PERSON_KEY}`).set('authorization', bearer('county-approver', '44')).set('x-purpose', 'review');
    expect(province.body).toEqual({ statusCode: 403, code: 'FORBIDDEN', message: 'role county-approver works at county level, not province level (division 44)' });
  });

  it('answers 404 NOT_FOUND outside the division with the same body as for nothing, auditing the refusal; inside it answers and audits the read', async () => {
    const outside = await http
      .get(`/persons/440100001001/${PERSON_KEY}`)
      .set('authorization', bearer('window-clerk', '440981'))
      .set('x-purpose', 'window-service')
      .set('x-request-id', 'req-outside-1');
    expect(outside.status).toBe(404);
    expect(outside.body).toEqual({ statusCode: 404, code: 'NOT_FOUND', message: 'not found' });
    expect(outside.headers['x-request-id']).toBe('req-outside-1');

    const inside = await http.get(`/persons/440981002001/${PERSON_KEY}`).set('authorization', bearer('county-approver', '440981')).set('x-purpose', 'review').set('x-purpose-ref', 'CASE-2026-0012');
    expect(inside.status).toBe(200);
    const personId = new PersonIds(PERSON_ID_SECRET).idOf(PERSON_KEY);
    expect(inside.body).toEqual({ personId, division: '440981002001' });
    const requestId = inside.headers['x-request-id'] as string;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);

    // A refusal is audited once its answer has left: wait for both entries, not for any two.
    await waitForRequest('req-outside-1');
    await waitForRequest(requestId);
    const entries = await waitForEntries(2);
    const common = { service: 'platform-test', source: expect.stringMatching(/127\.0\.0\.1$/), method: 'GET', route: '/persons/:division/:personKey', action: 'read', people: [PERSON_KEY], count: 1, seq: expect.any(String), at: expect.any(String) };
    expect(entries).toEqual(
      expect.arrayContaining([
        {
          ...common,
          requestId: 'req-outside-1',
          actor: 'user:u-window-clerk',
          role: 'window-clerk',
          division: '440981',
          purpose: 'window-service',
          purposeRef: null,
          result: 'refused',
          status: 404,
          code: 'NOT_FOUND',
          detail: "outside the caller's division 440981",
        },
        {
          ...common,
          requestId,
          actor: 'user:u-county-approver',
          role: 'county-approver',
          division: '440981',
          purpose: 'review',
          purposeRef: 'CASE-2026-0012',
          result: 'ok',
          status: 200,
          code: null,
          detail: null,
        },
      ]),
    );
    // Outside the projection schema: a rebuild swaps that one and leaves the audit alone.
    expect(await dataSource.query(`SELECT table_schema FROM information_schema.tables WHERE table_name = 'audit_event'`)).toEqual([{ table_schema: 'audit' }]);
  });

  it('answers personId, never the person key: record.personKey and the like are taken out of every answer; the citizen ID is full only for the role and purpose the route names', async () => {
    const personId = new PersonIds(PERSON_ID_SECRET).idOf(PERSON_KEY);
    const full = await http.get(`/records/${personId}`).set('authorization', bearer('county-approver', '440981')).set('x-purpose', 'review');
    expect(full.status).toBe(200);
    expect(full.body).toEqual({ personId, citizenIdMasked: '440981********123X', record: { personId, citizenId: PERSON_KEY, name: '李明' }, links: { linked: [{ personId }] } });
    const masked = await http.get(`/records/${personId}`).set('authorization', bearer('analyst', '440981')).set('x-purpose', 'comparison-check');
    expect(masked.body).toEqual({ personId, citizenIdMasked: '440981********123X', record: { personId, citizenId: '440981********123X', name: '李**' }, links: { linked: [{ personId }] } });
    expect(JSON.stringify([full.body, masked.body])).not.toContain('"personKey"');
    // The audit still names the person the answer was about.
    expect((await waitForRequest(full.headers['x-request-id'] as string))[0]).toMatchObject({ people: [PERSON_KEY], result: 'ok' });
  });

  it("lets an auditor search the trail by person, actor and time, within the auditor's division, and audits the search", async () => {
    const auditor = (division: string): string => bearer('auditor', division);
    const personId = new PersonIds(PERSON_ID_SECRET).idOf(PERSON_KEY);
    const byPerson = await http.post('/audit/search').set('authorization', auditor('440981')).send({ personId });
    expect(byPerson.status).toBe(200);
    expect(byPerson.body.items.length).toBeGreaterThanOrEqual(2);
    expect(byPerson.body.items.every((i: { people: { personId: string }[] }) => i.people.some((p) => p.personId === personId))).toBe(true);
    expect(JSON.stringify(byPerson.body)).not.toContain(PERSON_KEY);
    const byActor = await http.post('/audit/search').set('authorization', auditor('440981')).send({ actor: 'user:u-county-approver', limit: 1 });
    expect(byActor.body.items).toHaveLength(1);
    expect(byActor.body.items[0]).toMatchObject({ actor: 'user:u-county-approver', role: 'county-approver' });
    const page2 = await http.post('/audit/search').set('authorization', auditor('440981')).send({ actor: 'user:u-county-approver', limit: 1, after: byActor.body.next });
    expect(Number(page2.body.items[0]?.seq ?? Infinity)).toBeGreaterThan(Number(byActor.body.items[0].seq));
    const later = await http.post('/audit/search').set('authorization', auditor('440981')).send({ from: new Date(Date.now() + 60_000).toISOString() });
    expect(later.body).toEqual({ items: [], next: null });
    // Another county's auditor sees none of it; other roles may not search.
    expect((await http.post('/audit/search').set('authorization', auditor('440902')).send({ personId })).body).toEqual({ items: [], next: null });
    expect((await http.post('/audit/search').set('authorization', bearer('admin')).send({})).status).toBe(403);
    const both = 'citizenId must not be given with personId: give one of them';
    expect((await http.post('/audit/search').set('authorization', auditor('440981')).send({ personId, citizenId: PERSON_KEY })).body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: both,
      violations: [{ field: 'citizenId', rule: 'exclusiveWith', message: both }],
    });
    // A citizen ID given as personId: one violation saying where it goes, not "must be a person ID".
    const asPersonId = await http.post('/audit/search').set('authorization', auditor('440981')).send({ personId: PERSON_KEY });
    const hint = 'personId must be the personId of a list or view, not a citizen ID: give a citizen ID as {"citizenId": "..."}';
    expect(asPersonId.body).toEqual({ statusCode: 400, code: 'VALIDATION_FAILED', message: 'validation failed: personId', violations: [{ field: 'personId', rule: 'notCitizenId', message: hint }] });
    expect(JSON.stringify(asPersonId.body)).not.toContain(PERSON_KEY);
    const searched = await waitForRequest(byPerson.headers['x-request-id'] as string);
    expect(searched[0]).toMatchObject({ actor: 'user:u-auditor', action: 'list', purpose: 'audit', result: 'ok' });
  });

  it('stores new entries with the person ID, never the citizen ID; the auditor finds by citizen ID or person ID both those and the entries written before with the key', async () => {
    const ids = new PersonIds(PERSON_ID_SECRET);
    // A valid citizen ID: its person key is itself (a search by citizen ID looks up personKeyFor of it).
    const citizenId = '440981198503151237';
    const personId = ids.idOf(citizenId);
    // An entry as the platform wrote it before person IDs: the person key in `people`, chained as any other.
    const [{ seq: oldSeq }] = (await dataSource.query(`INSERT INTO audit.audit_event (entry) VALUES ($1) RETURNING seq::text AS seq`, [
      canonicalEntry({
        service: 'platform-test', requestId: 'req-before-ids', actor: 'user:u-window-clerk', role: 'window-clerk', division: '440981', source: '127.0.0.1', method: 'GET',
        route: '/persons/:division/:personKey', action: 'read', purpose: 'window-service', purposeRef: null, people: [citizenId], count: 1, result: 'ok', status: 200, code: null, detail: null,
      }),
    ])) as [{ seq: string }];
    // A new read, whose caller put the citizen ID into its request ID and purpose reference.
    const read = await http
      .get(`/persons/440981002001/${citizenId}`)
      .set('authorization', bearer('county-approver', '440981'))
      .set('x-purpose', 'review')
      .set('x-request-id', citizenId)
      .set('x-purpose-ref', `CASE-${citizenId}`);
    expect(read.status).toBe(200);
    const rows: { seq: string; entry: string; people: string[] }[] = await dataSource.query(
      `SELECT seq::text AS seq, entry, people FROM audit.audit_event WHERE seq > $1::bigint AND (entry::jsonb)->>'route' = '/persons/:division/:personKey' ORDER BY seq`,
      [oldSeq],
    );
    expect(rows).toHaveLength(1);
    const row = rows[0] as { seq: string; entry: string; people: string[] };
    expect(row.people).toEqual([personId]);
    expect(row.entry).not.toMatch(/(?<![\dXx])\d{17}[\dXx](?![\dXx])/);
    expect(JSON.parse(row.entry)).toMatchObject({ requestId: '440981********1237', purposeRef: 'CASE-440981********1237', people: [personId] });

    const auditor = bearer('auditor', '440981');
    const byCitizenId = await http.post('/audit/search').set('authorization', auditor).send({ citizenId });
    const byPersonId = await http.post('/audit/search').set('authorization', auditor).send({ personId });
    for (const answer of [byCitizenId, byPersonId]) {
      expect(answer.status).toBe(200);
      const items = answer.body.items as { seq: string; people: { personId: string }[] }[];
      expect(items.map((i) => i.seq)).toEqual(expect.arrayContaining([oldSeq, row.seq]));
      expect(items.filter((i) => i.seq === oldSeq || i.seq === row.seq).map((i) => i.people)).toEqual([[{ personId }], [{ personId }]]);
      expect(JSON.stringify(answer.body)).not.toContain(citizenId);
    }
    // The chain holds over both kinds of entry (what `audit verify` checks).
    expect(await new AuditStore(dataSource).verify()).toMatchObject({ ok: true });
  });

  it('refuses a read without a purpose, or with one the route does not serve, and audits the refusal', async () => {
    const path = `/persons/440981002001/${PERSON_KEY}`;
    const missing = await http.get(path).set('authorization', bearer('county-approver', '440981'));
    expect(missing.body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'X-Purpose is required: state why you read this personal data, one of window-service, review',
      violations: [{ field: 'X-Purpose', rule: 'required', message: 'X-Purpose is required: state why you read this personal data, one of window-service, review' }],
    });
    const wrong = await http.get(path).set('authorization', bearer('county-approver', '440981')).set('x-purpose', 'statistics');
    expect(wrong.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', message: 'X-Purpose must be one of window-service, review on this route' });
    const entry = (await waitForRequest(missing.headers['x-request-id'] as string))[0];
    expect(entry).toMatchObject({ result: 'invalid', status: 400, purpose: null, people: [] });
  });

  it('names the person of a :personId path in refusals before the handler (no purpose, a wrong role), and nobody for an ID it did not make', async () => {
    const personId = new PersonIds(PERSON_ID_SECRET).idOf(PERSON_KEY);
    const noPurpose = await http.get(`/registry/${personId}`).set('authorization', bearer('county-approver', '440981'));
    expect(noPurpose.status).toBe(400);
    const wrongRole = await http.get(`/registry/${personId}`).set('authorization', bearer('window-clerk', '440981')).set('x-purpose', 'review');
    expect(wrongRole.body).toEqual({ statusCode: 403, code: 'FORBIDDEN', message: 'role window-clerk may not call this endpoint' });
    const forged = await http.get(`/registry/${'a'.repeat(personId.length)}`).set('authorization', bearer('county-approver', '440981'));
    expect(forged.status).toBe(400);
    expect((await waitForRequest(noPurpose.headers['x-request-id'] as string))[0]).toMatchObject({ route: '/registry/:personId', result: 'invalid', status: 400, people: [PERSON_KEY], count: 1 });
    expect((await waitForRequest(wrongRole.headers['x-request-id'] as string))[0]).toMatchObject({ route: '/registry/:personId', result: 'refused', status: 403, people: [PERSON_KEY], count: 1 });
    expect((await waitForRequest(forged.headers['x-request-id'] as string))[0]).toMatchObject({ route: '/registry/:personId', result: 'invalid', status: 400, people: [], count: 0 });
    // An auditor searching by the person sees the attempts.
    const seen = await http.post('/audit/search').set('authorization', bearer('auditor', '440981')).send({ personId });
    expect(seen.body.items.filter((i: { route: string }) => i.route === '/registry/:personId').map((i: { status: number }) => i.status).sort()).toEqual([400, 403]); // written as each answer leaves: in either order
  });

  it('keeps personal data out of the detail it stores: citizen IDs, phones and names in a message are masked', async () => {
    const personId = new PersonIds(PERSON_ID_SECRET).idOf(PERSON_KEY);
    const conflict = await http.post(`/households/${personId}/members`).set('authorization', bearer('window-clerk', '440981')).send({});
    // The caller is told in full; the trail keeps it masked.
    expect(conflict.body).toEqual({ statusCode: 409, code: 'CONFLICT', message: '李小宝 is already a member of this household (孙女) at 13812345678: account for them in household.members' });
    expect((await waitForRequest(conflict.headers['x-request-id'] as string))[0]).toMatchObject({
      action: 'write', result: 'invalid', status: 409, code: 'CONFLICT', people: [PERSON_KEY],
      detail: '李** is already a member of this household (孙女) at 138****5678: account for them in household.members',
    });
  });

  it('answers 400 VALIDATION_FAILED naming the nested field, and accepts a valid body as a DTO instance', async () => {
    const bad = await http
      .post('/forms')
      .set('authorization', bearer('window-clerk'))
      .send({ villageCode: '440981002001', form: { name: '张三', phone: '12345' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'validation failed: form.phone',
      violations: [{ field: 'form.phone', rule: 'matches', message: 'form.phone must be an 11-digit mobile number' }],
    });
    const extra = await http.post('/forms').set('authorization', bearer('window-clerk')).send({ villageCode: '440981002001', form: { name: 'a', phone: '13812345678', age: 3 } });
    expect(extra.body.violations).toEqual([{ field: 'form.age', rule: 'whitelistValidation', message: 'property age should not exist' }]);
    const notJson = await http.post('/forms').set('authorization', bearer('window-clerk')).set('content-type', 'application/json').send('{"villageCode":');
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    const ok = await http.post('/forms').set('authorization', bearer('window-clerk')).send({ villageCode: '440981002001', form: { name: 'a', phone: '13812345678' } });
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ accepted: '440981002001', isInstance: true });
  });

  it('accepts API keys of the declared department only, and refuses revoked keys', async () => {
    const own = await http.post('/records').set('x-api-key', mintApiKey('public-security', 'pso-1', SECRETS.apiKeySecret));
    expect(own.status).toBe(201);
    expect(own.body).toEqual({ department: 'public-security' });
    const other = await http.post('/records').set('x-api-key', mintApiKey('tax', 'tax-1', SECRETS.apiKeySecret));
    expect(other.body).toEqual({ statusCode: 403, code: 'FORBIDDEN', message: 'department tax may not call this endpoint' });
    expect((await http.post('/records').set('authorization', bearer('admin'))).body.message).toBe('only department systems may call this endpoint');

    const keyId = `revoked-${randomBytes(4).toString('hex')}`;
    await redis.sAdd(REVOKED_API_KEYS_SET, keyId);
    try {
      const revoked = await http.post('/records').set('x-api-key', mintApiKey('public-security', keyId, SECRETS.apiKeySecret));
      expect(revoked.body).toEqual({ statusCode: 401, code: 'UNAUTHENTICATED', message: 'API key revoked' });
    } finally {
      await redis.sRem(REVOKED_API_KEYS_SET, keyId);
    }
  });

  it('fails closed (503 UNAVAILABLE) for API keys while the revocation list is slow to answer, and accepts them once it answers', async () => {
    const key = mintApiKey('public-security', 'pso-1', SECRETS.apiKeySecret);
    // A blocking command on the application's connection: the SISMEMBER sent after it waits for
    // it to end, as it would behind a slow Redis.
    const list = `qmcb:platform-int:block:${randomBytes(4).toString('hex')}`;
    const blocked = redis.blPop(list, 0);
    try {
      const slow = await http.post('/records').set('x-api-key', key);
      expect(slow.status).toBe(503);
      expect(slow.body).toEqual({ statusCode: 503, code: 'UNAVAILABLE', message: 'API key revocation list unavailable; retry later' });
    } finally {
      await other.lPush(list, 'unblock');
    }
    expect(await blocked).toEqual({ key: list, element: 'unblock' });
    const answered = await http.post('/records').set('x-api-key', key);
    expect(answered.status).toBe(201);
    expect(answered.body).toEqual({ department: 'public-security' });
  });

  it('reconnects when its connection is lost, logging the error once', async () => {
    // Not events.once: it rejects on the 'error' the lost connection emits first.
    const ready = new Promise<void>((resolve) => redis.once('ready', () => resolve()));
    expect(await other.clientKill({ filter: 'ID', id: await redis.clientId() })).toBe(1);
    await ready;
    expect(await redis.ping()).toBe('PONG');
    expect(logLines.filter((l) => l['msg'] === 'redis error')).toEqual([
      { level: 'warn', time: expect.any(String), service: 'platform-test', context: 'Redis', msg: 'redis error', err: 'Socket closed unexpectedly' },
    ]);
    expect((await http.get('/health')).body).toEqual({ status: 'ok', checks: { postgres: 'up', redis: 'up', kafka: 'up' } });
  });

  it('maps domain errors, unknown errors and unknown routes to the stable body, logging without personal data', async () => {
    expect((await http.get('/conflict').set('authorization', bearer('admin'))).body).toEqual({
      statusCode: 409,
      code: 'CONFLICT',
      message: 'item is at version 3, not 2',
    });
    const boom = await http.get('/boom').set('authorization', bearer('admin'));
    expect(boom.status).toBe(500);
    expect(boom.body).toEqual({ statusCode: 500, code: 'INTERNAL', message: 'internal error' });
    const logged = JSON.stringify(logLines);
    expect(logged).toContain('request failed');
    expect(logged).toContain('440981********123X');
    expect(logged).not.toContain(PERSON_KEY);
    expect(logged).not.toContain('13812345678');
    expect((await http.get('/no/such/route')).body).toEqual({ statusCode: 404, code: 'NOT_FOUND', message: 'not found' });
  });

  it('serves /health (public) with the three checks up', async () => {
    const res = await http.get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', checks: { postgres: 'up', redis: 'up', kafka: 'up' } });
    expect((await http.get('/health/live')).body).toEqual({ status: 'ok' });
  });

  it('serves /metrics on the management port only, with request latency labelled by route path, not by URL', async () => {
    await http.get('/ping').expect(200);
    expect((await http.get('/metrics')).status).toBe(404);
    const res = await request(management.url).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toContain('process_cpu_user_seconds_total');
    expect(res.text).toMatch(/qmcb_http_request_duration_seconds_count\{method="GET",route="\/persons\/:division\/:personKey",status="404"\} 1/);
    expect(res.text).toMatch(/qmcb_http_request_duration_seconds_count\{method="GET",route="\/ping",status="200"\} 1/);
    expect(res.text).toMatch(/qmcb_http_request_duration_seconds_count\{method="GET",route="\(unmatched\)",status="404"\}/);
    expect(res.text).not.toContain('440100001001');
  });

  it('serves OpenAPI on the management port only, with the bearer and api-key schemes', async () => {
    expect((await http.get('/api/docs-json')).status).toBe(404);
    const res = await request(management.url).get('/api/docs-json');
    expect(res.status).toBe(200);
    expect(res.body.components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      'api-key': expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-api-key' }),
    });
    expect(res.body.paths['/persons/{division}/{personKey}'].get.security).toEqual([{ bearer: [] }]);
    expect(res.body.paths['/records'].post.security).toEqual([{ 'api-key': [] }]);
    expect(res.body.components.schemas.ErrorBodyDto).toBeDefined();
    expect(res.body.paths['/persons/{division}/{personKey}'].get.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'x-purpose', in: 'header', required: true })]));
    expect((await request(management.url).get('/api/docs')).status).toBe(200);
  });
});

describe('platform when a dependency is down', () => {
  let app: INestApplication;

  afterAll(async () => {
    await app?.close();
  });

  it('answers /health 503 naming the failing check and why', async () => {
    @Module({
      imports: [
        HealthModule.forRoot({
          timeoutMs: 200,
          checks: [
            healthCheck('kafka', () => Promise.reject(new Error('broker 127.0.0.1:9092 unreachable'))),
            healthCheck('slow', () => new Promise((resolve) => setTimeout(resolve, 2_000).unref())),
            healthCheck('fine', async () => undefined),
          ],
        }),
      ],
    })
    class DownModule {}
    app = await createTestingApp(DownModule, { logger: false });
    const res = await request(app.getHttpServer()).get('/health');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      status: 'down',
      checks: { kafka: 'down', slow: 'down', fine: 'up' },
      reasons: { kafka: 'broker 127.0.0.1:9092 unreachable', slow: 'no answer within 200 ms' },
    });
  });
});

describe('platform when Redis is unreachable', () => {
  const logLines: Record<string, unknown>[] = [];
  let app: INestApplication;
  let redis: RedisClient;

  @Controller()
  class KeyController {
    @Departments('tax')
    @Roles('admin')
    @NoPersonalData()
    @Get('k')
    k(): string {
      return 'ok';
    }
  }

  @Module({
    imports: [
      RedisModule.forRoot({ url: UNREACHABLE_REDIS_URL, connectionName: 'platform-int-spec-unreachable' }),
      AuthModule.forRoot({ ...SECRETS, revocationRedis: REDIS, revocationTimeoutMs: 200 }),
      HealthModule.forRoot({ checks: [RedisHealthCheck] }),
    ],
    controllers: [KeyController],
  })
  class NoRedisModule {}

  beforeAll(async () => {
    const logger = new JsonLogger({ service: 'platform-test', level: 'warn', write: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>) });
    // Starts although Redis does not answer.
    app = await createTestingApp(NoRedisModule, { logger });
    redis = app.get<RedisClient>(REDIS);
  });

  afterAll(async () => {
    if (redis?.isOpen) await app.close();
  });

  it('fails closed (503 UNAVAILABLE) for API keys and bearer tokens alike: a revoked credential must not work while Redis is away', async () => {
    const res = await request(app.getHttpServer()).get('/k').set('x-api-key', mintApiKey('tax', 't1', SECRETS.apiKeySecret));
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ statusCode: 503, code: 'UNAVAILABLE', message: 'API key revocation list unavailable; retry later' });
    const person = await request(app.getHttpServer()).get('/k').set('authorization', bearer('admin'));
    expect(person.body).toEqual({ statusCode: 503, code: 'UNAVAILABLE', message: 'token revocation list unavailable; retry later' });
  });

  it('answers /health 503 with redis down and why', async () => {
    const res = await request(app.getHttpServer()).get('/health');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'down', checks: { redis: 'down' }, reasons: { redis: 'The client is offline' } });
  });

  it('logs the refused connection once, however often the client retries', async () => {
    await new Promise<void>((resolve) => {
      let attempts = 0;
      const onError = (): void => {
        attempts += 1;
        if (attempts < 3) return;
        redis.off('error', onError);
        resolve();
      };
      redis.on('error', onError);
    });
    expect(logLines.filter((l) => l['msg'] === 'redis error')).toEqual([
      { level: 'warn', time: expect.any(String), service: 'platform-test', context: 'Redis', msg: 'redis error', err: 'connect ECONNREFUSED 127.0.0.1:1' },
    ]);
  });

  it('closes its client on shutdown, which stops the reconnection attempts', async () => {
    expect(redis.isOpen).toBe(true);
    await app.close();
    expect(redis.isOpen).toBe(false);
  });
});

describe('Redis client shutdown (real Redis)', () => {
  @Module({ imports: [RedisModule.forRoot({ url: REDIS_URL, connectionName: 'platform-int-spec-shutdown' })] })
  class RedisOnlyModule {}

  it('lets a command already sent finish, then closes', async () => {
    const app = await createTestingApp(RedisOnlyModule, { logger: false });
    const redis = app.get<RedisClient>(REDIS);
    const key = `qmcb:platform-int:shutdown:${randomBytes(4).toString('hex')}`;
    const written = redis.set(key, 'v', { expiration: { type: 'EX', value: 60 } });
    await app.close();
    expect(await written).toBe('OK');
    expect(redis.isOpen).toBe(false);
    const check = await createRedisClient({ url: REDIS_URL });
    try {
      expect(await check.get(key)).toBe('v');
      await check.del(key);
    } finally {
      await closeRedisClient(check);
    }
  });

  it('does not wait for an answer that never comes: the pending command is rejected and the client closed', async () => {
    const app = await createTestingApp(RedisOnlyModule, { logger: false });
    const redis = app.get<RedisClient>(REDIS);
    // Blocks until something is pushed to a list no one pushes to.
    const never = redis.blPop(`qmcb:platform-int:never:${randomBytes(4).toString('hex')}`, 0);
    const outcome = never.then(
      () => 'answered',
      (e: Error) => e.message,
    );
    await app.close();
    expect(await outcome).toBe('Disconnects client');
    expect(redis.isOpen).toBe(false);
  });
});
