import { Injectable } from '@nestjs/common';
import { PERSON_KEY_PATTERN, PersonIds } from '@qmcb/platform';

const CACHE_LIMIT = 20_000;

/**
 * What a person key column holds at rest (ADR 0011, stage 5): the person's opaque person ID
 * (PersonIds: deterministic authenticated encryption under PERSON_ID_SECRET), never the citizen ID.
 * Deterministic, so equality, joins, `ANY`, unique keys and ON CONFLICT work on it as they did on the
 * key; its order is not the key's (lists ordered by a key column are in an arbitrary but stable order).
 *
 * Repositories convert at their boundary: `stored(key)` for every parameter and every value written
 * into a key column, `key(value)` for every key column read back. The domain keeps working on person
 * keys (birth dates, check digits and household keys come from citizen IDs).
 *
 * - A value that is not a person key (an organisational stream `O-…`, a line with no valid ID) is
 *   stored as it is.
 * - `key` of a value stored before stage 5 (the plain key) returns it unchanged (`key` is
 *   idempotent), but look-ups go by the person ID: rows written before are found again once
 *   `seal-records` has re-keyed them (`rekeyStep`), which an upgrade does before its consumers start
 *   (docs/security.md, "Upgrading"), or once a rebuild has written them anew.
 */
@Injectable()
export class PersonKeyColumn {
  private readonly toStored = new Map<string, string>();
  private readonly toKey = new Map<string, string>();

  constructor(private readonly ids: PersonIds) {}

  /** The value a key column holds for the person key. */
  stored(personKey: string): string {
    const hit = this.toStored.get(personKey);
    if (hit !== undefined) return hit;
    const value = PERSON_KEY_PATTERN.test(personKey) ? this.ids.idOf(personKey) : personKey;
    remember(this.toStored, personKey, value);
    // Only a conversion teaches the way back: `stored` of a value that is no person key (a stored
    // one, passed again) must not make `key` of it answer itself.
    if (value !== personKey) remember(this.toKey, value, personKey);
    return value;
  }

  /** `stored` of each key, in order. */
  storedAll(personKeys: Iterable<string>): string[] {
    return [...personKeys].map((k) => this.stored(k));
  }

  /** The person key a key column's value stands for (a value stored before stage 5: itself). */
  key(value: string): string {
    const hit = this.toKey.get(value);
    if (hit !== undefined) return hit;
    const key = this.ids.keyOf(value) ?? value;
    remember(this.toKey, value, key);
    return key;
  }

  /**
   * Every value that may stand for the person where values are not re-keyed (inside JSON, e.g. a
   * webhook dead letter's entries): the current person ID, the previous PERSON_ID_SECRET's during a
   * rotation, and the key itself.
   */
  forms(personKey: string): string[] {
    return PERSON_KEY_PATTERN.test(personKey) ? [...new Set([...this.ids.idsOf(personKey), personKey])] : [personKey];
  }

  /** Whether the value is stored under the current PERSON_ID_SECRET (else: plain, or a previous secret's). */
  isCurrent(value: string): boolean {
    return this.stored(this.key(value)) === value;
  }
}

function remember(cache: Map<string, string>, from: string, to: string): void {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(from, to);
}
