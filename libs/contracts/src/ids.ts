import { createHash, randomUUID } from 'crypto';

/**
 * Deterministic UUID (v5-shaped, SHA-1 over a namespace and name) so that a retried request or a
 * re-sent file yields the same event ID and is applied once.
 */
export function deterministicId(...parts: string[]): string {
  const h = createHash('sha1').update('qmcb:v1\u0000').update(parts.join('\u0000')).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function newId(): string {
  return randomUUID();
}
