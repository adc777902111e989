import { LINK_THRESHOLD, chooseLink, scoreCandidate } from './link-scoring';
import type { LinkIdentity } from './link-scoring';

const PERSON: LinkIdentity = { name: '李明', birthDate: '1985-03-15', sex: 'male', address: '高州市石仔岭街道南宫居委会 12 号' };
const NOTHING: LinkIdentity = { name: null, birthDate: null, sex: null, address: null };

describe('link scoring id-link v1', () => {
  it('given a check-character typo and the same name only, then 50 + 30: strong', () => {
    const s = scoreCandidate('K', 'CHECK_CHARACTER', { ...NOTHING, name: '李明' }, PERSON);
    expect(s).toEqual({
      personKey: 'K',
      relation: 'CHECK_CHARACTER',
      score: 80,
      criteria: [
        { criterion: 'CITIZEN_ID_CHECK_CHARACTER', points: 50, detail: 'only the check character differs' },
        { criterion: 'NAME', points: 30, detail: 'the same' },
      ],
    });
    expect(s.score).toBeGreaterThanOrEqual(LINK_THRESHOLD);
  });

  it('given one digit off with the same name, then 65: weak; with the birth date too, 80: strong', () => {
    expect(scoreCandidate('K', 'ONE_DIGIT', { ...NOTHING, name: '李明' }, PERSON).score).toBe(65);
    expect(scoreCandidate('K', 'ONE_DIGIT', { ...NOTHING, name: '李明', birthDate: '1985-03-15' }, PERSON).score).toBe(80);
    expect(scoreCandidate('K', 'TRANSPOSITION', { ...NOTHING, name: '李明', birthDate: '1985-03-15' }, PERSON).score).toBe(80);
  });

  it('given everything agreeing, then every criterion counts: 35 + 30 + 15 + 5 + 10; names and addresses folded', () => {
    const s = scoreCandidate('K', 'ONE_DIGIT', { name: ' 李明\u3000', birthDate: '1985-03-15', sex: 'male', address: '高州市石仔岭街道南宫居委会12号' }, PERSON);
    expect(s.score).toBe(95);
    expect(s.criteria.map((c) => [c.criterion, c.points])).toEqual([['CITIZEN_ID_ONE_DIGIT', 35], ['NAME', 30], ['BIRTH_DATE', 15], ['SEX', 5], ['ADDRESS', 10]]);
  });

  it('given another name, birth date and sex, then heavily against: another person who happens to be one digit away', () => {
    const s = scoreCandidate('K', 'CHECK_CHARACTER', { name: '王芳', birthDate: '1985-03-16', sex: 'female', address: '别处' }, PERSON);
    expect(s.criteria.map((c) => c.points)).toEqual([50, -40, -30, -10, 0]);
    expect(s.score).toBe(-30);
  });

  describe('chooseLink', () => {
    const score = (personKey: string, value: number) => ({ personKey, relation: 'ONE_DIGIT' as const, score: value, criteria: [] });
    it('given no candidate, then none', () => expect(chooseLink([])).toEqual({ kind: 'none' }));
    it('given one strong among weak ones, then that one', () => expect(chooseLink([score('A', 65), score('B', 80), score('C', -30)])).toEqual({ kind: 'strong', best: score('B', 80) }));
    it('given only weak ones, then the best, not linked', () => expect(chooseLink([score('A', 65), score('B', 50)])).toEqual({ kind: 'weak', best: score('A', 65) }));
    it('given two strong ones (twins with the name unknown), then ambiguous, not linked', () =>
      expect(chooseLink([score('A', 80), score('B', 95)])).toEqual({ kind: 'ambiguous', strong: [score('B', 95), score('A', 80)] }));
  });
});
