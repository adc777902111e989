import fc from 'fast-check';
import { PERSON_ID_PATTERN, PERSON_KEY_PATTERN, PersonIds } from './person-ids';
import { maskText } from '../logging/mask';

const ids = new PersonIds('unit-person-id-secret-0123456789abcdef');

describe('person IDs', () => {
  it('round-trips citizen-ID keys and surrogate keys, deterministically', () => {
    for (const key of ['44098119850315123X', '440981198503151230', `X-${'ab'.repeat(16)}`]) {
      const id = ids.idOf(key);
      expect(id).toMatch(PERSON_ID_PATTERN);
      expect(ids.idOf(key)).toBe(id);
      expect(ids.keyOf(id)).toBe(key);
      expect(new PersonIds('unit-person-id-secret-0123456789abcdef').keyOf(id)).toBe(key);
    }
  });

  it('never contains the citizen ID, never looks like one to the log masking, and differs per secret', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{17}[\dX]$/), (key) => {
        const id = ids.idOf(key);
        expect(id.includes(key.slice(0, 6))).toBe(false);
        expect(maskText(id)).toBe(id);
        expect(new PersonIds('another-person-id-secret-0123456789ab').idOf(key)).not.toBe(id);
      }),
    );
  });

  it('refuses IDs it did not make: another secret, a changed character, a citizen ID, garbage', () => {
    const id = ids.idOf('44098119850315123X');
    expect(new PersonIds('another-person-id-secret-0123456789ab').keyOf(id)).toBeUndefined();
    const flipped = `${id.slice(0, 20)}${id[20] === 'a' ? 'b' : 'a'}${id.slice(21)}`;
    expect(ids.keyOf(flipped)).toBeUndefined();
    expect(ids.keyOf('44098119850315123X')).toBeUndefined();
    expect(ids.keyOf('')).toBeUndefined();
    expect(() => ids.idOf('123')).toThrow('not a person key');
  });

  it('reads IDs of the previous secret during a rotation and makes new ones with the current', () => {
    const old = new PersonIds('old-person-id-secret-0123456789abcdef');
    const rotated = new PersonIds('new-person-id-secret-0123456789abcdef', 'old-person-id-secret-0123456789abcdef');
    const oldId = old.idOf('44098119850315123X');
    expect(rotated.keyOf(oldId)).toBe('44098119850315123X');
    expect(rotated.idOf('44098119850315123X')).not.toBe(oldId);
    // Every ID it reads for a key (what the audit trail's search by person matches): the current one first.
    expect(rotated.idsOf('44098119850315123X')).toEqual([rotated.idOf('44098119850315123X'), oldId]);
    expect(old.idsOf('44098119850315123X')).toEqual([oldId]);
  });

  it('knows the person keys it makes IDs of', () => {
    for (const key of ['44098119850315123X', '440981198503151230', `X-${'ab'.repeat(16)}`]) expect(PERSON_KEY_PATTERN.test(key)).toBe(true);
    for (const other of ['44098119850315123x', '440981850315123', `X-${'AB'.repeat(16)}`, `O-${'ab'.repeat(16)}`, ids.idOf('44098119850315123X')]) {
      expect(PERSON_KEY_PATTERN.test(other)).toBe(false);
      if (!other.startsWith('O-') && PERSON_ID_PATTERN.test(other)) continue;
      expect(() => ids.idOf(other)).toThrow('not a person key');
    }
  });
});
