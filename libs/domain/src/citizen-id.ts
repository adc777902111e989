import { createHash } from 'crypto';
import type { Sex } from '@qmcb/contracts';
import { isProvinceCode } from './divisions';

/** Citizen ID numbers (公民身份号码) per GB 11643-1999. */

export const CITIZEN_ID_INVALID_REASONS = ['LENGTH', 'CHARACTERS', 'BIRTH_DATE', 'CHECKSUM', 'DIVISION'] as const;
export type CitizenIdInvalidReason = (typeof CITIZEN_ID_INVALID_REASONS)[number];

export interface ValidCitizenId {
  ok: true;
  /** Normalised 18-character ID; a 15-digit one is converted. */
  id: string;
  /** YYYY-MM-DD */
  birthDate: string;
  sex: Sex;
  /** Division of first registration: 6 digits. */
  divisionCode: string;
}

export interface InvalidCitizenId {
  ok: false;
  reason: CitizenIdInvalidReason;
  /** Never contains the ID itself, so it can be logged. */
  message: string;
}

export type CitizenIdValidation = ValidCitizenId | InvalidCitizenId;

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARACTERS = '10X98765432';

// GB/T 2260 codes the division package leaves out (台湾 71, 香港 81, 澳门 82), and 83: residence
// permits of Hong Kong, Macao (81, 82) and Taiwan (83) residents use this number format, and their
// holders can enrol in social insurance on the mainland.
const EXTRA_PROVINCE_CODES: ReadonlySet<string> = new Set(['71', '81', '82', '83']);

// IDs were first issued in 1984; nobody born before this ever held one, so an earlier date is a typo.
const EARLIEST_BIRTH_YEAR = 1850;

// China has used UTC+8 without daylight saving since 1991; "today" is the date there.
const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;

const FULL_WIDTH_DIGIT_ZERO = 0xff10;

export function normaliseCitizenId(raw: string): string {
  return raw
    .trim()
    .replace(/[\uff10-\uff19]/g, (c) => String(c.charCodeAt(0) - FULL_WIDTH_DIGIT_ZERO))
    .replace(/[xＸｘ]/g, 'X');
}

/** ISO 7064 MOD 11-2 check character of the first 17 digits. */
export function checkCharacter(first17: string): string {
  if (!/^\d{17}$/.test(first17)) {
    throw new RangeError('checkCharacter needs exactly 17 digits');
  }
  let sum = 0;
  for (let i = 0; i < 17; i += 1) {
    sum += Number(first17[i]) * WEIGHTS[i];
  }
  return CHECK_CHARACTERS[sum % 11];
}

/** Old 15-digit ID → 18 characters: "19" inserted before the 2-digit year, check character appended. */
export function convert15To18(id15: string): string {
  const id = normaliseCitizenId(id15);
  if (!/^\d{15}$/.test(id)) {
    throw new RangeError('convert15To18 needs exactly 15 digits');
  }
  const first17 = `${id.slice(0, 6)}19${id.slice(6)}`;
  return first17 + checkCharacter(first17);
}

function invalid(reason: CitizenIdInvalidReason, message: string): InvalidCitizenId {
  return { ok: false, reason, message };
}

function isRealDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth;
}

/** Today's date in China (UTC+8), YYYY-MM-DD. */
export function todayInChina(now: Date): string {
  return new Date(now.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** Everything but the clock: shared by validation and by the person key, which must never change. */
function checkStructure(raw: string): { id: string; birthDate: string } | InvalidCitizenId {
  const normalised = normaliseCitizenId(raw);
  if (normalised.length !== 18 && normalised.length !== 15) {
    return invalid('LENGTH', `a citizen ID has 18 characters (or 15 digits for an old one), got ${normalised.length}`);
  }
  let id: string;
  if (normalised.length === 15) {
    if (!/^\d{15}$/.test(normalised)) {
      return invalid('CHARACTERS', 'a 15-character citizen ID must be all digits');
    }
    id = convert15To18(normalised);
  } else {
    if (!/^\d{17}[\dX]$/.test(normalised)) {
      return invalid('CHARACTERS', 'a citizen ID must be 17 digits followed by a digit or X');
    }
    // Checked before the fields so that any single mistyped character is reported as what it is.
    if (checkCharacter(normalised.slice(0, 17)) !== normalised[17]) {
      return invalid('CHECKSUM', 'the check character does not match (ISO 7064 MOD 11-2)');
    }
    id = normalised;
  }
  const province = id.slice(0, 2);
  if (!isProvinceCode(province) && !EXTRA_PROVINCE_CODES.has(province)) {
    return invalid('DIVISION', `division code starts with ${province}, which is no province code`);
  }
  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  if (year < EARLIEST_BIRTH_YEAR || !isRealDate(year, month, day)) {
    return invalid('BIRTH_DATE', 'the birth date is not a real date');
  }
  return { id, birthDate: `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}` };
}

/**
 * Validates a citizen ID as a department or a person typed it. `now` decides what "in the future"
 * means for the birth date; inject it wherever the result must be reproducible.
 */
export function validateCitizenId(raw: string, now: Date = new Date()): CitizenIdValidation {
  const structure = checkStructure(raw);
  if ('ok' in structure) return structure;
  const { id, birthDate } = structure;
  if (birthDate > todayInChina(now)) {
    return invalid('BIRTH_DATE', 'the birth date is in the future');
  }
  return {
    ok: true,
    id,
    birthDate,
    sex: Number(id[16]) % 2 === 1 ? 'male' : 'female',
    divisionCode: id.slice(0, 6),
  };
}

/** What a citizen ID encodes of its holder. */
export interface CitizenIdInfo {
  /** YYYY-MM-DD */
  birthDate: string;
  sex: Sex;
}

/**
 * The birth date and sex an ID encodes, independent of the clock (for an ID already judged valid:
 * a fold must not depend on today). Null when the ID is malformed.
 */
export function citizenIdInfo(raw: string): CitizenIdInfo | null {
  const structure = checkStructure(raw);
  if ('ok' in structure) return null;
  return { birthDate: structure.birthDate, sex: Number(structure.id[16]) % 2 === 1 ? 'male' : 'female' };
}

/**
 * The key of a person's record and of their events on the log: the normalised 18-character ID, or
 * `X-` and 32 hex characters of SHA-256 over the normalised input when the ID is malformed, so that
 * records with a bad ID are kept and grouped rather than dropped. Independent of the clock: an ID
 * whose birth date lies in the future still keys by itself (validation flags it), or its key would
 * change the day the date arrives.
 */
export function personKeyFor(raw: string): string {
  const structure = checkStructure(raw);
  if (!('ok' in structure)) return structure.id;
  return `X-${createHash('sha256').update(normaliseCitizenId(raw), 'utf8').digest('hex').slice(0, 32)}`;
}

export function isSurrogatePersonKey(personKey: string): boolean {
  return personKey.startsWith('X-');
}

/** For logs: the first 6 and last 4 characters stay, the rest become stars; a short value is starred whole. */
export function maskCitizenId(id: string): string {
  const value = normaliseCitizenId(id);
  if (value.length <= 10) return '*'.repeat(value.length);
  return `${value.slice(0, 6)}${'*'.repeat(value.length - 10)}${value.slice(-4)}`;
}

/**
 * Whether a log key is a person's (a citizen ID or an X- surrogate) rather than an organisational
 * stream's (`O-…`: a survey campaign or team), which has no registration record.
 */
export function isPersonKey(key: string): boolean {
  return !key.startsWith('O-');
}

/**
 * Every citizen-ID-shaped string in a text (any 18 characters of a run of digits ending in a digit
 * or X, as `strpos` would find the ID in it), upper-cased: whose lines an erasure must find once a
 * quarantined line (a bulk load's, a roster's) is sealed (ADR 0011).
 */
export function citizenIdsIn(text: string): string[] {
  const out = new Set<string>();
  for (const run of text.match(/[0-9Xx]{18,}/g) ?? []) {
    for (let i = 0; i + 18 <= run.length; i += 1) {
      const window = run.slice(i, i + 18).toUpperCase();
      if (/^\d{17}[\dX]$/.test(window)) out.add(window);
    }
  }
  return [...out];
}
