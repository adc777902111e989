import { createCipheriv, createDecipheriv, createHmac } from 'crypto';
import type { KeyObject } from 'crypto';
import type { LogSealer } from '@qmcb/event-log';
import { sealerFor, sealingFromEnv } from '@qmcb/event-log';
import type { RegistrationRecord } from '@qmcb/domain';

const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

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
  private readonly logSealer: Promise<LogSealer>;

  constructor(log: LogSealer | Promise<LogSealer>) {
    this.logSealer = Promise.resolve(log);
    // Looked at when first used; a configuration error then surfaces there, not as an unhandled rejection.
    this.logSealer.catch(() => undefined);
  }

  /** The process's sealer for these settings (the log's keyring connection, ADR 0009). */
  static async forSettings(settings: Parameters<typeof sealerFor>[0]): Promise<RecordSealer> {
    return new RecordSealer(await sealerFor(settings));
  }

  /** The sealer of the process's environment (KEYRING_MASTER_KEYS, LOG_PERSON_REF_SECRET, KEYRING_DATABASE_URL), connected when first used: for tests and commands. */
  static fromEnv(env: Record<string, string | undefined> = process.env): RecordSealer {
    return new RecordSealer(sealerFor({ sealing: sealingFromEnv(env) }));
  }

  /**
   * The sealed bytes of each record, by person key; a person whose key is shredded (erased) is
   * absent: their record is not written again (ADR 0010 deleted it).
   */
  async seal(records: readonly RegistrationRecord[]): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    if (records.length === 0) return out;
    const log = await this.logSealer;
    const refs = records.map((r) => log.personRef(r.personKey));
    const keys = await log.keyring.getOrCreate(refs);
    records.forEach((record, i) => {
      const ref = refs[i] as string;
      const state = keys.get(ref);
      if (!state) throw new Error(`the keyring returned no key for person ref ${ref}`);
      if (state.kind === 'shredded') return;
      out.set(record.personKey, sealRecord(state.dek, ref, Buffer.from(canonicalJson(record), 'utf8')));
    });
    return out;
  }

  /**
   * The records of these rows, by person key: sealed ones opened (one keyring look-up for all),
   * plain ones (written before ADR 0011) as they are; a person whose key is shredded is absent.
   */
  async open(rows: readonly StoredRecordRow[]): Promise<Map<string, RegistrationRecord>> {
    const out = new Map<string, RegistrationRecord>();
    const sealed = rows.filter((r) => r.sealed !== null && r.sealed !== undefined);
    const log = sealed.length > 0 ? await this.logSealer : null;
    const refs = log ? sealed.map((r) => log.personRef(r.person_key)) : [];
    const keys = log ? await log.keyring.get(refs) : new Map();
    let i = 0;
    for (const row of rows) {
      if (row.sealed === null || row.sealed === undefined) {
        out.set(row.person_key, row.record as RegistrationRecord);
        continue;
      }
      const ref = refs[i++] as string;
      const state = keys.get(ref);
      if (!state) throw new Error(`person_record: the keyring has no key for person ref ${ref} (is KEYRING_DATABASE_URL the keyring these records were sealed with?)`);
      if (state.kind === 'shredded') continue;
      out.set(row.person_key, JSON.parse(openRecord(state.dek, ref, row.sealed).toString('utf8')) as RegistrationRecord);
    }
    return out;
  }
}

/**
 * JSON with every object's keys in sorted order: the same record gives the same text whichever way
 * it was built (in memory across a rebuild's chunk, or read back between live batches, where a key
 * whose value was undefined is gone and comes back at the end), so its sealed bytes are the same too.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return canonicalJson(withJson.toJSON());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined || typeof v === 'function') continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

function aadOf(ref: string): Buffer {
  return Buffer.from(`person_record\n${ref}`, 'utf8');
}

export function sealRecord(dek: KeyObject | Buffer, ref: string, plain: Buffer): Buffer {
  const aad = aadOf(ref);
  const iv = createHmac('sha256', dek).update(aad).update(Buffer.of(0)).update(plain).digest().subarray(0, IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dek, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([Buffer.of(FORMAT), iv, body, cipher.getAuthTag()]);
}

export function openRecord(dek: KeyObject | Buffer, ref: string, sealed: Buffer): Buffer {
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== FORMAT) throw new Error(`person_record: a sealed record of an unknown format (${sealed[0]})`);
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', dek, iv);
  decipher.setAAD(aadOf(ref));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
}
