import type { LinkCriterionName } from '@qmcb/contracts';
import type { IdRelation } from './id-neighbours';

/**
 * The scoring of a candidate person for records under a mistyped citizen ID (version 1,
 * docs/design/identity-linking.md). Points per criterion; a criterion either side leaves empty gives 0.
 *
 * | criterion | agrees | disagrees |
 * |---|---|---|
 * | citizen ID: only the check character differs | 50 | |
 * | citizen ID: one digit of the body differs | 35 | |
 * | citizen ID: two adjacent digits swapped | 35 | |
 * | name (trimmed, full-width folded) | 30 | −40 |
 * | birth date | 15 | −30 |
 * | sex | 5 | −10 |
 * | address (trimmed, spaces removed) | 10 | 0 |
 *
 * A candidate is strong at 80 or more (a check-character typo with the same name; a digit or
 * transposition with the same name and birth date). The records are linked to the strong candidate
 * when it is the only one; two or more strong candidates are ambiguous and nothing is linked.
 */
export const LINK_SCORING = { name: 'id-link', version: 1 } as const;
export const LINK_THRESHOLD = 80;

export interface LinkIdentity {
  name: string | null;
  birthDate: string | null;
  sex: string | null;
  address: string | null;
}

export interface ScoredCriterion {
  criterion: LinkCriterionName;
  points: number;
  detail: string;
}

export interface CandidateScore {
  personKey: string;
  relation: IdRelation;
  score: number;
  criteria: ScoredCriterion[];
}

const ID_POINTS: Record<IdRelation, [LinkCriterionName, number, string]> = {
  CHECK_CHARACTER: ['CITIZEN_ID_CHECK_CHARACTER', 50, 'only the check character differs'],
  ONE_DIGIT: ['CITIZEN_ID_ONE_DIGIT', 35, 'one digit differs'],
  TRANSPOSITION: ['CITIZEN_ID_TRANSPOSITION', 35, 'two adjacent digits swapped'],
};

const foldName = (name: string): string =>
  name
    .replace(/[\uff01-\uff5e]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, ' ')
    .trim();
const foldAddress = (address: string): string => foldName(address).replace(/\s+/g, '');

function compareField(
  criterion: LinkCriterionName,
  a: string | null,
  b: string | null,
  agree: number,
  disagree: number,
  fold: (v: string) => string = (v) => v,
): ScoredCriterion | null {
  if (a === null || b === null) return null;
  const same = fold(a) === fold(b);
  return { criterion, points: same ? agree : disagree, detail: same ? 'the same' : 'different' };
}

/** The score of `candidate` for records whose identity is `subject`, sent under an ID in `relation` to the candidate's. Pure. */
export function scoreCandidate(personKey: string, relation: IdRelation, subject: LinkIdentity, candidate: LinkIdentity): CandidateScore {
  const [criterion, points, detail] = ID_POINTS[relation];
  const criteria: ScoredCriterion[] = [{ criterion, points, detail }];
  for (const c of [
    compareField('NAME', subject.name, candidate.name, 30, -40, foldName),
    compareField('BIRTH_DATE', subject.birthDate, candidate.birthDate, 15, -30),
    compareField('SEX', subject.sex, candidate.sex, 5, -10),
    compareField('ADDRESS', subject.address, candidate.address, 10, 0, foldAddress),
  ]) {
    if (c) criteria.push(c);
  }
  return { personKey, relation, score: criteria.reduce((s, c) => s + c.points, 0), criteria };
}

export type LinkChoice =
  | { kind: 'strong'; best: CandidateScore }
  | { kind: 'none' }
  | { kind: 'weak'; best: CandidateScore }
  | { kind: 'ambiguous'; strong: CandidateScore[] };

/** The link to propose among scored candidates: the one strong candidate, else why none. */
export function chooseLink(scores: readonly CandidateScore[]): LinkChoice {
  if (scores.length === 0) return { kind: 'none' };
  const strong = scores.filter((s) => s.score >= LINK_THRESHOLD);
  if (strong.length === 1) return { kind: 'strong', best: strong[0] as CandidateScore };
  if (strong.length > 1) return { kind: 'ambiguous', strong: [...strong].sort((a, b) => b.score - a.score || (a.personKey < b.personKey ? -1 : 1)) };
  const best = [...scores].sort((a, b) => b.score - a.score || (a.personKey < b.personKey ? -1 : 1))[0] as CandidateScore;
  return { kind: 'weak', best };
}
