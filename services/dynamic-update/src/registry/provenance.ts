import { citizenIdInfo, resolveFields } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import type { HistoryRow } from './record-history.repository';
import { registryItems } from './registry-items';
import type { ItemValue } from './registry-items';

/** The change that gave an item its value. */
export interface ChangedBy {
  version: number;
  eventId: string;
  type: string;
  source: string;
  actor: string;
  occurredAt: string;
  recordedAt: string | null;
  causationId: string | null;
}

/** An item of the registry with where its value comes from and from when. */
export interface ItemProvenance {
  value: ItemValue;
  /**
   * Who states the value: for name, sex, birth date and phone the source that wins the field
   * precedence (`dept:public-security`, `survey`, `citizen-id`); for every other item the source of
   * the event that set it (`dept:social-insurance`, `svc:comparison`, …).
   */
  source: string | null;
  /** The time of that statement: the winning record's as-of time, else the event's business time. */
  asOf: string | null;
  /** The event that last changed the item (null for history from before the registry kept changes). */
  changedBy: ChangedBy | null;
}

const RESOLVED = ['name', 'sex', 'birthDate', 'phone'] as const;

function claimantSource(source: string): string {
  return source === 'survey' || source === 'citizen-id' ? source : `dept:${source}`;
}

/**
 * Every item of a record with its provenance, from the record and its history up to the record's
 * version (the last change of each item). Pure.
 */
export function provenance(record: RegistrationRecord, history: readonly HistoryRow[]): Record<string, ItemProvenance> {
  const lastChange = new Map<string, HistoryRow>();
  for (const row of history) {
    if (row.version > record.version) continue;
    for (const c of row.changes) lastChange.set(c.item, row);
  }
  const idInfo = record.citizenIdValid && record.citizenId !== null ? citizenIdInfo(record.citizenId) : null;
  const fields = resolveFields(record, idInfo);
  const out: Record<string, ItemProvenance> = {};
  for (const [item, value] of Object.entries(registryItems(record))) {
    const row = lastChange.get(item);
    const changedBy: ChangedBy | null = row
      ? { version: row.version, eventId: row.eventId, type: row.type, source: row.source, actor: row.actor, occurredAt: row.occurredAt, recordedAt: row.recordedAt, causationId: row.causationId }
      : null;
    const resolved = (RESOLVED as readonly string[]).includes(item) ? fields[item as (typeof RESOLVED)[number]] : null;
    if (resolved?.source) {
      // The citizen ID encodes sex and birth date: a fact without a time.
      const asOf = resolved.source === 'citizen-id' ? null : (resolved.candidates[0]?.asOf ?? changedBy?.occurredAt ?? null);
      out[item] = { value, source: claimantSource(resolved.source), asOf, changedBy };
    } else {
      out[item] = { value, source: changedBy?.source ?? null, asOf: changedBy?.occurredAt ?? null, changedBy };
    }
  }
  return out;
}
