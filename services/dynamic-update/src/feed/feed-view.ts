import { inDivision } from '@qmcb/auth';
import type { ItemChange } from '../registry/registry-items';
import type { FeedScope, SequencedEntry } from './feed-entry.repository';

/** A person key that is a citizen ID (the others are `X-<hash>`, for people known without a valid one). */
const CITIZEN_ID = /^\d{17}[\dX]$/;

/** The citizen ID a feed item carries for a person key: the key itself when it is one, else null (an `X-` person). */
export function citizenIdOf(personKey: string): string | null {
  return CITIZEN_ID.test(personKey) ? personKey : null;
}

/** A feed entry as a subscriber receives it. */
export interface FeedItem {
  seq: number;
  eventId: string;
  type: string;
  /** The person's opaque ID in this deployment (docs/security.md, "Masking and person IDs"). */
  personId: string;
  /** The person's citizen ID, which the subscriber's own records are keyed by; null for a person known without a valid one. */
  citizenId: string | null;
  version: number;
  occurredAt: string;
  recordedAt: string;
  source: string;
  actor: string;
  /** Where the person is filed after the change; null when that is outside the subscriber's scope. */
  division: string | null;
  /** The person left the subscriber's division with this change: nothing of where they went is shown. */
  leftScope: boolean;
  changes: ItemChange[];
}

/**
 * What a scope may see of an entry: all of it when the person is filed within the scope after the
 * change; only that they left, when they were filed there before and no longer are. (The page query
 * returns no other entries.) A subscriber never sees data outside its scope.
 */
export function asSeenBy(entry: SequencedEntry, scope: FeedScope, personIdOf: (personKey: string) => string): FeedItem {
  const base = {
    seq: entry.seq,
    eventId: entry.eventId,
    type: entry.type,
    personId: personIdOf(entry.personKey),
    citizenId: citizenIdOf(entry.personKey),
    version: entry.version, occurredAt: entry.occurredAt, recordedAt: entry.recordedAt, source: entry.source, actor: entry.actor };
  if (entry.divisionAfter !== null && inDivision(scope.division, entry.divisionAfter)) {
    return { ...base, division: entry.divisionAfter, leftScope: false, changes: entry.changes };
  }
  return { ...base, division: null, leftScope: true, changes: [] };
}
