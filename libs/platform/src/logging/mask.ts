/*
 * Personal data never reaches a log line unmasked (docs/security.md, Masking). Two nets:
 * patterns in any string (citizen IDs, mobile numbers), and keys that name personal fields.
 */

const CITIZEN_ID_18 = /(?<!\d)(\d{6})(\d{8})(\d{3}[\dXx])(?![\dXx])/g;
const CITIZEN_ID_15 = /(?<!\d)(\d{6})(\d{5})(\d{4})(?!\d)/g;
const MOBILE = /(?<!\d)(\+?86[- ]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)/g;

const stars = (n: number): string => '*'.repeat(Math.max(n, 1));

/** Masks citizen IDs (first 6 + last 4 kept) and mobile numbers (first 3 + last 4 kept) in free text. */
export function maskText(text: string): string {
  return text
    .replace(CITIZEN_ID_18, (_m, head: string, mid: string, tail: string) => `${head}${stars(mid.length)}${tail}`)
    .replace(CITIZEN_ID_15, (_m, head: string, mid: string, tail: string) => `${head}${stars(mid.length)}${tail}`)
    .replace(MOBILE, (_m, prefix: string | undefined, head: string, _mid: string, tail: string) => `${prefix ?? ''}${head}****${tail}`);
}

// Runs of Chinese characters (CJK unified ideographs, extension A, compatibility): in free text a name
// or an address cannot be told from other words, so every run is masked as a name is.
const HAN_RUN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/gu;

/**
 * maskText, and every run of Chinese characters masked like a name (`李小宝` → `李**`): for free text
 * kept for a long time (the audit trail's `detail`), where a name or an address may have been put
 * into a message (`李小宝 is already a member of this household (孙女)` → `李** is already … (孙**)`).
 */
export function maskFreeText(text: string): string {
  return maskText(text).replace(HAN_RUN, (run) => maskNameValue(run));
}

type KeyRule = (value: string) => string;

function maskCitizenIdValue(value: string): string {
  return value.length > 10 ? `${value.slice(0, 6)}${stars(value.length - 10)}${value.slice(-4)}` : stars(value.length);
}

function maskPhoneValue(value: string): string {
  const digits = value.replace(/\D/g, '');
  if (/^1[3-9]\d{9}$/.test(digits.slice(-11)) && digits.length <= 13) return `${digits.slice(-11, -8)}****${digits.slice(-4)}`;
  return value.length > 4 ? `${stars(value.length - 4)}${value.slice(-4)}` : stars(value.length);
}

function maskNameValue(value: string): string {
  // A fixed-width mask: the length of a name is itself a clue.
  const chars = [...value];
  return chars.length > 1 ? `${chars[0]}**` : '*';
}

function maskBirthDateValue(value: string): string {
  // The year alone: with the division, a full birth date narrows a person down to a handful.
  return /^\d{4}/.test(value) ? `${value.slice(0, 4)}-**-**` : '****';
}

function maskAddressValue(value: string): string {
  // Province and city (the first 6 characters) are kept only for a long address.
  const chars = [...value];
  return chars.length > 10 ? `${chars.slice(0, 6).join('')}****` : '****';
}

/** Keys whose values are personal whatever they look like. */
function ruleForKey(key: string): KeyRule | undefined {
  const k = key.toLowerCase();
  if (k.startsWith('citizenid') || k === 'idnumber' || k === 'idcard') return maskCitizenIdValue;
  if (k === 'name' || k === 'fullname' || k === 'realname') return maskNameValue;
  if (k.endsWith('address')) return maskAddressValue;
  if (k.endsWith('phone') || k === 'mobile') return maskPhoneValue;
  if (k === 'birthdate' || k === 'dateofbirth') return maskBirthDateValue;
  return undefined;
}

const MAX_DEPTH = 10;

function walk(value: unknown, rule: KeyRule | undefined, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'string') return rule ? rule(value) : maskText(value);
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (rule) return rule(String(value));
    const text = String(value);
    const masked = maskText(text);
    return masked === text ? value : masked;
  }
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `[Buffer ${value.length} bytes]`;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => walk(v, rule, seen, depth + 1));
    if (value instanceof Error) {
      return { name: value.name, message: walk(value.message, rule, seen, depth + 1), stack: walk(value.stack ?? '', rule, seen, depth + 1) };
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, rule ?? ruleForKey(k), seen, depth + 1);
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * A copy of `value` safe to log: citizen IDs (18 and 15 digits) keep their first 6 and last 4
 * characters, mobile numbers their first 3 and last 4, and every value under a key named
 * name / address / phone / citizenId* (recursively, whatever its shape) is masked by its kind.
 */
export function maskPersonalData(value: unknown): unknown {
  return walk(value, undefined, new WeakSet(), 0);
}
