import { createHmac, timingSafeEqual } from 'crypto';

/** The header of a webhook call that carries its signature. */
export const SIGNATURE_HEADER = 'x-qmcb-signature';

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the subscriber recomputes it with
 * the secret it was given when the subscription was registered, and refuses a call whose time is too
 * far from its own (a replayed call).
 */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** What a subscriber does with a call: true when the signature is the secret's and the time within tolerance. */
export function verifyWebhook(secret: string, header: string | undefined, body: string, nowUnixSeconds: number, toleranceSeconds = 300): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts['t']);
  const given = parts['v1'];
  if (!Number.isInteger(t) || !given || !/^[0-9a-f]{64}$/.test(given)) return false;
  if (Math.abs(nowUnixSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'), 'hex');
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}
