import { signWebhook, verifyWebhook } from './webhook-signature';

describe('webhook signatures (HMAC-SHA256)', () => {
  const secret = 'whsec-test';
  const body = JSON.stringify({ entries: [{ seq: 1 }] });

  it('given a signed call, when the subscriber checks it with the secret within the tolerance, then it is genuine', () => {
    const header = signWebhook(secret, body, 1_790_000_000);
    expect(header).toMatch(/^t=1790000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(secret, header, body, 1_790_000_100)).toBe(true);
  });

  it.each([
    ['another secret', 'other', body, 1_790_000_000],
    ['a changed body', secret, `${body} `, 1_790_000_000],
    ['a call older than the tolerance (replayed)', secret, body, 1_790_000_301],
  ])('given %s, then it is refused', (_what, checkSecret, checkBody, now) => {
    expect(verifyWebhook(checkSecret, signWebhook(secret, body, 1_790_000_000), checkBody, now)).toBe(false);
  });

  it('given no or a malformed header, then it is refused', () => {
    expect(verifyWebhook(secret, undefined, body, 1)).toBe(false);
    expect(verifyWebhook(secret, 't=x,v1=zz', body, 1)).toBe(false);
  });
});
