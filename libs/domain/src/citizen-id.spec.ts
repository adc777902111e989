import { createHash } from 'crypto';
import fc from 'fast-check';
import {
  checkCharacter,
  convert15To18,
  maskCitizenId,
  normaliseCitizenId,
  personKeyFor,
  validateCitizenId,
} from './citizen-id';

const NOW = new Date('2025-06-01T00:00:00Z');
const PERSON_KEY = /^(\d{17}[\dX]|X-[0-9a-f]{32})$/;
const PROVINCES = ['11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37', '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65'];

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const DAY_MS = 24 * 60 * 60 * 1000;

/** A birth date between `fromYear` and the day before NOW, as YYYYMMDD. */
const birthDate = (fromYear: number, toYear = 2025): fc.Arbitrary<string> => {
  const min = Date.UTC(fromYear, 0, 1) / DAY_MS;
  const max = Math.min(Date.UTC(toYear, 11, 31), NOW.getTime() - DAY_MS) / DAY_MS;
  return fc.integer({ min, max }).map((day) => new Date(day * DAY_MS).toISOString().slice(0, 10).replace(/-/g, ''));
};

const divisionCode = fc.tuple(fc.constantFrom(...PROVINCES), fc.integer({ min: 0, max: 9999 })).map(([p, rest]) => p + pad(rest, 4));
const sequence = fc.integer({ min: 0, max: 999 }).map((n) => pad(n, 3));

const validId = fc.tuple(divisionCode, birthDate(1900), sequence).map(([division, birth, seq]) => {
  const first17 = division + birth + seq;
  return first17 + checkCharacter(first17);
});

const oldId = fc.tuple(divisionCode, birthDate(1900, 1999), sequence).map(([division, birth, seq]) => division + birth.slice(2) + seq);

const toFullWidth = (s: string): string => s.replace(/[0-9X]/g, (c) => (c === 'X' ? 'Ｘ' : String.fromCharCode(0xff10 + Number(c))));

describe('citizen ID (GB 11643-1999)', () => {
  describe('properties', () => {
    it('accepts any well-formed ID and reads its fields back', () => {
      fc.assert(
        fc.property(validId, (id) => {
          const result = validateCitizenId(id, NOW);
          expect(result).toEqual({
            ok: true,
            id,
            birthDate: `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`,
            sex: Number(id[16]) % 2 === 1 ? 'male' : 'female',
            divisionCode: id.slice(0, 6),
          });
          expect(personKeyFor(id)).toBe(id);
        }),
      );
    });

    it('reads an ID typed with full-width characters and surrounding spaces as the same ID', () => {
      fc.assert(
        fc.property(validId, (id) => {
          const typed = `\u3000 ${toFullWidth(id)}\t`;
          expect(normaliseCitizenId(typed)).toBe(id);
          expect(validateCitizenId(typed, NOW)).toEqual(validateCitizenId(id, NOW));
          expect(personKeyFor(typed)).toBe(id);
        }),
      );
    });

    it('rejects any single changed character as a checksum failure', () => {
      const change = fc.tuple(validId, fc.integer({ min: 0, max: 17 }), fc.integer({ min: 1, max: 10 }));
      fc.assert(
        fc.property(change, ([id, position, shift]) => {
          const alphabet = position === 17 ? '0123456789X' : '0123456789';
          const current = alphabet.indexOf(id[position]);
          const replacement = alphabet[(current + shift) % alphabet.length];
          fc.pre(replacement !== id[position]);
          const changed = id.slice(0, position) + replacement + id.slice(position + 1);
          const result = validateCitizenId(changed, NOW);
          expect(result).toMatchObject({ ok: false, reason: 'CHECKSUM' });
          expect(personKeyFor(changed)).toMatch(/^X-[0-9a-f]{32}$/);
        }),
      );
    });

    it('converts any old 15-digit ID into a valid 18-character one with the same birth date and sex', () => {
      fc.assert(
        fc.property(oldId, (id15) => {
          const id18 = convert15To18(id15);
          const converted = validateCitizenId(id18, NOW);
          const original = validateCitizenId(id15, NOW);
          expect(converted.ok).toBe(true);
          expect(original).toEqual(converted);
          if (!converted.ok) return;
          expect(converted.birthDate).toBe(`19${id15.slice(6, 8)}-${id15.slice(8, 10)}-${id15.slice(10, 12)}`);
          expect(converted.sex).toBe(Number(id15[14]) % 2 === 1 ? 'male' : 'female');
          expect(id18.slice(0, 6) + id18.slice(8, 17)).toBe(id15);
          expect(personKeyFor(id15)).toBe(id18);
        }),
      );
    });

    it('treats a lower-case x check character as X', () => {
      fc.assert(
        fc.property(
          validId.filter((id) => id.endsWith('X')),
          (id) => {
            const lower = `${id.slice(0, 17)}x`;
            expect(validateCitizenId(lower, NOW)).toEqual(validateCitizenId(id, NOW));
            expect(personKeyFor(lower)).toBe(id);
          },
        ),
      );
    });

    it('keys any string by a valid ID or a stable surrogate that the envelope accepts', () => {
      fc.assert(
        fc.property(fc.oneof(validId, oldId, fc.string(), fc.stringMatching(/^\d{18}$/)), (raw) => {
          const key = personKeyFor(raw);
          expect(key).toMatch(PERSON_KEY);
          expect(personKeyFor(` ${raw} `)).toBe(key);
        }),
      );
    });
  });

  describe('examples', () => {
    it('accepts 11010519491231002X (female, 1949-12-31, Chaoyang, Beijing)', () => {
      expect(validateCitizenId('11010519491231002X', NOW)).toEqual({
        ok: true,
        id: '11010519491231002X',
        birthDate: '1949-12-31',
        sex: 'female',
        divisionCode: '110105',
      });
      expect(checkCharacter('11010519491231002')).toBe('X');
    });

    it('rejects 110105194912310021: the check character should be X', () => {
      expect(validateCitizenId('110105194912310021', NOW)).toMatchObject({ ok: false, reason: 'CHECKSUM' });
    });

    it('converts the old 110105491231002 to 11010519491231002X', () => {
      expect(convert15To18('110105491231002')).toBe('11010519491231002X');
      expect(validateCitizenId('110105491231002', NOW)).toMatchObject({ ok: true, id: '11010519491231002X' });
    });

    it('accepts a male ID from 高州市', () => {
      expect(checkCharacter('44098119900101001')).toBe('7');
      expect(validateCitizenId('440981199001010017', NOW)).toMatchObject({ ok: true, sex: 'male', divisionCode: '440981' });
    });

    it.each([
      ['', 'LENGTH'],
      ['11010519491231002', 'LENGTH'],
      ['11010519491231002XX', 'LENGTH'],
      ['1101051949123100X2', 'CHARACTERS'],
      ['11010519491231002Y', 'CHARACTERS'],
      ['11010549123100X', 'CHARACTERS'],
      ['11010519491231 02X', 'CHARACTERS'],
    ])('rejects %j as %s', (raw, reason) => {
      expect(validateCitizenId(raw, NOW)).toMatchObject({ ok: false, reason });
    });

    const withCheck = (first17: string): string => first17 + checkCharacter(first17);

    it('rejects a division that starts with no province code', () => {
      expect(validateCitizenId(withCheck('99010519491231002'), NOW)).toMatchObject({ ok: false, reason: 'DIVISION' });
      expect(validateCitizenId(withCheck('00010519491231002'), NOW)).toMatchObject({ ok: false, reason: 'DIVISION' });
    });

    it('accepts residence permit numbers of Hong Kong, Macao and Taiwan residents', () => {
      for (const prefix of ['810000', '820000', '830000']) {
        expect(validateCitizenId(withCheck(`${prefix}19900101001`), NOW).ok).toBe(true);
      }
    });

    it.each([
      ['19490230', 'not a real date'],
      ['19000229', 'not a real date'],
      ['19491301', 'not a real date'],
      ['19490100', 'not a real date'],
      ['08490101', 'not a real date'],
      ['20250602', 'in the future'],
    ])('rejects birth date %s (%s)', (birth) => {
      const result = validateCitizenId(withCheck(`110105${birth}002`), NOW);
      expect(result).toMatchObject({ ok: false, reason: 'BIRTH_DATE' });
    });

    it('accepts 29 February of a leap year and a birth today in China', () => {
      expect(validateCitizenId(withCheck('11010520000229002'), NOW).ok).toBe(true);
      // 2025-06-01T00:00Z is already 08:00 on 1 June in Beijing.
      expect(validateCitizenId(withCheck('11010520250601002'), NOW).ok).toBe(true);
      expect(validateCitizenId(withCheck('11010520250601002'), new Date('2025-05-31T15:59:59Z')).ok).toBe(false);
    });

    it('keys an ID with a future birth date by itself, so the key never changes', () => {
      const id = withCheck('11010520300101002');
      expect(validateCitizenId(id, NOW)).toMatchObject({ ok: false, reason: 'BIRTH_DATE' });
      expect(personKeyFor(id)).toBe(id);
    });

    it('keys a malformed ID by a surrogate of its normalised form', () => {
      const key = personKeyFor('110105194912310021');
      expect(key).toBe(`X-${createHash('sha256').update('110105194912310021').digest('hex').slice(0, 32)}`);
      expect(personKeyFor('１１０１０５１９４９１２３１００２１')).toBe(key);
      expect(personKeyFor('110105194912310022')).not.toBe(key);
    });

    it('masks all but the first 6 and last 4 characters', () => {
      expect(maskCitizenId('11010519491231002X')).toBe('110105********002X');
      expect(maskCitizenId('11010519491231002x')).toBe('110105********002X');
      expect(maskCitizenId('110105491231002')).toBe('110105*****1002');
      expect(maskCitizenId('12345')).toBe('*****');
    });

    it('refuses to compute from malformed input', () => {
      expect(() => checkCharacter('1101051949123100')).toThrow(RangeError);
      expect(() => convert15To18('11010549123100X')).toThrow(RangeError);
    });
  });
});
