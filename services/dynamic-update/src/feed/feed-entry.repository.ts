import { Injectable } from '@nestjs/common';
import { quoteIdent } from '@qmcb/event-log';
import { PersonalDataSealer, PersonKeyColumn } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';
import type { ItemChange } from '../registry/registry-items';

/** One change of the registry as the feed carries it. */
export interface FeedEntry {
  eventId: string;
  personKey: string;
  version: number;
  type: string;
  /** Where the person was filed before and after the change (a subscriber's scope is matched to both). */
  divisionBefore: string | null;
  divisionAfter: string | null;
  occurredAt: string;
  recordedAt: string;
  source: string;
  actor: string;
  changes: ItemChange[];
}

export interface SequencedEntry extends FeedEntry {
  seq: number;
}

/** What a subscription sees: a division and event kinds (exact types or `prefix.*`). */
export interface FeedScope {
  division: string;
  kinds: readonly string[];
}

/** Turns `insurance.*` into `insurance.%`, exact types stay. */
export function kindPatterns(kinds: readonly string[]): { exact: string[]; prefixes: string[] } {
  return {
    exact: kinds.filter((k) => !k.endsWith('.*')),
    prefixes: kinds.filter((k) => k.endsWith('.*')).map((k) => `${k.slice(0, -1)}%`),
  };
}

/** Where an entry's changes are sealed (the AAD names it: a value sealed here opens nowhere else). */
export const FEED_CHANGES_PLACE = 'feed_entry.changes';

/** A bytea column as `to_jsonb` writes it (`\\x` and hex), or null. */
export function byteaOf(value: unknown): Buffer | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value;
  return Buffer.from(String(value).replace(/^\\x/, ''), 'hex');
}

function toEntry(r: Record<string, unknown>, keys: PersonKeyColumn): SequencedEntry {
  return {
    seq: Number(r['seq']),
    eventId: String(r['event_id']),
    personKey: keys.key(String(r['person_key'])),
    version: Number(r['version']),
    type: String(r['type']),
    divisionBefore: (r['division_before'] as string | null) ?? null,
    divisionAfter: (r['division_after'] as string | null) ?? null,
    occurredAt: new Date(r['occurred_at'] as string).toISOString(),
    recordedAt: new Date(r['recorded_at'] as string).toISOString(),
    source: String(r['source']),
    actor: String(r['actor']),
    changes: r['changes'] as ItemChange[],
  };
}

/**
 * `feed_entry` in the operational schema: written by the projection in its own transaction
 * (qualified with the schema, since the projection's search_path is its own), numbered afterwards by
 * the sequencer, read by subscribers in number order. All SQL of the table.
 *
 * At rest (ADR 0011, stage 4) an entry's changes (names, phones, addresses as they changed) are
 * `sealed` under the person's data key and `changes` is `[]`; SQL selects on the divisions and the
 * type only. An entry written before that has `sealed` null and its changes in `changes`.
 * `person_key` holds the person ID (stage 5, `PersonKeyColumn`); entries read back carry the person key.
 */
@Injectable()
export class FeedEntryRepository {
  constructor(
    private readonly sealer: PersonalDataSealer,
    private readonly keys: PersonKeyColumn,
  ) {}

  /**
   * In the projection's transaction: the changes of a batch (an event seen before adds nothing),
   * sealed in one keyring call; an erased person's entries are not written (ADR 0010 deleted theirs).
   */
  async insertMany(manager: EntityManager, opsSchema: string, entries: readonly FeedEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const sealed = await this.sealer.seal(FEED_CHANGES_PLACE, entries.map((e) => ({ personKey: e.personKey, value: e.changes })));
    const rows = entries.flatMap((e, i) => {
      const bytes = sealed[i];
      return bytes ? [{ ...e, personKey: this.keys.stored(e.personKey), changes: [], sealed: bytes.toString('base64') }] : [];
    });
    if (rows.length === 0) return;
    await manager.query(
      `INSERT INTO ${quoteIdent(opsSchema)}.feed_entry (event_id, person_key, version, type, division_before, division_after, occurred_at, recorded_at, source, actor, changes, sealed)
       SELECT r."eventId", r."personKey", r.version, r.type, r."divisionBefore", r."divisionAfter", r."occurredAt", r."recordedAt", r.source, r.actor, r.changes, decode(r.sealed, 'base64')
         FROM jsonb_to_recordset($1::jsonb) AS r("eventId" text, "personKey" text, version int, type text, "divisionBefore" text, "divisionAfter" text,
              "occurredAt" timestamptz, "recordedAt" timestamptz, source text, actor text, changes jsonb, sealed text)
       ON CONFLICT (event_id) DO NOTHING`,
      [JSON.stringify(rows)],
    );
  }

  /** The highest number given so far (0: none). */
  async top(manager: EntityManager): Promise<number> {
    const [row] = (await manager.query(`SELECT coalesce(max(seq), 0) AS s FROM feed_entry`)) as { s: string }[];
    return Number(row?.s ?? 0);
  }

  /**
   * Numbers committed entries that have no number yet, in insertion order, after the highest number
   * given: one numbering at a time (an advisory lock), so a reader that has seen number n will never
   * see a smaller one appear later. Returns how many were numbered.
   */
  async sequence(manager: EntityManager, batch: number): Promise<number> {
    const [{ locked }] = (await manager.query(`SELECT pg_try_advisory_xact_lock(hashtext('qmcb.dynamic-update.feed-sequence')) AS locked`)) as { locked: boolean }[];
    if (!locked) return 0;
    const rows: { n: number }[] = await manager.query(
      `WITH top AS (SELECT coalesce(max(seq), 0) AS s FROM feed_entry),
            todo AS (SELECT id, row_number() OVER (ORDER BY id) AS k FROM (SELECT id FROM feed_entry WHERE seq IS NULL ORDER BY id LIMIT $1) t),
            done AS (UPDATE feed_entry f SET seq = top.s + todo.k FROM todo, top WHERE f.id = todo.id RETURNING 1)
       SELECT count(*)::int AS n FROM done`,
      [batch],
    );
    return rows[0]?.n ?? 0;
  }

  /**
   * Entries after `after` in number order that a scope may see: the person filed in its division
   * before or after the change, of its kinds. At most `scan` entries are looked at per call (so a
   * narrow scope does not scan the whole feed at once): `cursor` is the last number looked at.
   */
  async page(manager: EntityManager, scope: FeedScope, after: number, limit: number, scan = 10_000): Promise<{ entries: SequencedEntry[]; cursor: number }> {
    const { exact, prefixes } = kindPatterns(scope.kinds);
    // One statement, so the entries and how far they were looked for come from one snapshot: a
    // second statement could see numbers given meanwhile and move the cursor past unread entries.
    const [row] = (await manager.query(
      `WITH window_ AS (SELECT * FROM feed_entry WHERE seq > $1 ORDER BY seq LIMIT $2),
            matched AS (
              SELECT * FROM window_
               WHERE (division_after LIKE $3 || '%' OR division_before LIKE $3 || '%')
                 AND ((cardinality($4::text[]) = 0 AND cardinality($5::text[]) = 0) OR type = ANY($4::text[]) OR type LIKE ANY($5::text[]))
               ORDER BY seq LIMIT $6)
       SELECT (SELECT max(seq) FROM window_) AS scanned_to,
              (SELECT coalesce(jsonb_agg(to_jsonb(m) ORDER BY m.seq), '[]'::jsonb) FROM matched m) AS entries`,
      [after, scan, scope.division, exact, prefixes, limit],
    )) as { scanned_to: string | null; entries: Record<string, unknown>[] }[];
    const found = row?.entries ?? [];
    const matched = found.map((r) => toEntry(r, this.keys));
    const scannedTo = row?.scanned_to ? Number(row.scanned_to) : after;
    // A full page may stop before the end of what was looked at: go on from its last entry.
    const cursor = matched.length === limit ? (matched[matched.length - 1]?.seq ?? after) : scannedTo;
    // The page's changes opened in one keyring call; an erased person's entry (its rows deleted
    // meanwhile, the key shredded) is left out.
    const changes = await this.sealer.open<FeedEntry['changes']>(
      FEED_CHANGES_PLACE,
      found.map((r, i) => ({ personKey: (matched[i] as SequencedEntry).personKey, sealed: byteaOf(r['sealed']), plain: r['changes'] })),
    );
    const entries = matched.flatMap((e, i) => {
      const opened = changes[i];
      return opened === undefined ? [] : [{ ...e, changes: opened }];
    });
    return { entries, cursor };
  }
}
