import { spawn } from 'child_process';
import { connect } from 'net';
import { HttpException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { sign } from 'jsonwebtoken';
import { mintApiKey } from './api-key';
import { AUTH_OPTIONS } from './auth.options';
import { Authenticator } from './authenticator';
import type { HeaderValue } from './authenticator';
import { API_KEY_REVOCATIONS, REVOKED_API_KEYS_SET, REVOKED_PERSON_PREFIX, REVOKED_TOKEN_PREFIX, RedisApiKeyRevocations } from './revocation';
import type { RevocationSetReader } from './revocation';
import { Role } from './role';
import { checkAccess } from './roles.guard';
import { mintToken } from './token';

const options = { jwtSecret: 'unit-jwt-secret', apiKeySecret: 'unit-api-key-secret', maxTokenTtlSeconds: 8 * 3600 };

async function authenticatorWith(redis: RevocationSetReader): Promise<Authenticator> {
  const moduleRef = await Test.createTestingModule({
    providers: [Authenticator, { provide: AUTH_OPTIONS, useValue: options }, { provide: API_KEY_REVOCATIONS, useValue: new RedisApiKeyRevocations(redis, 50) }],
  }).compile();
  return moduleRef.get(Authenticator);
}

async function failure(promise: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await promise;
    return { status: 200, message: '' };
  } catch (e) {
    if (e instanceof HttpException) return { status: e.getStatus(), message: (e.getResponse() as { message: string }).message };
    throw e;
  }
}

describe('Authenticator', () => {
  const revokedKeys = new Set(['gone-1']);
  const values = new Map<string, string>();
  const redis: RevocationSetReader = {
    sIsMember: async (key, member) => (key === REVOKED_API_KEYS_SET && revokedKeys.has(member) ? 1 : 0),
    mGet: async (keys) => keys.map((k) => values.get(k) ?? null),
  };
  const headers = (h: Record<string, HeaderValue>): Record<string, HeaderValue> => h;
  const bearer = (token: string): Record<string, HeaderValue> => ({ authorization: `Bearer ${token}` });
  const surveyor = { sub: 'u1', name: 'n', role: Role.Surveyor, division: '440981002001' };

  beforeEach(() => values.clear());

  it('authenticates a bearer token and an API key', async () => {
    const auth = await authenticatorWith(redis);
    const token = mintToken({ ...surveyor, ttlSeconds: 60, jti: 't-1' }, options.jwtSecret);
    await expect(auth.authenticate(bearer(token))).resolves.toEqual({ kind: 'person', ...surveyor, issuedAt: expect.any(Number), tokenId: 't-1' });
    const key = mintApiKey('tax', 'tax-1', options.apiKeySecret);
    await expect(auth.authenticate(headers({ 'x-api-key': key }))).resolves.toEqual({ kind: 'system', department: 'tax', keyId: 'tax-1' });
  });

  it('answers 401 for missing, malformed, ambiguous or revoked credentials', async () => {
    const auth = await authenticatorWith(redis);
    const key = mintApiKey('tax', 'tax-1', options.apiKeySecret);
    expect((await failure(auth.authenticate(headers({})))).status).toBe(401);
    expect((await failure(auth.authenticate(headers({ authorization: 'Basic abc' })))).status).toBe(401);
    expect((await failure(auth.authenticate(headers({ authorization: 'Bearer x', 'x-api-key': key })))).status).toBe(401);
    expect(await failure(auth.authenticate(headers({ 'x-api-key': mintApiKey('tax', 'gone-1', options.apiKeySecret) })))).toEqual({ status: 401, message: 'API key revoked' });
  });

  it('refuses a token that lives longer than the maximum, or has no iat, however well signed', async () => {
    const auth = await authenticatorWith(redis);
    const tenYears = mintToken({ ...surveyor, ttlSeconds: 10 * 365 * 86_400 }, options.jwtSecret);
    expect(await failure(auth.authenticate(bearer(tenYears)))).toEqual({ status: 401, message: `invalid token: lifetime ${10 * 365 * 86_400} s exceeds the maximum of ${8 * 3600} s` });
    const justRight = mintToken({ ...surveyor, ttlSeconds: 8 * 3600 }, options.jwtSecret);
    expect((await failure(auth.authenticate(bearer(justRight)))).status).toBe(200);
    const exp = Math.floor(Date.now() / 1000) + 600;
    const noIat = sign({ ...surveyor, iss: 'qmcb', aud: 'qmcb-api', exp }, options.jwtSecret, { algorithm: 'HS256', noTimestamp: true });
    expect(await failure(auth.authenticate(bearer(noIat)))).toEqual({ status: 401, message: 'invalid token: iat is required' });
  });

  it('refuses every token of a person revoked after they were issued, and a revoked token by its jti; later tokens work', async () => {
    const auth = await authenticatorWith(redis);
    const now = Math.floor(Date.now() / 1000);
    const before = mintToken({ ...surveyor, ttlSeconds: 600, jti: 'before' }, options.jwtSecret, { now: new Date((now - 60) * 1000) });
    values.set(`${REVOKED_PERSON_PREFIX}u1`, String(now - 30));
    expect(await failure(auth.authenticate(bearer(before)))).toEqual({ status: 401, message: 'token revoked' });
    const after = mintToken({ ...surveyor, ttlSeconds: 600, jti: 'after' }, options.jwtSecret);
    expect((await failure(auth.authenticate(bearer(after)))).status).toBe(200);
    values.set(`${REVOKED_TOKEN_PREFIX}after`, '1');
    expect(await failure(auth.authenticate(bearer(after)))).toEqual({ status: 401, message: 'token revoked' });
    const other = mintToken({ ...surveyor, sub: 'u2', ttlSeconds: 600 }, options.jwtSecret, { now: new Date((now - 60) * 1000) });
    expect((await failure(auth.authenticate(bearer(other)))).status).toBe(200);
  });

  it('counts an answer that arrived in time while the process was busy: only a slow Redis fails closed, not a blocked event loop', async () => {
    const key = mintApiKey('public-security', 'ps-busy', options.apiKeySecret);
    // Redis's answer as I/O on a real socket, from another process (as Redis is): sent as soon as the
    // question is asked, while this process computes for 150 ms without yielding, past the 50 ms
    // deadline. When it next looks, the deadline is due and the answer is in the socket.
    const redis = spawn(process.execPath, ['-e', "const s = require('net').createServer((c) => c.on('data', () => c.write('0'))).listen(0, '127.0.0.1', () => console.log(s.address().port))"]);
    try {
      const port = await new Promise<number>((resolve) => redis.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
      const client = connect(port, '127.0.0.1');
      await new Promise<void>((resolve) => client.once('connect', resolve));
      const viaSocket = (): Promise<number> =>
        new Promise((resolve) => {
          client.once('data', () => resolve(0));
          client.write('?');
        });
      const busy = await authenticatorWith({ sIsMember: viaSocket, mGet: async () => [null, null] });
      const pending = busy.authenticate(headers({ 'x-api-key': key }));
      await new Promise((resolve) => setImmediate(resolve));
      const until = Date.now() + 150;
      while (Date.now() < until) {
        // busy, as a long projection batch is
      }
      expect(await failure(pending)).toEqual({ status: 200, message: '' });
      client.destroy();
    } finally {
      redis.kill();
    }
    // An answer that comes after the deadline still fails closed.
    const slow = await authenticatorWith({ sIsMember: () => new Promise((resolve) => setTimeout(() => resolve(0), 200)), mGet: async () => [null, null] });
    expect(await failure(slow.authenticate(headers({ 'x-api-key': key })))).toEqual({ status: 503, message: 'API key revocation list unavailable; retry later' });
  });

  it('fails closed (503) for keys and tokens alike when the revocation lists cannot be read', async () => {
    const down = await authenticatorWith({ sIsMember: () => Promise.reject(new Error('connect ECONNREFUSED')), mGet: () => Promise.reject(new Error('connect ECONNREFUSED')) });
    const slow = await authenticatorWith({
      sIsMember: () => new Promise<number>((resolve) => setTimeout(() => resolve(0), 500)),
      mGet: () => new Promise((resolve) => setTimeout(() => resolve([null, null]), 500)),
    });
    const key = mintApiKey('tax', 'tax-1', options.apiKeySecret);
    const token = mintToken({ ...surveyor, ttlSeconds: 60 }, options.jwtSecret);
    expect(await failure(down.authenticate(headers({ 'x-api-key': key })))).toEqual({ status: 503, message: 'API key revocation list unavailable; retry later' });
    expect((await failure(slow.authenticate(headers({ 'x-api-key': key })))).status).toBe(503);
    expect(await failure(down.authenticate(bearer(token)))).toEqual({ status: 503, message: 'token revocation list unavailable; retry later' });
    expect((await failure(slow.authenticate(bearer(token)))).status).toBe(503);
  });
});

describe('checkAccess', () => {
  const clerk = { kind: 'person', sub: 'u', name: 'n', role: 'window-clerk', division: '440981' } as const;
  const taxSystem = { kind: 'system', department: 'tax', keyId: 'k' } as const;
  const status = (fn: () => void): number => {
    try {
      fn();
      return 200;
    } catch (e) {
      return (e as HttpException).getStatus();
    }
  };
  const message = (fn: () => void): string => {
    try {
      fn();
      return '';
    } catch (e) {
      return ((e as HttpException).getResponse() as { message: string }).message;
    }
  };

  it('lets declared roles and departments through and refuses the rest with 403', () => {
    expect(status(() => checkAccess(clerk, { roles: ['window-clerk'] }))).toBe(200);
    expect(status(() => checkAccess(clerk, { roles: ['county-approver'] }))).toBe(403);
    expect(status(() => checkAccess(clerk, { departments: ['*'] }))).toBe(403);
    expect(status(() => checkAccess(taxSystem, { departments: ['tax'] }))).toBe(200);
    expect(status(() => checkAccess(taxSystem, { departments: ['*'] }))).toBe(200);
    expect(status(() => checkAccess(taxSystem, { departments: ['public-security'] }))).toBe(403);
    expect(status(() => checkAccess(taxSystem, { roles: ['admin'] }))).toBe(403);
  });

  it('refuses everyone on a route that declares no access', () => {
    expect(status(() => checkAccess(clerk, {}))).toBe(403);
    expect(status(() => checkAccess(taxSystem, {}))).toBe(403);
  });

  it('refuses a person whose division is at a level their role does not work at', () => {
    const person = (role: Role, division: string) => ({ kind: 'person' as const, sub: 'u', name: 'n', role, division });
    expect(message(() => checkAccess(person('surveyor', '44'), { roles: ['surveyor'] }))).toBe('role surveyor works at township or village level, not province level (division 44)');
    expect(message(() => checkAccess(person('grassroots-reviewer', '440981'), { roles: ['grassroots-reviewer'] }))).toBe(
      'role grassroots-reviewer works at township or village level, not county level (division 440981)',
    );
    expect(status(() => checkAccess(person('grassroots-reviewer', '440981002'), { roles: ['grassroots-reviewer'] }))).toBe(200);
    expect(status(() => checkAccess(person('county-approver', '440981002'), { roles: ['county-approver'] }))).toBe(403);
    expect(status(() => checkAccess(person('county-approver', '440981'), { roles: ['county-approver'] }))).toBe(200);
    expect(status(() => checkAccess(person('analyst', '44'), { roles: ['analyst'] }))).toBe(200);
    expect(status(() => checkAccess(person('analyst', '440981002001'), { roles: ['analyst'] }))).toBe(403);
  });
});
