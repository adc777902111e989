import { HttpException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mintApiKey } from './api-key';
import { AUTH_OPTIONS } from './auth.options';
import { Authenticator } from './authenticator';
import type { HeaderValue } from './authenticator';
import { API_KEY_REVOCATIONS, RedisApiKeyRevocations, REVOKED_API_KEYS_SET } from './revocation';
import { Role } from './role';
import { checkAccess } from './roles.guard';
import { mintToken } from './token';

const options = { jwtSecret: 'unit-jwt-secret', apiKeySecret: 'unit-api-key-secret' };

async function authenticatorWith(sIsMember: (key: string, member: string) => Promise<number>): Promise<Authenticator> {
  const moduleRef = await Test.createTestingModule({
    providers: [
      Authenticator,
      { provide: AUTH_OPTIONS, useValue: options },
      { provide: API_KEY_REVOCATIONS, useValue: new RedisApiKeyRevocations({ sIsMember }, 50) },
    ],
  }).compile();
  return moduleRef.get(Authenticator);
}

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (e) {
    if (e instanceof HttpException) return e.getStatus();
    throw e;
  }
}

describe('Authenticator', () => {
  const revoked = new Set(['gone-1']);
  const sIsMember = async (key: string, member: string): Promise<number> => (key === REVOKED_API_KEYS_SET && revoked.has(member) ? 1 : 0);
  const headers = (h: Record<string, HeaderValue>): Record<string, HeaderValue> => h;

  it('authenticates a bearer token and an API key', async () => {
    const auth = await authenticatorWith(sIsMember);
    const token = mintToken({ sub: 'u1', name: 'n', role: Role.Surveyor, division: '440981002001', ttlSeconds: 60 }, options.jwtSecret);
    await expect(auth.authenticate(headers({ authorization: `Bearer ${token}` }))).resolves.toMatchObject({ kind: 'person', role: 'surveyor' });
    const key = mintApiKey('tax', 'tax-1', options.apiKeySecret);
    await expect(auth.authenticate(headers({ 'x-api-key': key }))).resolves.toEqual({ kind: 'system', department: 'tax', keyId: 'tax-1' });
  });

  it('answers 401 for missing, malformed, ambiguous or revoked credentials', async () => {
    const auth = await authenticatorWith(sIsMember);
    const key = mintApiKey('tax', 'tax-1', options.apiKeySecret);
    expect(await statusOf(auth.authenticate(headers({})))).toBe(401);
    expect(await statusOf(auth.authenticate(headers({ authorization: 'Basic abc' })))).toBe(401);
    expect(await statusOf(auth.authenticate(headers({ authorization: 'Bearer x', 'x-api-key': key })))).toBe(401);
    expect(await statusOf(auth.authenticate(headers({ 'x-api-key': mintApiKey('tax', 'gone-1', options.apiKeySecret) })))).toBe(401);
  });

  it('fails closed (503) when the revocation list cannot be read', async () => {
    const down = await authenticatorWith(() => Promise.reject(new Error('connect ECONNREFUSED')));
    const slow = await authenticatorWith(() => new Promise<number>((resolve) => setTimeout(() => resolve(0), 500)));
    const key = mintApiKey('tax', 'tax-1', options.apiKeySecret);
    expect(await statusOf(down.authenticate(headers({ 'x-api-key': key })))).toBe(503);
    expect(await statusOf(slow.authenticate(headers({ 'x-api-key': key })))).toBe(503);
  });
});

describe('checkAccess', () => {
  const clerk = { kind: 'person', sub: 'u', name: 'n', role: 'window-clerk', division: '44' } as const;
  const taxSystem = { kind: 'system', department: 'tax', keyId: 'k' } as const;
  const status = (fn: () => void): number => {
    try {
      fn();
      return 200;
    } catch (e) {
      return (e as HttpException).getStatus();
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
});
