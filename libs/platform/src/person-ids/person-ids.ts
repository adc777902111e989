import { createCipheriv, createHmac, createSecretKey, hkdfSync, timingSafeEqual } from 'crypto';
import type { KeyObject } from 'crypto';

/**
 * Opaque person IDs (docs/security.md, "Person IDs"): what URLs, lists and clients carry instead of
 * the person key, which is the citizen ID itself. Deterministic authenticated encryption (SIV: the
 * IV is an HMAC of the plaintext), so every service derives the same ID for a person without a
 * lookup table, can turn it back into the key, and refuses any ID it did not make.
 *
 *   plaintext = kind byte ‖ 16 bytes (a citizen ID as BCD, `X` = 0xA; a surrogate key's 16 bytes)
 *   tag       = HMAC-SHA256(macKey, plaintext)[0..16]
 *   id        = base32(tag ‖ AES-256-CTR(encKey, iv = tag, plaintext))        (53 characters a-z2-7)
 *
 * The alphabet has no 0, 1, 8 or 9, so an ID never looks like a citizen ID or a mobile number to
 * the log masking.
 */
const TAG_BYTES = 16;
const BODY_BYTES = 17;
const ID_LENGTH = Math.ceil(((TAG_BYTES + BODY_BYTES) * 8) / 5);
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
export const PERSON_ID_PATTERN = new RegExp(`^[a-z2-7]{${ID_LENGTH}}$`);
const CITIZEN_KEY = /^\d{17}[\dX]$/;
const SURROGATE_KEY = /^X-[0-9a-f]{32}$/;
/** A person key PersonIds can make an ID of: a citizen ID (18 characters) or a surrogate key `X-<32 hex>`. */
export const PERSON_KEY_PATTERN = /^(\d{17}[\dX]|X-[0-9a-f]{32})$/;

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Buffer {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    value = (value << 5) | ALPHABET.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function encodeKey(personKey: string): Buffer {
  const body = Buffer.alloc(BODY_BYTES);
  if (CITIZEN_KEY.test(personKey)) {
    body[0] = 1;
    for (let i = 0; i < 18; i += 1) {
      const digit = personKey[i] === 'X' ? 10 : Number(personKey[i]);
      body[1 + (i >> 1)] |= i % 2 === 0 ? digit << 4 : digit;
    }
    return body;
  }
  if (SURROGATE_KEY.test(personKey)) {
    body[0] = 2;
    Buffer.from(personKey.slice(2), 'hex').copy(body, 1);
    return body;
  }
  throw new Error('not a person key');
}

function decodeKey(body: Buffer): string | undefined {
  if (body[0] === 1) {
    let key = '';
    for (let i = 0; i < 18; i += 1) {
      const digit = i % 2 === 0 ? body[1 + (i >> 1)] >> 4 : body[1 + (i >> 1)] & 15;
      key += digit === 10 ? 'X' : String(digit);
    }
    return CITIZEN_KEY.test(key) && body.subarray(10).every((b) => b === 0) ? key : undefined;
  }
  if (body[0] === 2) return `X-${body.subarray(1).toString('hex')}`;
  return undefined;
}

/** Key objects, not buffers: HMAC and cipher set-up from a KeyObject cost about half (every row of a key column, ADR 0011 stage 5). */
interface Keys {
  mac: KeyObject;
  enc: KeyObject;
}

function deriveKeys(secret: string): Keys {
  const okm = Buffer.from(hkdfSync('sha256', secret, 'qmcb.person-id', 'v1', 64));
  return { mac: createSecretKey(okm.subarray(0, 32)), enc: createSecretKey(okm.subarray(32)) };
}

function ctr(keys: Keys, iv: Buffer, data: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-ctr', keys.enc, iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

function tagOf(keys: Keys, body: Buffer): Buffer {
  return createHmac('sha256', keys.mac).update(body).digest().subarray(0, TAG_BYTES);
}

function idUnder(keys: Keys, body: Buffer): string {
  const tag = tagOf(keys, body);
  return base32(Buffer.concat([tag, ctr(keys, tag, body)]));
}

export class PersonIds {
  private readonly current: Keys;
  private readonly previous?: Keys;

  /** `previousSecret`: IDs made with it are still read (during a rotation); new IDs use `secret`. */
  constructor(secret: string, previousSecret?: string) {
    if (!secret) throw new Error('PersonIds needs a secret');
    this.current = deriveKeys(secret);
    if (previousSecret) this.previous = deriveKeys(previousSecret);
  }

  /** The person ID of a person key. */
  idOf(personKey: string): string {
    return idUnder(this.current, encodeKey(personKey));
  }

  /**
   * Every ID of a person key this deployment reads: the current secret's and, during a rotation,
   * the previous one's (what was stored under either names the person: the audit trail's search).
   */
  idsOf(personKey: string): string[] {
    const body = encodeKey(personKey);
    return [this.current, this.previous].flatMap((keys) => (keys ? [idUnder(keys, body)] : []));
  }

  /** The person key of an ID this deployment made, or undefined for anything else. */
  keyOf(personId: string): string | undefined {
    if (typeof personId !== 'string' || !PERSON_ID_PATTERN.test(personId)) return undefined;
    const bytes = unbase32(personId);
    // One spelling per ID: the last character's padding bits must be zero.
    if (base32(bytes.subarray(0, TAG_BYTES + BODY_BYTES)) !== personId) return undefined;
    const tag = bytes.subarray(0, TAG_BYTES);
    const sealed = bytes.subarray(TAG_BYTES, TAG_BYTES + BODY_BYTES);
    for (const keys of [this.current, this.previous]) {
      if (!keys) continue;
      const body = ctr(keys, tag, sealed);
      if (timingSafeEqual(tagOf(keys, body), tag)) return decodeKey(body);
    }
    return undefined;
  }
}
