import { checkCharacter, convert15To18, normaliseCitizenId, personKeyFor } from '@qmcb/domain';

/**
 * Which citizen IDs a mistyped one may have meant (docs/design/identity-linking.md). Compared on the
 * first 17 characters, the ID's body: the check character is computed from them, so a typo in the body
 * and one in the check character both show as an ID that fails GB 11643, except in an old 15-digit ID
 * (no check character), whose conversion to 18 digits is valid whatever the typo.
 */
export const ID_RELATIONS = ['CHECK_CHARACTER', 'ONE_DIGIT', 'TRANSPOSITION'] as const;
export type IdRelation = (typeof ID_RELATIONS)[number];

/** The 17-digit body of an ID as sent (18 characters, or 15 digits converted); null when it has none. */
export function idBody(raw: string): string | null {
  const id = normaliseCitizenId(raw);
  if (/^\d{15}$/.test(id)) return convert15To18(id).slice(0, 17);
  if (/^\d{17}[\dX]$/.test(id)) return id.slice(0, 17);
  return null;
}

/** How the body `typed` relates to the body `real`: identical (only the check character can differ), one digit, one adjacent transposition; null otherwise. */
export function idRelation(typed: string, real: string): IdRelation | null {
  if (typed.length !== 17 || real.length !== 17) return null;
  const diff: number[] = [];
  for (let i = 0; i < 17 && diff.length <= 2; i += 1) if (typed[i] !== real[i]) diff.push(i);
  if (diff.length === 0) return 'CHECK_CHARACTER';
  if (diff.length === 1) return 'ONE_DIGIT';
  const [a, b] = diff as [number, number];
  if (diff.length === 2 && b === a + 1 && typed[a] === real[b] && typed[b] === real[a]) return 'TRANSPOSITION';
  return null;
}

/**
 * Every person key within one relation of the body: the body itself with its check character, each
 * single-digit change, each adjacent transposition; only keys that are valid IDs (province and birth
 * date real), each once. At most 1 + 17 × 9 + 16 = 170.
 */
export function neighbourKeys(body: string): string[] {
  if (!/^\d{17}$/.test(body)) return [];
  const bodies = new Set<string>([body]);
  for (let i = 0; i < 17; i += 1) {
    for (let d = 0; d <= 9; d += 1) {
      const digit = String(d);
      if (digit !== body[i]) bodies.add(body.slice(0, i) + digit + body.slice(i + 1));
    }
  }
  for (let i = 0; i < 16; i += 1) {
    if (body[i] !== body[i + 1]) bodies.add(body.slice(0, i) + body[i + 1] + body[i] + body.slice(i + 2));
  }
  const keys: string[] = [];
  for (const b of bodies) {
    const key = b + checkCharacter(b);
    if (personKeyFor(key) === key) keys.push(key);
  }
  return keys;
}

/**
 * Keys under which two bodies within one relation meet (a deletion neighbourhood): position `i`
 * blanked (one digit apart, or identical), and each adjacent pair sorted (one transposition apart).
 * 33 per body; used to find records waiting for a link when the person they may belong to arrives.
 */
export function blockingKeys(body: string): string[] {
  if (!/^\d{17}$/.test(body)) return [];
  const keys: string[] = [];
  for (let i = 0; i < 17; i += 1) keys.push(`s${i}:${body.slice(0, i)}_${body.slice(i + 1)}`);
  for (let i = 0; i < 16; i += 1) {
    const pair = [body[i], body[i + 1]].sort().join('');
    keys.push(`t${i}:${body.slice(0, i)}${pair}${body.slice(i + 2)}`);
  }
  return keys;
}
