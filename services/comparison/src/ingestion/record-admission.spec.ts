import { validateSourceRecord } from './record-admission';

const record = (citizenId: string): object => ({
  sourceRecordId: 'HR-1',
  citizenId,
  mode: 'snapshot',
  asOf: '2026-11-01T00:00:00.000Z',
  facts: { kind: 'household', name: '王五', villageCode: '440981002001', status: 'normal' },
});

const SHAPE_MESSAGE = 'citizenId must be 15 to 18 digits, the last may be X (a mistyped ID is kept and flagged; text that is no ID is refused)';

describe('validateSourceRecord: the citizen ID a department sends', () => {
  it.each([
    ['a valid 18-character ID', '440981199001011239'],
    ['a wrong check character (kept and flagged downstream)', '440981199001011234'],
    ['a digit left out (17 characters, a typo to correct)', '44098119900101123'],
    ['an old 15-digit ID', '440981900101123'],
    ['a lower-case x and surrounding spaces', ' 44098119900101123x '],
    ['full-width digits', '４４０９８１１９９００１０１１２３９'],
  ])('accepts %s', (_what, citizenId) => {
    expect(validateSourceRecord(record(citizenId), 'public-security')).toEqual({ ok: true, record: expect.objectContaining({ citizenId }) });
  });

  it.each([
    ['letters', 'abc'],
    ['an empty string', ''],
    ['14 digits', '44098119900101'],
    ['19 digits', '4409811990010112391'],
    ['an X in the middle', '4409811990X1011239'],
    ['a name in the ID field', '王五'],
  ])('refuses %s, naming the field and the rule', (_what, citizenId) => {
    expect(validateSourceRecord(record(citizenId), 'public-security')).toEqual({
      ok: false,
      violations: [{ field: 'citizenId', rule: 'matches', message: SHAPE_MESSAGE }],
    });
  });
});
