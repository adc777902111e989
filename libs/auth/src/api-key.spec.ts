import { createHmac } from 'crypto';
import { mintApiKey, verifyApiKey } from './api-key';
import { CredentialsError } from './credentials.error';

const SECRET = 'unit-test-api-key-secret';

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof CredentialsError) return e.reason;
    throw e;
  }
  return 'accepted';
}

describe('department API keys', () => {
  it('has the documented format and verifies into its department and key ID', () => {
    const key = mintApiKey('public-security', 'pso-1', SECRET);
    const hmac = createHmac('sha256', SECRET).update('public-security.pso-1').digest('base64url');
    expect(key).toBe(`qmcb.public-security.pso-1.${hmac}`);
    expect(verifyApiKey(key, SECRET)).toEqual({ department: 'public-security', keyId: 'pso-1' });
  });

  it('cannot be relabelled as another department', () => {
    const [prefix, , keyId, mac] = mintApiKey('public-security', 'pso-1', SECRET).split('.');
    expect(reason(() => verifyApiKey([prefix, 'tax', keyId, mac].join('.'), SECRET))).toBe('invalid');
  });

  it('cannot be relabelled as another key ID', () => {
    const [prefix, department, , mac] = mintApiKey('tax', 'tax-1', SECRET).split('.');
    expect(reason(() => verifyApiKey([prefix, department, 'tax-2', mac].join('.'), SECRET))).toBe('invalid');
  });

  it('refuses keys made with another secret, truncated MACs and malformed keys', () => {
    expect(reason(() => verifyApiKey(mintApiKey('tax', 'k', 'other-secret'), SECRET))).toBe('invalid');
    expect(reason(() => verifyApiKey(mintApiKey('tax', 'k', SECRET).slice(0, -2), SECRET))).toBe('invalid');
    expect(reason(() => verifyApiKey('qmcb.tax.k', SECRET))).toBe('malformed');
    expect(reason(() => verifyApiKey('nope.tax.k.abc', SECRET))).toBe('malformed');
    expect(reason(() => verifyApiKey('qmcb.unknown-dept.k.abc', SECRET))).toBe('invalid');
    expect(reason(() => verifyApiKey(`qmcb.tax.k.${'a'.repeat(300)}`, SECRET))).toBe('malformed');
  });

  it('does not mint keys for unknown departments or key IDs with dots', () => {
    expect(() => mintApiKey('unknown' as never, 'k', SECRET)).toThrow(/department/);
    expect(() => mintApiKey('tax', 'a.b', SECRET)).toThrow(/keyId/);
  });
});
