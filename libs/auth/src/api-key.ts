import { createHmac, timingSafeEqual } from 'crypto';
import { DEPARTMENTS } from '@qmcb/contracts';
import type { Department } from '@qmcb/contracts';
import { CredentialsError } from './credentials.error';

export const API_KEY_PREFIX = 'qmcb';
/** Key IDs: letters, digits, `-` and `_` (no dots, which separate the parts of a key). */
export const API_KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_KEY_LENGTH = 256;

export interface ApiKeyIdentity {
  department: Department;
  keyId: string;
}

function isDepartment(value: string): value is Department {
  return (DEPARTMENTS as readonly string[]).includes(value);
}

function mac(department: string, keyId: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(`${department}.${keyId}`).digest();
}

/** `qmcb.<department>.<keyId>.<base64url(HMAC-SHA256(secret, "<department>.<keyId>"))>`. */
export function mintApiKey(department: Department, keyId: string, secret: string): string {
  if (!secret) throw new Error('a non-empty secret is required');
  if (!isDepartment(department)) throw new Error(`cannot mint API key: unknown department ${JSON.stringify(department)}`);
  if (!API_KEY_ID_PATTERN.test(keyId)) throw new Error('cannot mint API key: keyId must match [A-Za-z0-9_-]{1,64}');
  return `${API_KEY_PREFIX}.${department}.${keyId}.${mac(department, keyId, secret).toString('base64url')}`;
}

/**
 * Stateless check of a department API key: the HMAC binds the key ID to its department, so a key
 * cannot be relabelled as another department's. Throws CredentialsError (`malformed`/`invalid`).
 * Revocation is checked separately (ApiKeyRevocations), since it needs Redis.
 */
export function verifyApiKey(key: string, secret: string): ApiKeyIdentity {
  if (!secret) throw new Error('a non-empty secret is required');
  if (typeof key !== 'string' || key.length > MAX_KEY_LENGTH) throw new CredentialsError('malformed', 'malformed API key');
  const parts = key.split('.');
  if (parts.length !== 4 || parts[0] !== API_KEY_PREFIX) throw new CredentialsError('malformed', 'malformed API key');
  const [, department, keyId, given] = parts;
  if (!isDepartment(department) || !API_KEY_ID_PATTERN.test(keyId)) throw new CredentialsError('invalid', 'invalid API key');
  const expected = mac(department, keyId, secret);
  const actual = Buffer.from(given, 'base64url');
  // Compare fixed-length digests only: timingSafeEqual throws on a length mismatch.
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new CredentialsError('invalid', 'invalid API key');
  }
  return { department, keyId };
}
