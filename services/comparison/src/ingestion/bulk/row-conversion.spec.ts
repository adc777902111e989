import { CsvHeader, CsvHeaderError, FIELD_TYPES, typedCell } from './row-conversion';

describe('typed CSV cells (design page: booleans and numbers typed, everything else a string)', () => {
  it('knows exactly the boolean and number fields the contracts declare', () => {
    const booleans = Object.entries(FIELD_TYPES).flatMap(([kind, t]) => [...t.booleans].map((f) => `${kind}.${f}`));
    const numbers = Object.entries(FIELD_TYPES).flatMap(([kind, t]) => [...t.numbers].map((f) => `${kind}.${f}`));
    expect(booleans.sort()).toEqual(['custody.inCustody', 'enrolment.enrolled', 'insurance.receivingBenefit', 'tax.employed', 'welfare.active']);
    expect(numbers.sort()).toEqual(['enrolment.expectedGraduationYear', 'tax.monthlyWage']);
  });

  it('types true/false and numbers per kind, and leaves anything else as the string it was', () => {
    expect(typedCell('tax', 'employed', 'true')).toBe(true);
    expect(typedCell('tax', 'employed', 'false')).toBe(false);
    expect(typedCell('tax', 'employed', 'yes')).toBe('yes');
    expect(typedCell('tax', 'employed', 'TRUE')).toBe('TRUE');
    expect(typedCell('tax', 'monthlyWage', '3500.50')).toBe(3500.5);
    expect(typedCell('tax', 'monthlyWage', '3,500')).toBe('3,500');
    expect(typedCell('enrolment', 'expectedGraduationYear', '2028')).toBe(2028);
    expect(typedCell('tax', 'employer', '123')).toBe('123');
    expect(typedCell('household', 'phone', '13800138000')).toBe('13800138000');
    expect(typedCell('nope', 'employed', 'true')).toBe('true');
  });
});

describe('CsvHeader', () => {
  it('needs the record columns, in any order, and refuses unknown, empty or repeated ones', () => {
    expect(() => new CsvHeader(['kind', 'asOf', 'mode', 'citizenId', 'sourceRecordId', 'name'])).not.toThrow();
    expect(() => new CsvHeader(['sourceRecordId', 'citizenId', 'mode', 'asOf'])).toThrow(new CsvHeaderError('the header lacks the column(s) kind'));
    expect(() => new CsvHeader(['sourceRecordId', 'citizenId', 'mode', 'asOf', 'kind', 'nmae'])).toThrow(/'nmae' is neither/);
    expect(() => new CsvHeader(['sourceRecordId', 'citizenId', 'mode', 'asOf', 'kind', ''])).toThrow(/column 6 is empty/);
    expect(() => new CsvHeader(['sourceRecordId', 'citizenId', 'mode', 'asOf', 'kind', 'name', 'name'])).toThrow(/'name' appears twice/);
  });

  const header = new CsvHeader([' sourceRecordId', 'citizenId', 'mode', 'asOf', 'kind', 'employed', 'monthlyWage', 'name', 'deathDate']);

  it('makes a record of POST /records: empty cells absent, fact fields typed under facts', () => {
    expect(header.toRecord(['T-1', '440981198503151235', 'change', '2026-11-01T00:00:00Z', 'tax', 'true', '4200', '李明', ''])).toEqual({
      ok: true,
      record: {
        sourceRecordId: 'T-1',
        citizenId: '440981198503151235',
        mode: 'change',
        asOf: '2026-11-01T00:00:00Z',
        facts: { kind: 'tax', employed: true, monthlyWage: 4200, name: '李明' },
      },
    });
    expect(header.toRecord(['', '', '', '', '', '', '', '', ''])).toEqual({ ok: true, record: { facts: {} } });
  });

  it('refuses a row with the wrong number of columns', () => {
    expect(header.toRecord(['T-1', 'x'])).toEqual({
      ok: false,
      violations: [{ field: '(row)', rule: 'columnCount', message: 'the row has 2 columns, the header 9' }],
    });
  });
});
