import { createHmac, createSecretKey } from 'crypto';
import type { KeyObject } from 'crypto';
import { ContractViolationError, parseEvent } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { aesGcmOpen, aesGcmSeal, Keyring, KeyringConfigError, parseMasterKeys } from './keyring';

/**
 * The sealed envelope (ADR 0009). On the log, an event is
 *   { eventId, type, schemaVersion, personRef, occurredAt, recordedAt, source, actor, correlationId,
 *     causationId, basedOnVersion, sealed: "v1.<base64url(iv || AES-256-GCM(personKey+payload) || tag)>" }
 * keyed by personRef = base64url(HMAC-SHA256(LOG_PERSON_REF_SECRET, personKey)). The AAD is the
 * JSON of every readable field above, so none of them can be changed or moved to another event.
 * Readers open it back into exactly the envelope that was appended.
 */

export interface SealingSettings {
  /** KEYRING_DATABASE_URL: the keyring's own database. */
  keyringUrl: string;
  /** KEYRING_MASTER_KEYS, as configured (parsed when the keyring opens). */
  masterKeys: string;
  /** LOG_PERSON_REF_SECRET: the HMAC key of person refs; cannot rotate without re-keying the log. */
  refSecret: string;
  runMigrations?: boolean;
}

const SEALED_PREFIX = 'v1.';
const OUTER_FIELDS = ['eventId', 'type', 'schemaVersion', 'personRef', 'occurredAt', 'recordedAt', 'source', 'actor', 'correlationId', 'causationId', 'basedOnVersion'] as const;

type Outer = Record<(typeof OUTER_FIELDS)[number], unknown>;

export function personRefOf(refSecret: string | KeyObject, personKey: string): string {
  return createHmac('sha256', refSecret).update(personKey, 'utf8').digest('base64url');
}

function outerAad(outer: Outer): Buffer {
  return Buffer.from(`qmcb.sealed.v1|${JSON.stringify(OUTER_FIELDS.map((f) => outer[f] ?? null))}`);
}

/** The sealed message value of an already validated event, under the person's data key. */
export function sealEvent(event: RegistrationEvent, personRef: string, dek: Buffer | KeyObject): Buffer {
  const outer: Outer = {
    eventId: event.eventId,
    type: event.type,
    schemaVersion: event.schemaVersion,
    personRef,
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
    source: event.source,
    actor: event.actor,
    correlationId: event.correlationId,
    causationId: event.causationId ?? null,
    basedOnVersion: event.basedOnVersion ?? null,
  };
  const inner = Buffer.from(JSON.stringify({ personKey: event.personKey, payload: event.payload }));
  const sealed = aesGcmSeal(dek, inner, outerAad(outer));
  return Buffer.from(JSON.stringify({ ...outer, sealed: SEALED_PREFIX + sealed.toString('base64url') }));
}

/** A sealed envelope that cannot be opened: dead-lettered with reason `sealed: <message>`. */
export class SealedEnvelopeError extends ContractViolationError {
  constructor(rule: string, message: string) {
    super([{ field: '(sealed)', rule, message }]);
    this.message = message;
    this.name = 'SealedEnvelopeError';
  }
}

const violation = (rule: string, message: string): SealedEnvelopeError => new SealedEnvelopeError(rule, message);

/** A message value parsed: sealed (with its person ref), or a plain event written before sealing. */
export type Unopened = { kind: 'sealed'; personRef: string; outer: Record<string, unknown>; sealed: Buffer } | { kind: 'plain'; raw: unknown };

/** Parses a value without opening it; throws ContractViolationError on what is no event at all. */
export function parseValue(bytes: Buffer | string | null): Unopened {
  if (bytes === null) throw new ContractViolationError([{ field: '(value)', rule: 'notNull', message: 'message has no value' }]);
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString());
  } catch (e) {
    throw new ContractViolationError([{ field: '(value)', rule: 'json', message: `message value is not JSON: ${(e as Error).message}` }]);
  }
  if (!raw || typeof raw !== 'object' || !('sealed' in raw)) return { kind: 'plain', raw };
  const outer = raw as Record<string, unknown>;
  const sealedText = outer['sealed'];
  const personRef = outer['personRef'];
  if (typeof personRef !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(personRef)) throw violation('personRef', 'a sealed event must carry a personRef of 43 base64url characters');
  if (typeof sealedText !== 'string' || !sealedText.startsWith(SEALED_PREFIX)) throw violation('format', `sealed must be a string starting with "${SEALED_PREFIX}"`);
  return { kind: 'sealed', personRef, outer, sealed: Buffer.from(sealedText.slice(SEALED_PREFIX.length), 'base64url') };
}

/**
 * The message value of a sealed envelope read back from an outbox row (jsonb, whose key order is its
 * own): the readable fields in the order sealEvent writes them, then `sealed`, so the bytes sent are
 * exactly those sealEvent made. Nothing is sealed again; throws ContractViolationError when the
 * envelope is not a sealed one (parseValue's rules).
 */
export function sealedValueOf(envelope: Record<string, unknown>): { personRef: string; value: Buffer } {
  const personRef = envelope['personRef'];
  const sealedText = envelope['sealed'];
  if (typeof personRef !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(personRef)) throw violation('personRef', 'a sealed event must carry a personRef of 43 base64url characters');
  if (typeof sealedText !== 'string' || !sealedText.startsWith(SEALED_PREFIX)) throw violation('format', `sealed must be a string starting with "${SEALED_PREFIX}"`);
  const ordered: Record<string, unknown> = {};
  for (const f of OUTER_FIELDS) ordered[f] = envelope[f] ?? null;
  ordered['sealed'] = sealedText;
  return { personRef, value: Buffer.from(JSON.stringify(ordered)) };
}

/** Opens a sealed value with the person's key and validates the event (throws ContractViolationError). */
export function openSealed(u: Extract<Unopened, { kind: 'sealed' }>, dek: Buffer | KeyObject): RegistrationEvent {
  const outer = u.outer as Outer;
  let inner: { personKey?: unknown; payload?: unknown };
  try {
    inner = JSON.parse(aesGcmOpen(dek, u.sealed, outerAad(outer)).toString()) as typeof inner;
  } catch {
    throw violation('authentic', 'the sealed part does not open under the person\'s key: altered, moved from another event, or sealed under another key');
  }
  return parseEvent(
    {
      eventId: outer.eventId,
      type: outer.type,
      schemaVersion: outer.schemaVersion,
      personKey: inner.personKey,
      occurredAt: outer.occurredAt,
      recordedAt: outer.recordedAt,
      source: outer.source,
      actor: outer.actor,
      correlationId: outer.correlationId,
      causationId: outer.causationId,
      basedOnVersion: outer.basedOnVersion,
      payload: inner.payload,
    },
    { owned: true },
  );
}

/** A message value opened: the event, a contract violation, or an event whose person was erased. */
export type Opened = { kind: 'event'; event: RegistrationEvent } | { kind: 'violation'; violation: ContractViolationError } | { kind: 'shredded'; personRef: string };

/** Seals events for the log and opens them back, with the keyring's per-person keys. */
export class LogSealer {
  private readonly refKey: KeyObject;

  constructor(
    readonly keyring: Keyring,
    refSecret: string,
  ) {
    this.refKey = createSecretKey(Buffer.from(refSecret, 'utf8'));
  }

  personRef(personKey: string): string {
    return personRefOf(this.refKey, personKey);
  }

  /**
   * Message key and sealed value of every (validated) event, in order; an event of a person whose
   * key was shredded is left out (erased persons get no new data on the log): `erased` counts them.
   */
  async seal(events: readonly RegistrationEvent[]): Promise<{ sealed: { event: RegistrationEvent; key: string; value: Buffer }[]; erased: { event: RegistrationEvent; personRef: string }[] }> {
    const refs = events.map((e) => this.personRef(e.personKey));
    const keys = await this.keyring.getOrCreate(refs);
    const sealed: { event: RegistrationEvent; key: string; value: Buffer }[] = [];
    const erased: { event: RegistrationEvent; personRef: string }[] = [];
    events.forEach((event, i) => {
      const ref = refs[i] as string;
      const state = keys.get(ref);
      if (!state) throw new Error(`the keyring returned no key for person ref ${ref}`);
      if (state.kind === 'shredded') erased.push({ event, personRef: ref });
      else sealed.push({ event, key: ref, value: sealEvent(event, ref, state.dek) });
    });
    return { sealed, erased };
  }

  /** Opens message values (sealed or plain) in order; one keyring query for the whole list. */
  async open(values: readonly (Buffer | string | null)[]): Promise<Opened[]> {
    const parsed: (Unopened | ContractViolationError)[] = values.map((v) => {
      try {
        return parseValue(v);
      } catch (e) {
        if (e instanceof ContractViolationError) return e;
        throw e;
      }
    });
    const refs = parsed.flatMap((p) => (p instanceof ContractViolationError || p.kind !== 'sealed' ? [] : [p.personRef]));
    const keys = refs.length ? await this.keyring.get(refs) : new Map();
    return parsed.map((p): Opened => {
      if (p instanceof ContractViolationError) return { kind: 'violation', violation: p };
      try {
        if (p.kind === 'plain') return { kind: 'event', event: parseEvent(p.raw, { owned: true }) };
        const state = keys.get(p.personRef);
        if (!state) return { kind: 'violation', violation: violation('knownPerson', 'the keyring has no key for this personRef') };
        if (state.kind === 'shredded') return { kind: 'shredded', personRef: p.personRef };
        return { kind: 'event', event: openSealed(p, state.dek) };
      } catch (e) {
        if (e instanceof ContractViolationError) return { kind: 'violation', violation: e };
        throw e;
      }
    });
  }
}

/** Sealing settings from KEYRING_DATABASE_URL, KEYRING_MASTER_KEYS and LOG_PERSON_REF_SECRET; undefined when none is set. */
export function sealingFromEnv(env: Record<string, string | undefined>): SealingSettings | undefined {
  const masterKeys = env['KEYRING_MASTER_KEYS']?.trim();
  const refSecret = env['LOG_PERSON_REF_SECRET']?.trim();
  if (!masterKeys && !refSecret) return undefined;
  if (!masterKeys) throw new KeyringConfigError('KEYRING_MASTER_KEYS', 'is required with LOG_PERSON_REF_SECRET');
  parseMasterKeys(masterKeys);
  if (!refSecret || refSecret.length < 32) throw new KeyringConfigError('LOG_PERSON_REF_SECRET', 'must be at least 32 characters (generate one: openssl rand -base64 48)');
  const user = encodeURIComponent(env['PGUSER'] || 'postgres');
  const password = env['PGPASSWORD'] ? `:${encodeURIComponent(env['PGPASSWORD'])}` : '';
  const keyringUrl = env['KEYRING_DATABASE_URL']?.trim() || `postgres://${user}${password}@${env['PGHOST'] || '127.0.0.1'}:${env['PGPORT'] || '5432'}/qmcb_keyring`;
  const out: SealingSettings = { keyringUrl, masterKeys, refSecret };
  if (env['MIGRATIONS_RUN'] === 'false') out.runMigrations = false;
  return out;
}

const sealers = new Map<string, Promise<LogSealer>>();

/** The process's sealer for these settings (one keyring connection per configuration). */
export function sealerFor(settings: { sealing?: SealingSettings }): Promise<LogSealer> {
  const s = settings.sealing;
  if (!s) {
    return Promise.reject(
      new KeyringConfigError('KEYRING_MASTER_KEYS', 'the log is sealed (ADR 0009): set KEYRING_MASTER_KEYS, LOG_PERSON_REF_SECRET and KEYRING_DATABASE_URL'),
    );
  }
  const id = `${s.keyringUrl}\n${s.masterKeys}\n${s.refSecret}`;
  let sealer = sealers.get(id);
  if (!sealer) {
    sealer = Keyring.open({ url: s.keyringUrl, masterKeys: parseMasterKeys(s.masterKeys), runMigrations: s.runMigrations }).then((k) => new LogSealer(k, s.refSecret));
    sealers.set(id, sealer);
    sealer.catch(() => sealers.delete(id));
  }
  return sealer;
}

/** Closes every keyring connection of the process (at shutdown). */
export async function closeSealers(): Promise<void> {
  const all = [...sealers.values()];
  sealers.clear();
  for (const s of all) await (await s.catch(() => null))?.keyring.close();
}
