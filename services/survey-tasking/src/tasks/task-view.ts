import { reasonLabel } from '@qmcb/domain';
import type { TaskRow } from '../targets/survey-task.repository';

/** What comes next for a target, given its status (each visit outcome has its follow-up). */
export const FOLLOW_UPS = ['visit', 'revisit', 'correct-and-resubmit', 'mobilise', 'cross-region-inquiry', 'transfer', 'verify-address', 'review'] as const;
export type FollowUpKind = (typeof FOLLOW_UPS)[number];

export interface FollowUp {
  kind: FollowUpKind;
  /** For a revisit: the planned date. */
  due: string | null;
  /** Away or moved out: where, if known. */
  whereRegion: string | null;
  whereText: string | null;
}

export function followUpOf(t: Pick<TaskRow, 'status' | 'revisitOn' | 'whereRegion' | 'whereText'>): FollowUp | null {
  const make = (kind: FollowUpKind, due: string | null = null, where = false): FollowUp => ({ kind, due, whereRegion: where ? t.whereRegion : null, whereText: where ? t.whereText : null });
  switch (t.status) {
    case 'open':
      return make('visit');
    case 'revisit':
      return make('revisit', t.revisitOn);
    case 'returned':
      return make('correct-and-resubmit');
    case 'refused':
      // Found but refuses: the grassroots platform goes back to explain the policy (动员参保).
      return make('mobilise');
    case 'away':
      // Working or living elsewhere: asked of the region where they are (cross-region exchange).
      return make('cross-region-inquiry', null, true);
    case 'moved-out':
      return make('transfer', null, true);
    case 'not-found':
      return make('verify-address');
    case 'submitted':
    case 'initial-approved':
    case 'death-claimed':
      return make('review');
    case 'approved':
    case 'deceased':
    case 'closed':
      return null;
  }
}

/** Why the person is a target, in the words read out at the door. */
export interface Why {
  code: string;
  label: string;
  explanation: string;
}

export type TaskView = TaskRow & { why: Why[]; followUp: FollowUp | null };

export function taskView(row: TaskRow): TaskView {
  return {
    ...row,
    why: row.reasons.map((code) => {
      const { label, explanation } = reasonLabel(code);
      return { code, label, explanation };
    }),
    followUp: followUpOf(row),
  };
}

/**
 * An answer as it leaves the service: every `personKey` (the citizen ID itself, or a surrogate key)
 * becomes the opaque `personId` clients use (docs/security.md, "Person IDs"), and every
 * `householdKey` its public form (`publicHouseholdKey`).
 */
export type Public<T> = T extends readonly (infer U)[]
  ? Public<U>[]
  : T extends Date
    ? T
    : T extends object
      ? { [K in keyof T as K extends 'personKey' ? 'personId' : K]: Public<T[K]> }
      : T;

/** The household key of a person without a 户号: `P-` and their person key, which is the citizen ID itself. */
const PERSON_HOUSEHOLD = 'P-';

/**
 * A household key as it leaves the service: `<village>-<户号>` as it is; a person's own household
 * (`P-<person key>`) is named by their person ID instead (`P-<person ID>`), so the citizen ID never
 * travels in a household key.
 */
export function publicHouseholdKey(key: string, ids: { idOf(personKey: string): string }): string {
  return key.startsWith(PERSON_HOUSEHOLD) ? `${PERSON_HOUSEHOLD}${ids.idOf(key.slice(PERSON_HOUSEHOLD.length))}` : key;
}

/**
 * A household key as a client sends it back (from a target list): `P-<person ID>` becomes the
 * household key `P-<person key>` the repositories take (which store it as `P-<person ID>`,
 * `HouseholdKeyColumn`); undefined for a `P-` key that is not a person ID this deployment made
 * (a citizen ID there included).
 */
export function storedHouseholdKey(key: string, ids: { keyOf(personId: string): string | undefined }): string | undefined {
  if (!key.startsWith(PERSON_HOUSEHOLD)) return key;
  const personKey = ids.keyOf(key.slice(PERSON_HOUSEHOLD.length));
  return personKey === undefined ? undefined : `${PERSON_HOUSEHOLD}${personKey}`;
}

export function withPersonIds<T>(value: T, ids: { idOf(personKey: string): string }): Public<T> {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object' || v instanceof Date) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'personKey' && typeof x === 'string') out['personId'] = ids.idOf(x);
      else if (k === 'householdKey' && typeof x === 'string') out[k] = publicHouseholdKey(x, ids);
      else out[k] = walk(x);
    }
    return out;
  };
  return walk(value) as Public<T>;
}
