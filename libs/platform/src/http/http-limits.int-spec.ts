import { Body, Controller, Get, Module, Param, Post } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { AuthModule, NoPersonalData, PersonalData, Roles, mintToken, revokePerson, revokeToken } from '@qmcb/auth';
import type { Role } from '@qmcb/auth';
import { randomBytes } from 'crypto';
import { request as httpRequest } from 'http';
import type { AddressInfo } from 'net';
import request from 'supertest';
import { createTestingApp } from '../bootstrap/bootstrap';
import { REDIS, RedisModule } from '../redis/redis.module';
import type { RedisClient } from '../redis/redis.module';
import { SecurityModule } from '../security.module';
import { RedisRateLimiter } from './rate-limit';
import { RouteLimits } from './route-limits';
import { CITIZEN_ID_IN_URL_MESSAGE, PersonIdPipe, UuidPipe } from './path-params';
import { IsInt, Max, Min } from 'class-validator';

/**
 * Limits over HTTP, on the real Redis: rate limits per caller and class with their headers, failed
 * authentications per address, people's revocations, per-route deadlines (slow handler, slow body),
 * per-route body limits and the depth limit, security headers.
 */
const SECRETS = { jwtSecret: randomBytes(32).toString('base64url'), apiKeySecret: randomBytes(32).toString('base64url') };
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

class DecisionDto {
  @IsInt() @Min(1) @Max(1_000_000)
  expectedVersion: number;
}

@Controller()
class LimitsController {
  @Get('people')
  @Roles('county-approver')
  @PersonalData({ access: 'list', purposes: ['review'] })
  people(): { items: [] } {
    return { items: [] };
  }

  @Get('count')
  @Roles('county-approver')
  @NoPersonalData()
  count(): { n: number } {
    return { n: 1 };
  }

  @Get('slow')
  @Roles('county-approver')
  @NoPersonalData()
  @RouteLimits({ timeoutMs: 300 })
  async slow(): Promise<{ late: true }> {
    await new Promise((r) => setTimeout(r, 1_500));
    return { late: true };
  }

  @Post('items/:itemId/decisions')
  @Roles('county-approver')
  @NoPersonalData()
  decide(@Param('itemId', UuidPipe) itemId: string, @Body() body: DecisionDto): { itemId: string; expectedVersion: number } {
    return { itemId, expectedVersion: body.expectedVersion };
  }

  @Get('people/:personId')
  @Roles('county-approver')
  @NoPersonalData()
  person(@Param('personId', PersonIdPipe) personId: string): { personId: string } {
    return { personId };
  }

  @Post('small')
  @Roles('county-approver')
  @NoPersonalData()
  @RouteLimits({ bodyLimitBytes: 1024, timeoutMs: 500 })
  small(@Body() body: unknown): { got: unknown } {
    return { got: body };
  }
}

describe('limits over HTTP (real Redis)', () => {
  let app: INestApplication;
  let redis: RedisClient;
  let baseUrl: string;
  const service = `limits-int-${randomBytes(4).toString('hex')}`;

  @Module({
    imports: [
      RedisModule.forRoot({ url: REDIS_URL, connectionName: 'limits-int' }),
      SecurityModule.forRoot({ service, limits: { list: 3, read: 5, 'auth-failure': 2 }, windowMs: 2_000 }),
      AuthModule.forRoot({ ...SECRETS, revocationRedis: REDIS, limiter: RedisRateLimiter, maxTokenTtlSeconds: 3_600 }),
    ],
    controllers: [LimitsController],
  })
  class LimitsModule {}

  const bearer = (sub: string, role: Role = 'county-approver'): string => `Bearer ${mintToken({ sub, name: sub, role, division: '440981', ttlSeconds: 600 }, SECRETS.jwtSecret)}`;

  beforeAll(async () => {
    app = await createTestingApp(LimitsModule);
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    redis = app.get<RedisClient>(REDIS);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('counts each caller per class in Redis: headers on every answer, 429 RATE_LIMITED with Retry-After over the budget, others unaffected', async () => {
    const alice = bearer(`alice-${service}`);
    const statuses: number[] = [];
    let last: request.Response | undefined;
    for (let i = 0; i < 4; i += 1) {
      last = await request(baseUrl).get('/people').set('authorization', alice).set('x-purpose', 'review');
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last?.body).toEqual({ statusCode: 429, code: 'RATE_LIMITED', message: expect.stringMatching(/^rate limit of 3 list requests per 2 s exceeded; retry in [12] s$/) });
    expect(last?.headers).toMatchObject({ 'ratelimit-limit': '3', 'ratelimit-remaining': '0', 'retry-after': expect.stringMatching(/^[12]$/) });
    // Another class of the same caller has its own budget; another caller too.
    const counted = await request(baseUrl).get('/count').set('authorization', alice);
    expect(counted.status).toBe(200);
    expect(counted.headers).toMatchObject({ 'ratelimit-limit': '5', 'ratelimit-remaining': '4' });
    expect((await request(baseUrl).get('/people').set('authorization', bearer(`bob-${service}`)).set('x-purpose', 'review')).status).toBe(200);
    // The counter is Redis', shared by every replica.
    expect(await redis.get(`qmcb:rate:${service}:list:user:alice-${service}`)).toBe('4');
    await new Promise((r) => setTimeout(r, 2_100));
    expect((await request(baseUrl).get('/people').set('authorization', alice).set('x-purpose', 'review')).status).toBe(200);
  });

  it('slows down guessing: failed authentications from one address are limited (429 instead of 401)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await request(baseUrl).get('/count').set('authorization', 'Bearer not-a-token')).status);
    expect(statuses).toEqual([401, 401, 429]);
    await new Promise((r) => setTimeout(r, 2_100));
  });

  it('refuses every token of a person revoked after they were issued, and one token by its jti, at once in every replica', async () => {
    const sub = `carol-${service}`;
    const before = bearer(sub);
    expect((await request(baseUrl).get('/count').set('authorization', before)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_100));
    await revokePerson(redis, sub, 3_600);
    expect((await request(baseUrl).get('/count').set('authorization', before)).body).toEqual({ statusCode: 401, code: 'UNAUTHENTICATED', message: 'token revoked' });
    await new Promise((r) => setTimeout(r, 1_100));
    const jti = `jti-${service}`;
    const after = `Bearer ${mintToken({ sub, name: sub, role: 'county-approver', division: '440981', ttlSeconds: 600, jti }, SECRETS.jwtSecret)}`;
    expect((await request(baseUrl).get('/count').set('authorization', after)).status).toBe(200);
    await revokeToken(redis, jti, 3_600);
    expect((await request(baseUrl).get('/count').set('authorization', after)).body).toEqual({ statusCode: 401, code: 'UNAUTHENTICATED', message: 'token revoked' });
    expect(await redis.ttl(`qmcb:people:revoked-before:${sub}`)).toBeGreaterThan(3_600);
    await redis.del([`qmcb:people:revoked-before:${sub}`, `qmcb:tokens:revoked:${jti}`]);
  });

  it("answers 503 past a route's own deadline, for a slow handler and for a body that never finishes, and closes the connection", async () => {
    const slow = await request(baseUrl).get('/slow').set('authorization', bearer(`dave-${service}`));
    expect(slow.status).toBe(503);
    expect(slow.body).toEqual({ statusCode: 503, code: 'UNAVAILABLE', message: 'request not completed within 300 ms' });
    expect(slow.headers['connection']).toBe('close');
    // A client that announces a body and sends half of it (slowloris): cut at the route's deadline.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${baseUrl}/small`, { method: 'POST', headers: { authorization: bearer(`erin-${service}`), 'content-type': 'application/json', 'content-length': '100' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('{"a":');
    });
    expect(answer).toEqual({ status: 503, body: JSON.stringify({ statusCode: 503, code: 'UNAVAILABLE', message: 'request not completed within 500 ms' }) });
  });

  it("refuses a body over the route's limit (413) and JSON nested too deeply (400), naming the limit", async () => {
    const auth = bearer(`frank-${service}`);
    const big = await request(baseUrl).post('/small').set('authorization', auth).send({ text: 'x'.repeat(2_000) });
    const tooBig = 'body must not be larger than the 1024 bytes this route accepts';
    expect(big.body).toEqual({ statusCode: 413, code: 'VALIDATION_FAILED', message: tooBig, violations: [{ field: 'body', rule: 'maxBytes', message: tooBig }] });
    const deep = await request(baseUrl).post('/small').set('authorization', auth).set('content-type', 'application/json').send(`${'['.repeat(40)}${']'.repeat(40)}`);
    const tooDeep = 'body must not nest JSON deeper than 32 levels (deeper at character 32)';
    expect(deep.body).toEqual({ statusCode: 400, code: 'VALIDATION_FAILED', message: tooDeep, violations: [{ field: 'body', rule: 'maxDepth', message: tooDeep }] });
    expect((await request(baseUrl).post('/small').set('authorization', auth).send({ ok: [1, [2, [3]]] })).body).toEqual({ got: { ok: [1, [2, [3]]] } });
  });

  it('answers a body that is not JSON, a path parameter that is not a UUID or a person ID, and a missing expectedVersion naming the field and the rule', async () => {
    const auth = bearer(`gina-${service}`);
    const item = '0f0c2b1e-3a4d-4e5f-8a9b-0c1d2e3f4a5b';
    const notJson = await request(baseUrl).post(`/items/${item}/decisions`).set('authorization', auth).set('content-type', 'application/json').send('{"expectedVersion": 1,}');
    expect(notJson.status).toBe(400);
    expect(notJson.body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'body must be valid JSON (parse error at character 22)',
      violations: [{ field: 'body', rule: 'isJson', message: 'body must be valid JSON (parse error at character 22)' }],
    });
    const notUuid = await request(baseUrl).post('/items/42/decisions').set('authorization', auth).send({ expectedVersion: 1 });
    expect(notUuid.status).toBe(400);
    expect(notUuid.body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'itemId must be a UUID (8-4-4-4-12 hexadecimal digits)',
      violations: [{ field: 'itemId', rule: 'isUuid', message: 'itemId must be a UUID (8-4-4-4-12 hexadecimal digits)' }],
    });
    const noVersion = await request(baseUrl).post(`/items/${item}/decisions`).set('authorization', auth).send({});
    expect(noVersion.status).toBe(400);
    expect(noVersion.body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'validation failed: expectedVersion',
      violations: [{ field: 'expectedVersion', rule: 'isDefined', message: 'expectedVersion is required' }],
    });
    expect((await request(baseUrl).post(`/items/${item}/decisions`).set('authorization', auth).send({ expectedVersion: 3 })).body).toEqual({ itemId: item, expectedVersion: 3 });
    const undecodable = await request(baseUrl).post('/items/%E0%A4%A/decisions').set('authorization', auth).send({ expectedVersion: 1 });
    expect(undecodable.body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'path must be valid percent-encoded UTF-8',
      violations: [{ field: 'path', rule: 'isUriEncoded', message: 'path must be valid percent-encoded UTF-8' }],
    });
    const badPerson = await request(baseUrl).get('/people/nobody').set('authorization', auth);
    const malformed = 'personId must be the personId of a list or view (53 characters a-z and 2-7)';
    expect(badPerson.body).toEqual({ statusCode: 400, code: 'VALIDATION_FAILED', message: malformed, violations: [{ field: 'personId', rule: 'isPersonId', message: malformed }] });
    const citizenId = await request(baseUrl).get('/people/44098119850315123X').set('authorization', auth);
    expect(citizenId.body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: CITIZEN_ID_IN_URL_MESSAGE,
      violations: [{ field: 'personId', rule: 'notCitizenId', message: CITIZEN_ID_IN_URL_MESSAGE }],
    });
  });

  it('answers JSON that is not an object (null, a string, a number, an array) with one violation for the body, rule isObject', async () => {
    const auth = bearer(`hana-${service}`);
    const item = '0f0c2b1e-3a4d-4e5f-8a9b-0c1d2e3f4a5b';
    const post = (path: string, type: string, text: string): request.Test => request(baseUrl).post(path).set('authorization', auth).set('content-type', type).send(text);
    const notObject = (got: string): unknown => {
      const message = `body must be a JSON object (got ${got})`;
      return { statusCode: 400, code: 'VALIDATION_FAILED', message, violations: [{ field: 'body', rule: 'isObject', message }] };
    };
    // Valid JSON, not an object: null (refused by the parser, which takes objects and arrays only), an array (by the DTO's pipe).
    expect((await post(`/items/${item}/decisions`, 'application/json', 'null')).body).toEqual(notObject('null'));
    expect((await post(`/items/${item}/decisions`, 'application/json', '"44098119850315123X"')).body).toEqual(notObject('a string'));
    expect((await post(`/items/${item}/decisions`, 'application/json', '[{"expectedVersion": 3}]')).body).toEqual(notObject('an array'));
    expect((await post('/small', 'application/json', '3')).body).toEqual(notObject('a number'));
  });

  it('answers a value of the wrong type with its type rule only (a string where an integer is expected: isInt, not min and max)', async () => {
    const auth = bearer(`iris-${service}`);
    const item = '0f0c2b1e-3a4d-4e5f-8a9b-0c1d2e3f4a5b';
    const wrongType = await request(baseUrl).post(`/items/${item}/decisions`).set('authorization', auth).set('content-type', 'application/json').send('{"expectedVersion": "3"}');
    expect(wrongType.body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'validation failed: expectedVersion',
      violations: [{ field: 'expectedVersion', rule: 'isInt', message: 'expectedVersion must be an integer number' }],
    });
  });

  it('answers JSON sent as another media type (text/plain, none) to a route that takes a JSON body with 415 naming the expected type, instead of reading it as {}', async () => {
    const auth = bearer(`jade-${service}`);
    const item = '0f0c2b1e-3a4d-4e5f-8a9b-0c1d2e3f4a5b';
    const post = (path: string, type: string, text: string): request.Test => request(baseUrl).post(path).set('authorization', auth).set('content-type', type).send(text);
    const asText = await post(`/items/${item}/decisions`, 'text/plain', '{"expectedVersion": 3}');
    const message = 'Content-Type must be application/json: this route takes a JSON body (got text/plain)';
    expect(asText.status).toBe(415);
    expect(asText.body).toEqual({ statusCode: 415, code: 'VALIDATION_FAILED', message, violations: [{ field: 'Content-Type', rule: 'equals', message }] });
    expect((await post('/small', 'text/plain; charset=utf-8', '{"a": 1}')).body).toEqual(asText.body);
    // Without a Content-Type (fetch sends a string as text/plain; a raw socket may send none).
    const untyped = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const req = httpRequest(`${baseUrl}/items/${item}/decisions`, { method: 'POST', headers: { authorization: auth, 'content-length': '22' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      });
      req.on('error', reject);
      req.end('{"expectedVersion": 3}');
    });
    expect(untyped).toMatchObject({ status: 415, body: { violations: [{ field: 'Content-Type', rule: 'equals', message: 'Content-Type must be application/json: this route takes a JSON body (got none)' }] } });
    // application/json with parameters is JSON; an empty body is read as {} whatever its type.
    expect((await post(`/items/${item}/decisions`, 'application/json; charset=utf-8', '{"expectedVersion": 3}')).body).toEqual({ itemId: item, expectedVersion: 3 });
    expect((await request(baseUrl).post(`/items/${item}/decisions`).set('authorization', auth).set('content-type', 'text/plain')).body).toMatchObject({ violations: [{ field: 'expectedVersion', rule: 'isDefined' }] });
    // A route that takes no body is not refused for one.
    expect((await request(baseUrl).get('/count').set('authorization', auth).set('content-type', 'text/plain').send('x')).status).toBe(200);
  });

  it('sends the security headers and a request ID on every answer, errors included', async () => {
    const res = await request(baseUrl).get('/nowhere');
    expect(res.headers).toMatchObject({
      'content-security-policy': "default-src 'none';frame-ancestors 'none'",
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
      'x-request-id': expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});
