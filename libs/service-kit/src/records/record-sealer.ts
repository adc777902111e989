import { createCipheriv, createDecipheriv, createHmac } from 'crypto';
import type { KeyObject } from 'crypto';
import { deflateRawSync, inflateRawSync } from 'zlib';
import type { LogSealer } from '@qmcb/event-log';
import { sealerFor, sealingFromEnv } from '@qmcb/event-log';
import type { RegistrationRecord } from '@qmcb/domain';

/** A sealed value's first byte: its canonical JSON sealed as it is. */
const FORMAT_PLAIN = 1;
/** Its canonical JSON deflated (raw, level 1), then sealed; the format is in the AAD (ADR 0012). */
const FORMAT_DEFLATED = 2;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/**
 * Values of this many bytes of JSON or more are deflated before sealing (ADR 0012): a person record
 * of ~2-4 KB becomes a third of that, which PostgreSQL keeps in the row instead of TOASTing it
 * (ciphertext does not compress), several times cheaper to write. A smaller value fits in the row
 * anyway, and deflating it would only cost CPU.
 */
const DEFLATE_FROM_BYTES = 1024;
/** Bound on what a sealed value inflates to (it is authenticated first; this only bounds memory). */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

/**
 * Whether sealing deflates (ADR 0012). `SEAL_COMPRESSION=off` is for a rolling upgrade from a
 * version that cannot open deflated values: set it until every replica runs this version. Values
 * of either format are always opened.
 */
export function sealCompression(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env['SEAL_COMPRESSION'];
  if (v === undefined || v === '' || v === 'on') return true;
  if (v === 'off') return false;
  throw new Error(`SEAL_COMPRESSION: must be on or off (got ${JSON.stringify(v)})`);
}

/**
 * What `person_record.record` keeps readable for SQL (ADR 0011, stage 3): statuses, divisions and
 * dates the exports and lists select on, and nothing that names, reaches or describes a person. The
 * whole record is in `sealed`.
 */
export interface RecordFacts {
  version: number;
  citizenIdValid: boolean;
  hukouDivision: string | null;
  hukouStatus: string | null;
  insurance: Record<string, { region: string; status: string }>;
  migration: { movedOutOn: string | null; movedOutFrom: string | null } | null;
}

export function factsOf(r: RegistrationRecord): RecordFacts {
  const insurance: RecordFacts['insurance'] = {};
  for (const [key, e] of Object.entries(r.insurance ?? {})) insurance[key] = { region: e.region, status: e.status };
  return {
    version: r.version,
    citizenIdValid: r.citizenIdValid,
    hukouDivision: r.hukouDivision,
    hukouStatus: r.hukouStatus,
    insurance,
    migration: r.migration ? { movedOutOn: r.migration.movedOutOn, movedOutFrom: r.migration.movedOutFrom } : null,
  };
}

/** A row of `person_record` as read: `sealed` null for a row written before ADR 0011 (`record` is then the whole record). */
export interface StoredRecordRow {
  person_key: string;
  record: unknown;
  sealed: Buffer | null;
}

/** A personal value to seal: whose it is (their person key) and the value (any JSON). */
export interface PersonalValue {
  personKey: string;
  value: unknown;
}

/** A value as stored: `sealed` (null: a row written before it was sealed, whose value is `plain`). */
export interface StoredPersonalValue {
  personKey: string;
  sealed: Buffer | null;
  plain?: unknown;
}

/**
 * Seals personal values of the projections (ADR 0011) under each person's data key, the keyring of
 * ADR 0009, and opens them back. AES-256-GCM; the AAD is the `place` (a table and column, e.g.
 * `review_item.form`) and the person ref, so a sealed value cannot be moved to another person's row
 * or another column. The IV is synthetic (HMAC-SHA256 of the AAD and the plaintext under the data
 * key, 12 bytes) and the plaintext canonical JSON (keys sorted): the same value seals to the same
 * bytes, so a projection still equals its own rebuild byte for byte, and an IV repeats only with its
 * plaintext. When a person's key is shredded (erased), no copy of their values opens any more (old
 * schemas and backups included): `seal` answers null for them (write nothing of theirs) and `open`
 * undefined (read as absent).
 */
export class PersonalDataSealer {
  private readonly log: () => Promise<LogSealer>;

  /**
   * `log`: the log's sealer, or how to get the process's one at each use (`() => sealerFor(settings)`,
   * as the log transport does: after `closeSealers`, e.g. a rebuild run in the same process, the next
   * use connects again instead of using a closed keyring).
   */
  constructor(log: LogSealer | Promise<LogSealer> | (() => Promise<LogSealer>)) {
    if (typeof log === 'function') {
      this.log = log;
    } else {
      const fixed = Promise.resolve(log);
      // Looked at when first used; a configuration error then surfaces there, not as an unhandled rejection.
      fixed.catch(() => undefined);
      this.log = () => fixed;
    }
  }

  private get logSealer(): Promise<LogSealer> {
    return this.log();
  }

  /** The sealer of the process's environment (KEYRING_MASTER_KEYS, LOG_PERSON_REF_SECRET, KEYRING_DATABASE_URL), connected when first used: for tests and commands. */
  static fromEnv(env: Record<string, string | undefined> = process.env): PersonalDataSealer {
    return new PersonalDataSealer(() => sealerFor({ sealing: sealingFromEnv(env) }));
  }

  /** The person ref of a key (ADR 0009's HMAC, as readable on the log): a blind index of the key, for finding sealed rows that concern a person. */
  async personRef(personKey: string): Promise<string> {
    return (await this.logSealer).personRef(personKey);
  }

  /** The sealed bytes of each value, in order (one keyring call for all; keys made for people who have none); null for an erased person. */
  async seal(place: string, items: readonly PersonalValue[]): Promise<(Buffer | null)[]> {
    if (items.length === 0) return [];
    const log = await this.logSealer;
    const refs = items.map((i) => log.personRef(i.personKey));
    const keys = await log.keyring.getOrCreate(refs);
    return items.map((item, i) => {
      const ref = refs[i] as string;
      const state = keys.get(ref);
      if (!state) throw new Error(`the keyring returned no key for person ref ${ref}`);
      if (state.kind === 'shredded') return null;
      return sealValue(state.dek, place, ref, Buffer.from(canonicalJson(item.value), 'utf8'));
    });
  }

  /**
   * The values, in order: sealed ones opened (one keyring look-up for all), plain ones (`sealed`
   * null, written before) as they are; undefined for an erased person. Throws on a value that does
   * not open (altered, or moved from another person's row or another place).
   */
  async open<T>(place: string, items: readonly StoredPersonalValue[]): Promise<(T | undefined)[]> {
    const sealed = items.some((i) => i.sealed !== null && i.sealed !== undefined);
    const log = sealed ? await this.logSealer : null;
    // Each sealed value's person ref, computed once (an HMAC each).
    const refs = items.map((i) => (log && i.sealed !== null && i.sealed !== undefined ? log.personRef(i.personKey) : null));
    const keys = log ? await log.keyring.get(refs.filter((r): r is string => r !== null)) : new Map();
    return items.map((item, i) => {
      if (item.sealed === null || item.sealed === undefined) return item.plain as T;
      const ref = refs[i] as string;
      const state = keys.get(ref);
      if (!state) throw new Error(`${place}: the keyring has no key for person ref ${ref} (is KEYRING_DATABASE_URL the keyring these values were sealed with?)`);
      if (state.kind === 'shredded') return undefined;
      return JSON.parse(openValue(state.dek, place, ref, item.sealed).toString('utf8')) as T;
    });
  }
}

/**
 * Seals person records for `person_record` under the person's data key (the keyring of ADR 0009)
 * and opens them back. AES-256-GCM; the AAD names the table and the person ref, so a sealed record
 * cannot be moved to another person's row. The IV is synthetic (HMAC-SHA256 of the AAD and the
 * plaintext under the data key, first 12 bytes): the same record seals to the same bytes, so a
 * projection still equals its own rebuild byte for byte, and an IV repeats only with its plaintext.
 * When the person's key is shredded (erased), nothing opens any copy of their records: old schemas
 * and backups included.
 */
export class RecordSealer {
  private readonly values: PersonalDataSealer;

  constructor(log: LogSealer | Promise<LogSealer> | (() => Promise<LogSealer>)) {
    this.values = new PersonalDataSealer(log);
  }

  /** The process's sealer for these settings (the log's keyring connection, ADR 0009). */
  static async forSettings(settings: Parameters<typeof sealerFor>[0]): Promise<RecordSealer> {
    return new RecordSealer(await sealerFor(settings));
  }

  /** The sealer of the process's environment (KEYRING_MASTER_KEYS, LOG_PERSON_REF_SECRET, KEYRING_DATABASE_URL), connected when first used: for tests and commands. */
  static fromEnv(env: Record<string, string | undefined> = process.env): RecordSealer {
    return new RecordSealer(() => sealerFor({ sealing: sealingFromEnv(env) }));
  }

  /**
   * The sealed bytes of each record, by person key; a person whose key is shredded (erased) is
   * absent: their record is not written again (ADR 0010 deleted it).
   */
  async seal(records: readonly RegistrationRecord[]): Promise<Map<string, Buffer>> {
    const sealed = await this.values.seal(PLACE, records.map((r) => ({ personKey: r.personKey, value: r })));
    const out = new Map<string, Buffer>();
    records.forEach((r, i) => {
      const bytes = sealed[i];
      if (bytes) out.set(r.personKey, bytes);
    });
    return out;
  }

  /**
   * The records of these rows, by person key: sealed ones opened (one keyring look-up for all),
   * plain ones (written before ADR 0011) as they are; a person whose key is shredded is absent.
   */
  async open(rows: readonly StoredRecordRow[]): Promise<Map<string, RegistrationRecord>> {
    const opened = await this.values.open<RegistrationRecord>(PLACE, rows.map((r) => ({ personKey: r.person_key, sealed: r.sealed ?? null, plain: r.record })));
    const out = new Map<string, RegistrationRecord>();
    rows.forEach((r, i) => {
      const record = opened[i];
      if (record !== undefined) out.set(r.person_key, record);
    });
    return out;
  }
}

/**
 * JSON with every object's keys in sorted order: the same record gives the same text whichever way
 * it was built (in memory across a rebuild's chunk, or read back between live batches, where a key
 * whose value was undefined is gone and comes back at the end), so its sealed bytes are the same too.
 */
export function canonicalJson(value: unknown): string {
  return canonicalOf(value) ?? 'null';
}

/**
 * A key written as JSON: most keys of a record are plain ASCII names, quoted as they are (what
 * `JSON.stringify` gives them); any other goes through `JSON.stringify`.
 */
const PLAIN_KEY = /^[\w$.:-]*$/;

/**
 * The canonical text of a value, or undefined where `JSON.stringify` would leave the value out of an
 * object (undefined, a function, a symbol). One string built left to right: this runs for every
 * record a fold writes (issue 11: it was the largest self time of sealing).
 */
function canonicalOf(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
      return JSON.stringify(value);
    case 'object':
      break;
    case 'function':
      // Reached only at the top or from a toJSON: JSON.stringify's own answer, as before.
      return JSON.stringify(value);
    default:
      return undefined;
  }
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return canonicalOf(withJson.toJSON());
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // A hole is written as null (valid JSON; the first version wrote nothing there, which no
      // sealed value could have been opened from).
      const v: unknown = value[i];
      out += typeof v === 'function' ? 'null' : (canonicalOf(v) ?? 'null');
    }
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = obj[key];
    if (v === undefined || typeof v === 'function') continue;
    const text = canonicalOf(v) ?? 'null';
    out += first ? '' : ',';
    out += PLAIN_KEY.test(key) ? `"${key}":` : `${JSON.stringify(key)}:`;
    out += text;
    first = false;
  }
  return `${out}}`;
}

const PLACE = 'person_record';

function aadOf(place: string, ref: string, format: number): Buffer {
  // Format 1's AAD is what it always was; later formats name themselves in it.
  return Buffer.from(format === FORMAT_PLAIN ? `${place}\n${ref}` : `${place}\n${ref}\n${format}`, 'utf8');
}

/**
 * Seals `plain` (canonical JSON) for `place` and the person `ref`: deflated first when `deflate` and
 * at least DEFLATE_FROM_BYTES long (the same value always seals to the same bytes either way).
 */
export function sealValue(dek: KeyObject | Buffer, place: string, ref: string, plain: Buffer, deflate = sealCompression()): Buffer {
  const format = deflate && plain.length >= DEFLATE_FROM_BYTES ? FORMAT_DEFLATED : FORMAT_PLAIN;
  const body = format === FORMAT_DEFLATED ? deflateRawSync(plain, { level: 1 }) : plain;
  const aad = aadOf(place, ref, format);
  const iv = createHmac('sha256', dek).update(aad).update(Buffer.of(0)).update(body).digest().subarray(0, IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dek, iv);
  cipher.setAAD(aad);
  // One copy into the result (GCM's final() gives no bytes, but is what computes the tag).
  const encrypted = cipher.update(body);
  const rest = cipher.final();
  return Buffer.concat([Buffer.of(format), iv, encrypted, rest, cipher.getAuthTag()]);
}

/** The canonical JSON a sealed value holds (inflated if it was deflated); throws if it does not open for this place and person. */
export function openValue(dek: KeyObject | Buffer, place: string, ref: string, sealed: Buffer): Buffer {
  const format = sealed[0];
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || (format !== FORMAT_PLAIN && format !== FORMAT_DEFLATED)) throw new Error(`${place}: a sealed value of an unknown format (${format})`);
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', dek, iv);
  decipher.setAAD(aadOf(place, ref, format));
  decipher.setAuthTag(tag);
  const body = Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  return format === FORMAT_DEFLATED ? inflateRawSync(body, { maxOutputLength: MAX_INFLATED_BYTES }) : body;
}
