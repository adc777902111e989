import type { Department } from '@qmcb/contracts';
import { PERSON_KEY_PATTERN } from '@qmcb/platform';
import type { PersonalDataSealer, PersonKeyColumn } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';
import { citizenIdOf } from './feed-view';
import type { FeedItem } from './feed-view';

export interface Subscription {
  id: string;
  name: string;
  /** The subscriber: a department system's API key (department and key ID). */
  department: Department;
  keyId: string;
  /** What it may see: people filed within this division. */
  division: string;
  /** Event types or `prefix.*`; empty: every kind. */
  kinds: string[];
  webhookUrl: string | null;
  status: 'active' | 'disabled';
  createdBy: string;
  createdAt: string;
}

export interface Delivery {
  cursor: number;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  delivered: number;
  lastDeliveredAt: string | null;
}

export interface DeadLetter {
  id: number;
  fromSeq: number;
  toSeq: number;
  entries: FeedItem[];
  attempts: number;
  lastError: string;
  failedAt: string;
  redeliveredAt: string | null;
}

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());

function toSubscription(r: Record<string, unknown>): Subscription {
  return {
    id: String(r['id']),
    name: String(r['name']),
    department: r['department'] as Department,
    keyId: String(r['key_id']),
    division: String(r['division']),
    kinds: r['kinds'] as string[],
    webhookUrl: (r['webhook_url'] as string | null) ?? null,
    status: r['status'] as Subscription['status'],
    createdBy: String(r['created_by']),
    createdAt: iso(r['created_at']) as string,
  };
}

function toDelivery(r: Record<string, unknown>): Delivery {
  return {
    cursor: Number(r['cursor']),
    attempts: Number(r['attempts']),
    nextAttemptAt: iso(r['next_attempt_at']) as string,
    lastError: (r['last_error'] as string | null) ?? null,
    delivered: Number(r['delivered']),
    lastDeliveredAt: iso(r['last_delivered_at']),
  };
}

/** Where a dead letter's entries have their changes sealed (the AAD names it). */
export const DEAD_LETTER_PLACE = 'webhook_dead_letter.entries';

/**
 * A dead letter's entry as stored: the entry without its changes, which are sealed (base64) under the
 * person's data key, and without its citizen ID (given back from the person ID when read); an entry
 * written before stage 4 has `changes` and no `sealed`, one written before stage 5 its `citizenId`.
 */
type StoredDeadEntry = Omit<FeedItem, 'changes' | 'citizenId'> & { citizenId?: string | null; changes?: FeedItem['changes']; sealed?: string };

/**
 * The subscription tables of the operational schema: all their SQL. A dead letter's entries are kept
 * with each entry's changes sealed under its person's data key (ADR 0011, stage 4) and no citizen ID
 * (stage 5): the rest of the entry (numbers, type, person ID, divisions) stays readable, and the
 * person ID is the person key column's stored value (`PersonKeyColumn.stored`), by which the erasure
 * takes a person's entries out (registry.projection.ts, erase). Entries are read back as delivered.
 */
export class SubscriptionRepository {
  constructor(
    private readonly sealer: PersonalDataSealer,
    private readonly keys: PersonKeyColumn,
  ) {}

  /** The person key of an entry's person ID (null: not a person ID of this deployment), else its citizen ID if it carries one. */
  private keyOf(e: { personId: string; citizenId?: string | null }): string | null {
    const key = this.keys.key(e.personId);
    return PERSON_KEY_PATTERN.test(key) ? key : (e.citizenId ?? null);
  }

  async create(manager: EntityManager, s: Subscription, secret: string | null, startCursor: number): Promise<void> {
    await manager.query(
      `INSERT INTO subscription (id, name, department, key_id, division, kinds, webhook_url, secret, status, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [s.id, s.name, s.department, s.keyId, s.division, s.kinds, s.webhookUrl, secret, s.status, s.createdBy, s.createdAt],
    );
    if (s.webhookUrl) await manager.query(`INSERT INTO webhook_delivery (subscription_id, cursor, next_attempt_at) VALUES ($1, $2, $3)`, [s.id, startCursor, s.createdAt]);
  }

  async find(manager: EntityManager, id: string): Promise<Subscription | null> {
    const rows: Record<string, unknown>[] = await manager.query(`SELECT * FROM subscription WHERE id = $1`, [id]);
    return rows[0] ? toSubscription(rows[0]) : null;
  }

  async secretOf(manager: EntityManager, id: string): Promise<string | null> {
    const rows: { secret: string | null }[] = await manager.query(`SELECT secret FROM subscription WHERE id = $1`, [id]);
    return rows[0]?.secret ?? null;
  }

  /** Subscriptions whose scope lies within a division, newest first. */
  async within(manager: EntityManager, division: string): Promise<Subscription[]> {
    const rows: Record<string, unknown>[] = await manager.query(`SELECT * FROM subscription WHERE division LIKE $1 || '%' ORDER BY created_at DESC, id`, [division]);
    return rows.map(toSubscription);
  }

  async disable(manager: EntityManager, id: string, at: string): Promise<void> {
    await manager.query(`UPDATE subscription SET status = 'disabled', disabled_at = $2 WHERE id = $1`, [id, at]);
  }

  async delivery(manager: EntityManager, id: string): Promise<Delivery | null> {
    const rows: Record<string, unknown>[] = await manager.query(`SELECT * FROM webhook_delivery WHERE subscription_id = $1`, [id]);
    return rows[0] ? toDelivery(rows[0]) : null;
  }

  /**
   * Leases the webhook subscriptions due at `now` (active, not leased by another process), for
   * `leaseMs`: a process that dies mid-delivery frees them when the lease runs out.
   */
  async leaseDue(manager: EntityManager, now: string, leaseMs: number): Promise<(Subscription & { delivery: Delivery })[]> {
    const rows: Record<string, unknown>[] = await manager.query(
      `WITH leased AS (
         UPDATE webhook_delivery d SET lease_until = $1::timestamptz + ($2::int * interval '1 millisecond')
           FROM subscription s
          WHERE d.subscription_id = s.id AND s.status = 'active' AND s.webhook_url IS NOT NULL
            AND d.next_attempt_at <= $1::timestamptz AND (d.lease_until IS NULL OR d.lease_until < $1::timestamptz)
         RETURNING s.*, d.cursor, d.attempts, d.next_attempt_at, d.last_error, d.delivered, d.last_delivered_at)
       SELECT * FROM leased ORDER BY created_at, id`,
      [now, leaseMs],
    );
    return rows.map((r) => ({ ...toSubscription(r), delivery: toDelivery(r) }));
  }

  /** After a call that went through, or a scan with nothing to send: the cursor moves, attempts start again. */
  async advanced(manager: EntityManager, id: string, cursor: number, delivered: number, now: string): Promise<void> {
    await manager.query(
      `UPDATE webhook_delivery SET cursor = greatest(cursor, $2), attempts = 0, last_error = NULL, lease_until = NULL, next_attempt_at = $4,
              delivered = delivered + $3, last_delivered_at = CASE WHEN $3 > 0 THEN $4::timestamptz ELSE last_delivered_at END
        WHERE subscription_id = $1`,
      [id, cursor, delivered, now],
    );
  }

  /** After a failed call: try again at `retryAt`. */
  async failed(manager: EntityManager, id: string, attempts: number, error: string, retryAt: string): Promise<void> {
    await manager.query(`UPDATE webhook_delivery SET attempts = $2, last_error = $3, next_attempt_at = $4, lease_until = NULL WHERE subscription_id = $1`, [id, attempts, error, retryAt]);
  }

  /** A batch that failed every attempt: kept with its reason, and the cursor moves past it (one call never stops a subscription). */
  async deadLetter(manager: EntityManager, id: string, entries: readonly FeedItem[], fromSeq: number, toSeq: number, attempts: number, error: string, now: string): Promise<void> {
    const keyed = entries.map((e) => ({ entry: e, personKey: this.keyOf(e) }));
    const withKey = keyed.filter((k): k is { entry: FeedItem; personKey: string } => k.personKey !== null);
    const sealed = await this.sealer.seal(DEAD_LETTER_PLACE, withKey.map((k) => ({ personKey: k.personKey, value: k.entry.changes })));
    const sealedOf = new Map(withKey.map((k, i) => [k.entry, sealed[i]]));
    // An erased person's entries (key shredded) are not kept; an entry whose person is unknown keeps no changes.
    // The citizen ID is not kept (ADR 0011 stage 5): it is given back from the person ID when read.
    const stored: StoredDeadEntry[] = entries.flatMap((e) => {
      const { changes: _changes, citizenId: _citizenId, ...rest } = e;
      const bytes = sealedOf.get(e);
      if (bytes === null) return [];
      return [bytes ? { ...rest, sealed: bytes.toString('base64') } : { ...rest, changes: [] }];
    });
    await manager.query(
      `INSERT INTO webhook_dead_letter (subscription_id, from_seq, to_seq, entries, attempts, last_error, failed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [id, fromSeq, toSeq, JSON.stringify(stored), attempts, error, now],
    );
    await manager.query(
      `UPDATE webhook_delivery SET cursor = greatest(cursor, $2), attempts = 0, last_error = $3, lease_until = NULL, next_attempt_at = $4 WHERE subscription_id = $1`,
      [id, toSeq, error, now],
    );
  }

  async deadLetters(manager: EntityManager, id: string, limit: number, offset: number): Promise<{ total: number; items: DeadLetter[] }> {
    const [count]: { n: number }[] = await manager.query(`SELECT count(*)::int AS n FROM webhook_dead_letter WHERE subscription_id = $1`, [id]);
    const rows: Record<string, unknown>[] = await manager.query(`SELECT * FROM webhook_dead_letter WHERE subscription_id = $1 ORDER BY id LIMIT $2 OFFSET $3`, [id, limit, offset]);
    return { total: count?.n ?? 0, items: await this.toDeadLetters(rows) };
  }

  async findDeadLetter(manager: EntityManager, id: string, deadLetterId: number): Promise<DeadLetter | null> {
    const rows: Record<string, unknown>[] = await manager.query(`SELECT * FROM webhook_dead_letter WHERE subscription_id = $1 AND id = $2`, [id, deadLetterId]);
    return (await this.toDeadLetters(rows))[0] ?? null;
  }

  async redelivered(manager: EntityManager, deadLetterId: number, at: string): Promise<void> {
    await manager.query(`UPDATE webhook_dead_letter SET redelivered_at = $2 WHERE id = $1`, [deadLetterId, at]);
  }

  /** Dead letters with their entries' changes opened, in one keyring call for the page; an erased person's entries are left out. */
  private async toDeadLetters(rows: readonly Record<string, unknown>[]): Promise<DeadLetter[]> {
    const stored = rows.map((r) => r['entries'] as StoredDeadEntry[]);
    const flat = stored.flat();
    const items = flat.map((e) =>
      e.sealed === undefined ? { personKey: '', sealed: null, plain: e.changes ?? [] } : { personKey: this.keyOf(e) ?? '', sealed: Buffer.from(e.sealed, 'base64') },
    );
    const opened = await this.sealer.open<FeedItem['changes']>(DEAD_LETTER_PLACE, items);
    let k = 0;
    return rows.map((r, i) => {
      const entries = (stored[i] as StoredDeadEntry[]).flatMap((e) => {
        const changes = opened[k++];
        if (changes === undefined) return [];
        const { sealed: _sealed, changes: _plain, citizenId, ...rest } = e;
        // An entry written before stage 5 kept its citizen ID; a later one has it from its person ID.
        const personKey = this.keyOf(e);
        return [{ ...rest, citizenId: citizenId !== undefined ? citizenId : personKey === null ? null : citizenIdOf(personKey), changes }];
      });
      return this.toDeadLetter(r, entries);
    });
  }

  private toDeadLetter(r: Record<string, unknown>, entries: FeedItem[]): DeadLetter {
    return {
      id: Number(r['id']),
      fromSeq: Number(r['from_seq']),
      toSeq: Number(r['to_seq']),
      entries,
      attempts: Number(r['attempts']),
      lastError: String(r['last_error']),
      failedAt: iso(r['failed_at']) as string,
      redeliveredAt: iso(r['redelivered_at']),
    };
  }
}
