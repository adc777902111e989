import { sign } from 'jsonwebtoken';
import { CredentialsError } from './credentials.error';
import { Role } from './role';
import { mintToken, verifyToken } from './token';

const SECRET = 'unit-test-jwt-secret';
const input = { sub: 'u1', name: '张三', role: Role.CountyApprover, division: '440981', ttlSeconds: 3600 };

function failure(fn: () => unknown): CredentialsError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CredentialsError) return e;
    throw e;
  }
  throw new Error('expected a CredentialsError');
}

describe('people tokens', () => {
  it('verifies a token it minted into the person it names', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(verifyToken(mintToken({ ...input, jti: 'jti-1' }, SECRET, { now }), SECRET, { now })).toEqual({
      kind: 'person',
      sub: 'u1',
      name: '张三',
      role: 'county-approver',
      division: '440981',
      issuedAt: now.getTime() / 1000,
      tokenId: 'jti-1',
    });
  });

  it('refuses a token living longer than the maximum, or issued in the future', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const long = mintToken({ ...input, ttlSeconds: 13 * 3600 }, SECRET, { now });
    expect(failure(() => verifyToken(long, SECRET, { now })).message).toBe('invalid token: lifetime 46800 s exceeds the maximum of 43200 s');
    expect(verifyToken(long, SECRET, { now, maxTtlSeconds: 14 * 3600 }).sub).toBe('u1');
    const future = mintToken(input, SECRET, { now: new Date(now.getTime() + 120_000) });
    expect(failure(() => verifyToken(future, SECRET, { now })).message).toBe('invalid token: issued in the future');
  });

  it('refuses an expired token', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const token = mintToken({ ...input, ttlSeconds: 60 }, SECRET, { now });
    expect(verifyToken(token, SECRET, { now: new Date(now.getTime() + 59_000) }).sub).toBe('u1');
    const e = failure(() => verifyToken(token, SECRET, { now: new Date(now.getTime() + 61_000) }));
    expect(e.reason).toBe('expired');
  });

  it('refuses a tampered token', () => {
    const [header, payload, signature] = mintToken(input, SECRET).split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin', division: '44' })).toString('base64url');
    expect(failure(() => verifyToken(`${header}.${forged}.${signature}`, SECRET)).reason).toBe('invalid');
  });

  it('refuses a token signed with another secret', () => {
    expect(failure(() => verifyToken(mintToken(input, 'another-secret'), SECRET)).reason).toBe('invalid');
  });

  it('refuses a token for another audience or issuer', () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const base = { sub: 'u1', name: 'n', role: 'admin', division: '44', exp };
    const wrongAud = sign({ ...base, iss: 'qmcb', aud: 'other-api' }, SECRET, { algorithm: 'HS256' });
    const wrongIss = sign({ ...base, iss: 'other', aud: 'qmcb-api' }, SECRET, { algorithm: 'HS256' });
    expect(failure(() => verifyToken(wrongAud, SECRET)).message).toMatch(/audience/);
    expect(failure(() => verifyToken(wrongIss, SECRET)).message).toMatch(/issuer/);
  });

  it('refuses alg none, a token without exp, and unknown roles or bad divisions', () => {
    const claims = { sub: 'u1', name: 'n', role: 'admin', division: '44', iss: 'qmcb', aud: 'qmcb-api' };
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    expect(failure(() => verifyToken(none, SECRET)).reason).toBe('invalid');
    expect(failure(() => verifyToken(sign(claims, SECRET), SECRET)).message).toMatch(/exp is required/);
    const exp = Math.floor(Date.now() / 1000) + 600;
    expect(failure(() => verifyToken(sign({ ...claims, exp, role: 'root' }, SECRET), SECRET)).message).toMatch(/role/);
    expect(failure(() => verifyToken(sign({ ...claims, exp, division: '4409811' }, SECRET), SECRET)).message).toMatch(/division/);
  });

  it('does not mint tokens with invalid claims', () => {
    expect(() => mintToken({ ...input, role: 'root' }, SECRET)).toThrow(/role/);
    expect(() => mintToken({ ...input, division: '123' }, SECRET)).toThrow(/division/);
    expect(() => mintToken({ ...input, ttlSeconds: 0 }, SECRET)).toThrow(/ttlSeconds/);
    expect(() => mintToken(input, '')).toThrow(/secret/);
  });
});
