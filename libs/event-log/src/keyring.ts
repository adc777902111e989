import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'crypto';
import type { KeyObject } from 'crypto';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { openDataSource } from './database';
import { sql, text } from './sql';

/**
 * The keyring (ADR 0009): one random 256-bit data key (DEK) per person, in a database of its own
 * (KEYRING_DATABASE_URL, schema `keyring`), never in a service's schema nor on the log. Keys are
 * stored wrapped (AES-256-GCM) under a master key (KEK) from KEYRING_MASTER_KEYS. Destroying a
 * person's key (erase) makes every sealed event of the person unreadable: crypto-shredding.
 */

export const KEYRING_SCHEMA = 'keyring';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEK_ID = /^[A-Za-z0-9._-]{1,32}$/;

export class KeyringConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'KeyringConfigError';
  }
}

export interface MasterKey {
  id: string;
  key: Buffer;
}

/** `<id>:<base64 of 32 bytes>[,<id>:<base64>…]`, the first being the current one. Refuses anything else. */
export function parseMasterKeys(raw: string | undefined): MasterKey[] {
  const text = raw?.trim() ?? '';
  if (!text) throw new KeyringConfigError('KEYRING_MASTER_KEYS', 'is required: <id>:<base64 of 32 random bytes> (generate one: echo "k1:$(openssl rand -base64 32)")');
  const out: MasterKey[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p.length > 0)) {
    const colon = part.indexOf(':');
    const id = colon > 0 ? part.slice(0, colon) : '';
    if (!KEK_ID.test(id)) throw new KeyringConfigError('KEYRING_MASTER_KEYS', `each entry must be <id>:<base64>, the id ${KEK_ID}`);
    const b64 = part.slice(colon + 1);
    const key = Buffer.from(b64, 'base64');
    if (key.length !== KEY_BYTES || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64)) {
      throw new KeyringConfigError('KEYRING_MASTER_KEYS', `key "${id}" must be the base64 of exactly ${KEY_BYTES} bytes`);
    }
    if (key.equals(Buffer.alloc(KEY_BYTES))) throw new KeyringConfigError('KEYRING_MASTER_KEYS', `key "${id}" is all zeros`);
    if (out.some((k) => k.id === id)) throw new KeyringConfigError('KEYRING_MASTER_KEYS', `key id "${id}" is given twice`);
    out.push({ id, key });
  }
  if (out.length === 0) throw new KeyringConfigError('KEYRING_MASTER_KEYS', 'names no key');
  return out;
}

// Random bytes drawn from the CSPRNG in blocks (one call per block instead of one per IV or key:
// a call costs far more than the bytes); every byte is handed out once.
const POOL_BYTES = 64 * 1024;
let pool = Buffer.alloc(0);
let poolAt = 0;
export function freshRandom(n: number): Buffer {
  if (n > POOL_BYTES) return randomBytes(n);
  if (poolAt + n > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  const out = Buffer.from(pool.subarray(poolAt, poolAt + n));
  pool.fill(0, poolAt, poolAt + n);
  poolAt += n;
  return out;
}

/** AES-256-GCM: iv || ciphertext || tag. */
export function aesGcmSeal(key: Buffer | KeyObject, plain: Buffer, aad: Buffer): Buffer {
  const iv = freshRandom(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** Throws when the bytes were altered, the AAD differs or the key is not the one that sealed them. */
export function aesGcmOpen(key: Buffer | KeyObject, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('sealed bytes are too short');
  const iv = sealed.subarray(0, IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
}

const wrapAad = (personRef: string, kekId: string): Buffer => Buffer.from(`qmcb.keyring.v1|${personRef}|${kekId}`);

export class KeyringTables1764547200000 implements MigrationInterface {
  name = 'KeyringTables1764547200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table data_key (
        person_ref text primary key,
        wrapped_key bytea,
        kek_id text,
        created_at timestamptz not null default now(),
        rotated_at timestamptz,
        shredded_at timestamptz,
        shred_reason text,
        check ((shredded_at is null) = (wrapped_key is not null and kek_id is not null))
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table data_key`);
  }
}

/** What the keyring knows of a person's key. */
export type KeyState = { kind: 'key'; dek: KeyObject } | { kind: 'shredded' };

export class UnknownMasterKeyError extends Error {
  constructor(readonly kekId: string) {
    super(`a data key is wrapped under master key "${kekId}", which KEYRING_MASTER_KEYS does not name (keep old keys listed until "keyring rotate" has run)`);
    this.name = 'UnknownMasterKeyError';
  }
}

export interface KeyringOptions {
  url: string;
  masterKeys: MasterKey[];
  /** Unwrapped keys kept in memory (LRU); default 10,000. */
  cacheSize?: number;
  /** How long a cached key is trusted before the database is asked again (so an erasure reaches running processes); default 60 s. */
  cacheTtlMs?: number;
  runMigrations?: boolean;
}

export interface KeyringStatus {
  keys: number;
  shredded: number;
  byMasterKey: Record<string, number>;
  currentMasterKey: string;
}

/** Per-person data keys in their own database, wrapped under the master key. */
export class Keyring {
  private readonly cache = new Map<string, { state: KeyState; at: number }>();
  private readonly cacheSize: number;
  private readonly cacheTtlMs: number;
  /**
   * The master keys as key objects, made once: a cipher made from a key object skips copying and
   * checking the raw key on every wrap and unwrap (one of each per new person, per process).
   */
  private readonly kekObjects: Map<string, KeyObject>;

  private constructor(
    private readonly dataSource: DataSource,
    private readonly masterKeys: MasterKey[],
    opts: KeyringOptions,
  ) {
    this.cacheSize = Math.max(0, opts.cacheSize ?? 10_000);
    this.cacheTtlMs = opts.cacheTtlMs ?? 60_000;
    this.kekObjects = new Map(masterKeys.map((k) => [k.id, createSecretKey(k.key)]));
  }

  /** The master key named `kekId`, as a key object; throws UnknownMasterKeyError when none is configured. */
  private kek(kekId: string): KeyObject {
    const kek = this.kekObjects.get(kekId);
    if (!kek) throw new UnknownMasterKeyError(kekId);
    return kek;
  }

  static async open(opts: KeyringOptions): Promise<Keyring> {
    if (opts.masterKeys.length === 0) throw new KeyringConfigError('KEYRING_MASTER_KEYS', 'names no key');
    let dataSource: DataSource;
    try {
      dataSource = await openDataSource({ url: opts.url, schema: KEYRING_SCHEMA, migrations: [KeyringTables1764547200000], runMigrations: opts.runMigrations ?? true, poolSize: 4, allowExitOnIdle: true });
    } catch (e) {
      if (e instanceof Error && 'code' in e && e.code === '3D000') {
        throw new KeyringConfigError('KEYRING_DATABASE_URL', `the keyring database does not exist (${e.message}); create it (deploy/local/up.sh does)`);
      }
      throw e;
    }
    return new Keyring(dataSource, opts.masterKeys, opts);
  }

  get current(): MasterKey {
    return this.masterKeys[0] as MasterKey;
  }

  async close(): Promise<void> {
    this.cache.clear();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  /** Every person's key, created when missing (insert … on conflict do nothing returning; only refs already there are selected). */
  async getOrCreate(personRefs: readonly string[]): Promise<Map<string, KeyState>> {
    return this.lookup(personRefs, true);
  }

  /** Keys of persons that have one; a person without a row is absent from the map. */
  async get(personRefs: readonly string[]): Promise<Map<string, KeyState>> {
    return this.lookup(personRefs, false);
  }

  private async lookup(personRefs: readonly string[], create: boolean): Promise<Map<string, KeyState>> {
    const out = new Map<string, KeyState>();
    const missing: string[] = [];
    const now = Date.now();
    for (const ref of new Set(personRefs)) {
      const hit = this.cache.get(ref);
      if (hit && now - hit.at < this.cacheTtlMs) {
        // LRU: most recently used last.
        this.cache.delete(ref);
        this.cache.set(ref, hit);
        out.set(ref, hit.state);
      } else {
        missing.push(ref);
      }
    }
    if (missing.length === 0) return out;
    let existing = missing;
    if (create) {
      // The keys this call creates are used as made: the rows it inserted (`returning`) need no
      // select and no unwrap. Only refs whose row was already there (made by another process, or
      // shredded) are read back below.
      const kek = this.current;
      const kekObject = this.kek(kek.id);
      const raws = missing.map(() => freshRandom(KEY_BYTES));
      const wrapped = missing.map((ref, i) => aesGcmSeal(kekObject, raws[i] as Buffer, wrapAad(ref, kek.id)));
      const { rows: inserted } = await sql(
        this.dataSource.manager,
        `insert into data_key (person_ref, wrapped_key, kek_id)
         select r, w, $3 from unnest($1::text[], $2::bytea[]) as t(r, w)
         on conflict (person_ref) do nothing
         returning person_ref`,
        [missing, wrapped, kek.id],
      );
      const made = new Set(inserted.map((row) => text(row, 'person_ref')));
      missing.forEach((ref, i) => {
        const raw = raws[i] as Buffer;
        if (made.has(ref)) {
          const state: KeyState = { kind: 'key', dek: createSecretKey(raw) };
          out.set(ref, state);
          this.remember(ref, state, now);
        }
        raw.fill(0);
      });
      existing = missing.filter((ref) => !made.has(ref));
      if (existing.length === 0) return out;
    }
    const { rows } = await sql(this.dataSource.manager, `select person_ref, wrapped_key, kek_id, shredded_at from data_key where person_ref = any($1::text[])`, [existing]);
    for (const row of rows) {
      const ref = text(row, 'person_ref');
      let state: KeyState;
      if (row['shredded_at'] !== null) {
        state = { kind: 'shredded' };
      } else {
        const kekId = text(row, 'kek_id');
        const raw = aesGcmOpen(this.kek(kekId), row['wrapped_key'] as Buffer, wrapAad(ref, kekId));
        state = { kind: 'key', dek: createSecretKey(raw) };
        raw.fill(0);
      }
      out.set(ref, state);
      this.remember(ref, state, now);
    }
    return out;
  }

  private remember(ref: string, state: KeyState, at: number): void {
    if (this.cacheSize === 0) return;
    this.cache.delete(ref);
    this.cache.set(ref, { state, at });
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
  }

  /** Number of keys held in memory (for tests and the status command). */
  get cached(): number {
    return this.cache.size;
  }

  /**
   * Destroys the person's key (erasure by crypto-shredding): the wrapped key is overwritten with
   * NULL; a person without a key gets a shredded row, so no key is ever made for them again.
   * Returns false when the key was already shredded.
   */
  async shred(personRef: string, reason: string): Promise<boolean> {
    const { rows } = await sql(
      this.dataSource.manager,
      `insert into data_key (person_ref, wrapped_key, kek_id, shredded_at, shred_reason) values ($1, null, null, now(), $2)
       on conflict (person_ref) do update set wrapped_key = null, kek_id = null, shredded_at = now(), shred_reason = excluded.shred_reason
        where data_key.shredded_at is null
       returning person_ref`,
      [personRef, reason],
    );
    this.cache.delete(personRef);
    return rows.length > 0;
  }

  /** Rewraps every key not under the current master key; returns how many were rewrapped. */
  async rotate(batchSize = 500): Promise<number> {
    const kek = this.current;
    let total = 0;
    for (;;) {
      const done = await this.dataSource.transaction(async (manager) => {
        const { rows } = await sql(
          manager,
          `select person_ref, wrapped_key, kek_id from data_key where shredded_at is null and kek_id <> $1 order by person_ref limit $2 for update skip locked`,
          [kek.id, batchSize],
        );
        if (rows.length === 0) return 0;
        const refs: string[] = [];
        const wrapped: Buffer[] = [];
        for (const row of rows) {
          const ref = text(row, 'person_ref');
          const oldId = text(row, 'kek_id');
          const dek = aesGcmOpen(this.kek(oldId), row['wrapped_key'] as Buffer, wrapAad(ref, oldId));
          refs.push(ref);
          wrapped.push(aesGcmSeal(this.kek(kek.id), dek, wrapAad(ref, kek.id)));
          dek.fill(0);
        }
        await sql(
          manager,
          `update data_key d set wrapped_key = t.w, kek_id = $3, rotated_at = now()
             from unnest($1::text[], $2::bytea[]) as t(r, w) where d.person_ref = t.r`,
          [refs, wrapped, kek.id],
        );
        return rows.length;
      });
      total += done;
      if (done === 0) return total;
    }
  }

  async status(): Promise<KeyringStatus> {
    const { rows } = await sql(this.dataSource.manager, `select coalesce(kek_id, '(shredded)') as kek, count(*)::int as n from data_key group by 1 order by 1`);
    const byMasterKey: Record<string, number> = {};
    let keys = 0;
    let shredded = 0;
    for (const row of rows) {
      const n = Number(row['n']);
      const kek = text(row, 'kek');
      if (kek === '(shredded)') shredded += n;
      else {
        keys += n;
        byMasterKey[kek] = n;
      }
    }
    return { keys, shredded, byMasterKey, currentMasterKey: this.current.id };
  }
}
