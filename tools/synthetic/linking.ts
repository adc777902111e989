import { checkCharacter, normaliseCitizenId } from '@qmcb/domain';

/**
 * The linking of records under a mistyped citizen ID (docs/design/identity-linking.md), restated for
 * the ground truth on purpose apart from services/comparison (nothing is imported from it): which
 * ID relations count, the scoring table, the threshold and the choice. If the service and this file
 * disagree, the accuracy test says so.
 */

export type Relation = 'check-character' | 'one-digit' | 'transposition';

/** The 17 digits an ID's check character is computed from; a 15-digit ID is read as its 18-digit form. */
export function bodyOf(raw: string): string | null {
  const id = normaliseCitizenId(raw);
  if (/^\d{15}$/.test(id)) return `${id.slice(0, 6)}19${id.slice(6)}`;
  if (/^\d{17}[\dX]$/.test(id)) return id.slice(0, 17);
  return null;
}

export function relation(typed: string, real: string): Relation | null {
  const differ: number[] = [];
  for (let i = 0; i < 17; i += 1) if (typed[i] !== real[i]) differ.push(i);
  if (differ.length === 0) return 'check-character';
  if (differ.length === 1) return 'one-digit';
  const [a, b] = differ as [number, number];
  return differ.length === 2 && b === a + 1 && typed[a] === real[b] && typed[b] === real[a] ? 'transposition' : null;
}

/**
 * Keys two bodies share exactly when one relation apart (or equal): one per blanked position, one per
 * sorted adjacent pair. Only used to find candidates fast; `relation` decides.
 */
export function meetingKeys(body: string): string[] {
  const keys: string[] = [];
  for (let i = 0; i < 17; i += 1) keys.push(`${i}|${body.slice(0, i)}|${body.slice(i + 1)}`);
  for (let i = 0; i < 16; i += 1) keys.push(`t${i}|${body.slice(0, i)}|${[body[i], body[i + 1]].sort().join('')}|${body.slice(i + 2)}`);
  return keys;
}

export interface Identity {
  name: string | null;
  birthDate: string | null;
  sex: string | null;
  address: string | null;
}

const fold = (s: string): string =>
  s
    .replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, ' ')
    .trim();

/** The scoring table of the design page (version 1). */
export function score(rel: Relation, subject: Identity, candidate: Identity): number {
  let total = rel === 'check-character' ? 50 : 35;
  const compare = (a: string | null, b: string | null, agree: number, disagree: number, f: (v: string) => string = (v) => v): void => {
    if (a !== null && b !== null) total += f(a) === f(b) ? agree : disagree;
  };
  compare(subject.name, candidate.name, 30, -40, fold);
  compare(subject.birthDate, candidate.birthDate, 15, -30);
  compare(subject.sex, candidate.sex, 5, -10);
  compare(subject.address, candidate.address, 10, 0, (v) => fold(v).replace(/\s+/g, ''));
  return total;
}

export const THRESHOLD = 80;

export interface Candidate {
  personKey: string;
  identity: Identity;
}

/** The person the records are linked to: the one candidate at or above the threshold; none when none or several are. */
export function expectedLink(typedId: string, subject: Identity, candidates: readonly Candidate[]): { personKey: string | null; strong: number; scores: Record<string, number> } {
  const body = bodyOf(typedId);
  const scores: Record<string, number> = {};
  if (body === null) return { personKey: null, strong: 0, scores };
  for (const c of candidates) {
    const rel = relation(body, c.personKey.slice(0, 17));
    if (rel) scores[c.personKey] = score(rel, subject, c.identity);
  }
  const strong = Object.entries(scores).filter(([, s]) => s >= THRESHOLD);
  return { personKey: strong.length === 1 ? (strong[0] as [string, number])[0] : null, strong: strong.length, scores };
}

/** A valid ID of a body (its check character computed). */
export function idOfBody(body: string): string {
  return body + checkCharacter(body);
}
