import { checkCharacter } from './citizen-id';
import { identityViolations } from './identity-agreement';

const NOW = new Date('2026-11-30T20:00:00Z'); // 2026-12-01 in China
const id = (first17: string): string => `${first17}${checkCharacter(first17)}`;
const MAN = id('44098119900606123'); // 1990-06-06, 17th digit odd: male
const WOMAN = id('44098119850315124'); // 1985-03-15, even: female
const ON_RECORD = { citizenId: WOMAN, sex: 'female', birthDate: '1985-03-15' };

describe('identityViolations: the citizen ID, sex and birth date of a change agree (every channel)', () => {
  it('a wrong check character, a sex and a birth date against the ID, a birth date in the future: each named with its rule', () => {
    // An invalid ID says nothing of sex or birth date: what it is corrected to is compared once it is valid.
    expect(identityViolations({ citizenId: '440981199006061236', sex: 'female', birthDate: '2030-01-01' }, ON_RECORD, NOW)).toEqual([
      { field: 'fields.citizenId', rule: 'citizenId', message: 'fields.citizenId fails GB 11643: the check character does not match (ISO 7064 MOD 11-2)' },
      { field: 'fields.birthDate', rule: 'notInFuture', message: 'fields.birthDate must not be in the future' },
    ]);
  });

  it('a valid corrected ID: the sex and birth date given, else those on record, must agree with it', () => {
    expect(identityViolations({ citizenId: MAN, sex: 'female', birthDate: '1990-06-07' }, ON_RECORD, NOW)).toEqual([
      { field: 'fields.sex', rule: 'matchesCitizenId', message: 'fields.sex is female but citizen ID 440981********1235 says male' },
      { field: 'fields.birthDate', rule: 'matchesCitizenId', message: 'fields.birthDate is 1990-06-07 but citizen ID 440981********1235 says 1990-06-06' },
    ]);
    expect(identityViolations({ citizenId: MAN }, ON_RECORD, NOW)).toEqual([
      { field: 'fields.sex', rule: 'matchesCitizenId', message: 'fields.sex on record is female but the corrected citizen ID 440981********1235 says male: correct fields.sex with it' },
      { field: 'fields.birthDate', rule: 'matchesCitizenId', message: 'fields.birthDate on record is 1985-03-15 but the corrected citizen ID 440981********1235 says 1990-06-06: correct fields.birthDate with it' },
    ]);
    expect(identityViolations({ citizenId: MAN, sex: 'male', birthDate: '1990-06-06' }, ON_RECORD, NOW)).toEqual([]);
  });

  it('no ID given: sex and birth date given agree with the one on record; an ID born in the future is no valid one', () => {
    expect(identityViolations({ sex: 'male' }, ON_RECORD, NOW)).toEqual([
      { field: 'fields.sex', rule: 'matchesCitizenId', message: 'fields.sex is male but citizen ID 440981********1245 says female' },
    ]);
    expect(identityViolations({ sex: 'female', birthDate: '1985-03-15' }, ON_RECORD, NOW)).toEqual([]);
    expect(identityViolations({ birthDate: '2026-12-02' }, { citizenId: null, sex: null, birthDate: null }, NOW, 'request.fields.')).toEqual([
      { field: 'request.fields.birthDate', rule: 'notInFuture', message: 'request.fields.birthDate must not be in the future' },
    ]);
    expect(identityViolations({ birthDate: '2026-12-01' }, { citizenId: null, sex: null, birthDate: null }, NOW)).toEqual([]);
    expect(identityViolations({ citizenId: id('44098120301231123') }, ON_RECORD, NOW)).toEqual([
      { field: 'fields.citizenId', rule: 'citizenId', message: 'fields.citizenId fails GB 11643: the birth date is in the future' },
    ]);
  });
});
