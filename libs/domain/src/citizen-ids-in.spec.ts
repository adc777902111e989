import { citizenIdsIn } from './citizen-id';

describe('the citizen IDs a refused roster line names (whose erasure must find it once sealed)', () => {
  it('given IDs inside JSON, a lower-case x, and a longer run of digits, then every 18-character window an ID could be, upper-cased, once each', () => {
    expect(citizenIdsIn('{"citizenId":"44098119850307201x","other":"440981198503072011","again":"440981198503072011"}')).toEqual(['44098119850307201X', '440981198503072011']);
    expect(citizenIdsIn('4409811985030720112')).toEqual(['440981198503072011', '409811985030720112']);
  });

  it('given no run of 18, then none', () => {
    expect(citizenIdsIn('{"citizenId":"44098119850307201","name":"欧阳明远","phone":"13912345678"}')).toEqual([]);
  });
});
