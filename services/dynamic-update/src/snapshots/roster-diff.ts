import { SOURCE_FACT_SUBTYPES } from '@qmcb/contracts';
import type { Department, FactKind, SourceFacts } from '@qmcb/contracts';
import { slotOfFacts } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { getMetadataStorage } from 'class-validator';

/** What a roster row is against what we hold of that slot from that department. */
export type RosterChange = 'added' | 'updated' | 'unchanged' | 'older';

export interface RosterDiff {
  change: RosterChange;
  slot: string;
  /** The facts that differ (for `updated`), or every fact the row gives (for `added`). */
  fields: string[];
}

/** Fields that name the slot rather than describe it. */
const KEY_FIELDS = new Set(['kind', 'category']);

const fieldsByKind = new Map<FactKind, string[]>();

/** The fields of a kind's facts, from its contract (so a field added to the contract is compared too). */
export function factFields(kind: FactKind): string[] {
  let fields = fieldsByKind.get(kind);
  if (!fields) {
    const cls = SOURCE_FACT_SUBTYPES.find((s) => s.name === kind)?.value;
    if (!cls) throw new Error(`no facts contract for ${kind}`);
    const names = getMetadataStorage()
      .getTargetValidationMetadatas(cls, '', false, false)
      .map((m) => m.propertyName);
    fields = [...new Set(names)].filter((n) => !KEY_FIELDS.has(n)).sort();
    fieldsByKind.set(kind, fields);
  }
  return fields;
}

/** What the registry holds of a slot from a department, in the shape of its facts; null when nothing. */
export function heldSlot(record: RegistrationRecord | null, department: Department, slot: string): (Record<string, unknown> & { asOf: string }) | null {
  if (!record) return null;
  const [kind, key] = [slot.split(':')[0], slot.slice(slot.indexOf(':') + 1)];
  switch (kind) {
    case 'household':
      return department === 'public-security' ? (record.household as unknown as Record<string, unknown> & { asOf: string }) : null;
    case 'insurance': {
      const entry = record.insurance[key as keyof RegistrationRecord['insurance']];
      return entry && entry.source === 'department' && entry.department === department ? (entry as unknown as Record<string, unknown> & { asOf: string }) : null;
    }
    case 'tax':
      return department === 'tax' ? (record.tax as unknown as (Record<string, unknown> & { asOf: string }) | null) : null;
    case 'welfare': {
      const w = record.welfare[key as keyof RegistrationRecord['welfare']];
      return department === 'civil-affairs' && w ? (w as unknown as Record<string, unknown> & { asOf: string }) : null;
    }
    case 'death':
      return record.death && record.death.department === department ? (record.death as unknown as Record<string, unknown> & { asOf: string }) : null;
    case 'enrolment':
      return department === 'education' ? (record.enrolment as unknown as (Record<string, unknown> & { asOf: string }) | null) : null;
    case 'custody':
      return department === 'justice' ? (record.custody as unknown as (Record<string, unknown> & { asOf: string }) | null) : null;
    default:
      return null;
  }
}

/**
 * A row of a department's full roster (procedure §24) against what the registry holds of its slot
 * from that department: nothing held (added), the same facts (unchanged), other facts (updated), or
 * something held newer than the roster (older: the roster changes nothing). Pure.
 */
export function rosterDiff(record: RegistrationRecord | null, department: Department, facts: SourceFacts, asOf: string): RosterDiff {
  const slot = slotOfFacts(facts);
  const fields = factFields(facts.kind);
  const given = facts as unknown as Record<string, unknown>;
  const held = heldSlot(record, department, slot);
  if (!held) return { change: 'added', slot, fields: fields.filter((f) => given[f] !== undefined && given[f] !== null) };
  if (Date.parse(held.asOf) > Date.parse(asOf)) return { change: 'older', slot, fields: [] };
  const differ = fields.filter((f) => (given[f] ?? null) !== (held[f] ?? null));
  return { change: differ.length ? 'updated' : 'unchanged', slot, fields: differ };
}
