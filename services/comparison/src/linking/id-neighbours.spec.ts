import { checkCharacter, personKeyFor, validateCitizenId } from '@qmcb/domain';
import { blockingKeys, idBody, idRelation, neighbourKeys } from './id-neighbours';

const BODY = '44098119850315123';
const ID = BODY + checkCharacter(BODY);

describe('id-neighbours', () => {
  it('given an 18-character ID, a lower-case x or an old 15-digit ID, then the 17-digit body; none for anything else', () => {
    expect(idBody(ID)).toBe(BODY);
    expect(idBody('44010219800101001x')).toBe('44010219800101001');
    expect(idBody('440981850315123')).toBe('44098119850315123');
    expect(idBody('4409811985031512')).toBeNull();
    expect(idBody('44098119850315A23X')).toBeNull();
  });

  it.each([
    ['the same body', BODY, 'CHECK_CHARACTER'],
    ['one digit changed', '44098119850315423', 'ONE_DIGIT'],
    ['two adjacent digits swapped', '44098119850351123', 'TRANSPOSITION'],
    ['two digits changed', '44098119850315499', null],
    ['two distant digits swapped', '44098119851305123', null],
  ])('given %s (%s), then the relation is %s', (_what, typed, relation) => {
    expect(idRelation(typed, BODY)).toBe(relation);
  });

  it('given a body, then its neighbours are the valid IDs one relation away, each once and each in relation', () => {
    const keys = neighbourKeys(BODY);
    expect(keys).toContain(ID);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBeLessThanOrEqual(170);
    for (const key of keys) {
      expect(personKeyFor(key)).toBe(key);
      expect(idRelation(BODY, key.slice(0, 17))).not.toBeNull();
    }
    // A month of 13 is no real date: that digit change gives no key.
    expect(keys).not.toContain(`4409811985${'13'}15123${checkCharacter('44098119851315123')}`);
    expect(validateCitizenId(keys[1] as string).ok).toBe(true);
  });

  it('given two bodies one relation apart, then they share a blocking key; bodies further apart share none', () => {
    const shared = (a: string, b: string): string[] => blockingKeys(a).filter((k) => blockingKeys(b).includes(k));
    expect(blockingKeys(BODY)).toHaveLength(33);
    expect(shared(BODY, '44098119850315423')).toEqual(['s14:44098119850315_23']);
    expect(shared(BODY, '44098119850351123')).toEqual(['t12:44098119850315123']);
    expect(shared(BODY, BODY)).toHaveLength(33);
    expect(shared(BODY, '44098119850315499')).toEqual([]);
  });
});
