import { PersonIds } from '@qmcb/platform';
import { checkCharacter } from '@qmcb/domain';
import { PersonKeyColumn } from './person-key-column';

const citizenId = (first17: string): string => `${first17}${checkCharacter(first17)}`;
const A = citizenId('44098119850307201');

describe('PersonKeyColumn (ADR 0011, stage 5)', () => {
  const ids = new PersonIds('a-secret-of-this-spec-that-is-long-enough');

  it('stores a person key as its person ID and reads it back; other values as they are', () => {
    const keys = new PersonKeyColumn(ids);
    expect(keys.stored(A)).toBe(ids.idOf(A));
    expect(keys.key(ids.idOf(A))).toBe(A);
    expect(keys.stored('O-campaign-1')).toBe('O-campaign-1');
    // A value stored before stage 5 (the key itself) reads as itself.
    expect(keys.key(A)).toBe(A);
    expect(keys.storedAll([A, 'O-x'])).toEqual([ids.idOf(A), 'O-x']);
  });

  it('is not taught a wrong way back by a stored value passed to `stored` again (the cache keeps answering the key)', () => {
    const keys = new PersonKeyColumn(ids);
    const id = keys.stored(A);
    // e.g. an erasure handing household keys read from the table back to a converter
    expect(keys.stored(id)).toBe(id);
    expect(keys.key(id)).toBe(A);
    // The same when the stored value was seen first.
    const fresh = new PersonKeyColumn(ids);
    expect(fresh.stored(ids.idOf(A))).toBe(ids.idOf(A));
    expect(fresh.key(ids.idOf(A))).toBe(A);
    expect(fresh.isCurrent(ids.idOf(A))).toBe(true);
    expect(fresh.isCurrent(A)).toBe(false);
  });

  it('names every form a person may have where values are not re-keyed: the current ID, the previous secret\'s, the key', () => {
    const previous = new PersonIds('the-previous-secret-of-this-spec-long-enough');
    const rotated = new PersonKeyColumn(new PersonIds('a-secret-of-this-spec-that-is-long-enough', 'the-previous-secret-of-this-spec-long-enough'));
    expect(rotated.forms(A)).toEqual([ids.idOf(A), previous.idOf(A), A]);
    expect(new PersonKeyColumn(ids).forms(A)).toEqual([ids.idOf(A), A]);
    expect(rotated.forms('O-x')).toEqual(['O-x']);
  });
});
