import type { Department, HouseholdFacts, InsuranceFacts, InsuranceType, Scheme } from '@qmcb/contracts';
import { checkCharacter } from '@qmcb/domain';
import type { Facts, SourceRecord } from './model';
import { ageOn, expectedFor, normaliseName } from './oracle';

const COUNTY = '440981';
const AS_OF = '2026-11-01T00:00:00Z';

function idFor(birthDate: string, sequence = '123'): string {
  const first17 = `${COUNTY}${birthDate.replace(/-/g, '')}${sequence}`;
  return first17 + checkCharacter(first17);
}

const ID = idFor('1985-03-15'); // male (3 is odd)
let counter = 0;

function record(department: Department, facts: Facts, extra: Partial<SourceRecord> = {}): SourceRecord {
  counter += 1;
  return { department, sourceRecordId: `R${counter}`, citizenId: ID, mode: 'snapshot', asOf: AS_OF, facts, ...extra };
}

function household(over: Partial<HouseholdFacts> = {}, extra: Partial<SourceRecord> = {}): SourceRecord {
  return record('public-security', {
    kind: 'household',
    name: '李明',
    sex: 'male',
    birthDate: '1985-03-15',
    villageCode: '440981002001',
    status: 'normal',
    phone: '13800138000',
    address: '广东省茂名市高州市石仔岭街道南宫社区12号',
    ...over,
  }, extra);
}

function insured(type: InsuranceType, scheme: Scheme, over: Partial<InsuranceFacts> = {}, extra: Partial<SourceRecord> = {}): SourceRecord {
  return record(extra.department ?? 'social-insurance', { kind: 'insurance', insuranceType: type, scheme, status: 'active', region: COUNTY, ...over }, extra);
}

const covered = (): SourceRecord[] => [insured('pension', 'resident'), insured('medical', 'resident')];
const employee = (): SourceRecord[] => [
  insured('pension', 'employee'),
  insured('medical', 'employee'),
  insured('unemployment', 'single'),
  insured('work-injury', 'single'),
  record('tax', { kind: 'tax', employed: true }),
];

const decide = (records: SourceRecord[]): [string, string[]] => {
  const e = expectedFor(records, COUNTY);
  return [e.outcome, e.reasons];
};

describe('oracle of docs/design/comparison-model.md', () => {
  it('registers a complete, accurate, insured person directly', () => {
    expect(decide([household(), ...covered()])).toEqual(['registered', ['COMPLETE']]);
    expect(decide([household(), ...employee()])).toEqual(['registered', ['COMPLETE']]);
  });

  it('compares only people with a household here or insured here', () => {
    expect(decide([record('tax', { kind: 'tax', employed: true })])).toEqual(['none', []]);
    expect(decide([insured('pension', 'employee', { region: '440106' }, { department: 'higher-registry' })])).toEqual(['none', []]);
    expect(decide([insured('pension', 'employee', { phone: '13800138000', address: '某地' }), insured('medical', 'employee')])).toEqual(['registered', ['COMPLETE']]);
  });

  it('uninsured: no active pension and no active medical; 60+ also lacks a pension', () => {
    expect(decide([household()])).toEqual(['needs-survey', ['UNINSURED']]);
    expect(decide([household(), insured('pension', 'resident', { status: 'suspended' }), insured('medical', 'resident', { status: 'ended' })])).toEqual(['needs-survey', ['UNINSURED']]);
    expect(decide([household({ birthDate: '1950-01-01' }, { citizenId: idFor('1950-01-01') })])).toEqual(['needs-survey', ['UNINSURED', 'AGE_60_NO_PENSION']]);
    // insured in another county (higher registry) is insured
    expect(decide([household(), insured('pension', 'employee', { region: '440106' }, { department: 'higher-registry' }), insured('medical', 'employee', { region: '440106' }, { department: 'higher-registry' })])).toEqual(['registered', ['COMPLETE']]);
  });

  it('partly insured: an employee per tax without unemployment or work injury; medical without pension at working age', () => {
    expect(decide([household(), ...employee().filter((r) => r.facts.kind !== 'insurance' || r.facts.insuranceType !== 'work-injury')])).toEqual(['needs-survey', ['PARTLY_INSURED_EMPLOYEE']]);
    expect(decide([household(), insured('medical', 'resident')])).toEqual(['needs-survey', ['PARTLY_INSURED_NO_PENSION']]);
    expect(decide([household(), insured('medical', 'resident'), record('tax', { kind: 'tax', employed: false })])).toEqual(['needs-survey', ['PARTLY_INSURED_NO_PENSION']]);
  });

  it('ages on the evaluation date: 16 and 60 count from the birthday itself', () => {
    expect(ageOn('1966-11-01', '2026-11-01')).toBe(60);
    expect(ageOn('1966-11-02', '2026-11-01')).toBe(59);
    const turning16 = idFor('2010-11-01');
    const turning16Tomorrow = idFor('2010-11-02');
    const medicalOnly = (birthDate: string, id: string): SourceRecord[] => [household({ birthDate }, { citizenId: id }), insured('medical', 'resident', {}, { citizenId: id })];
    expect(decide(medicalOnly('2010-11-01', turning16))).toEqual(['needs-survey', ['PARTLY_INSURED_NO_PENSION']]);
    expect(decide(medicalOnly('2010-11-02', turning16Tomorrow))).toEqual(['registered', ['COMPLETE']]);
    const turning60 = idFor('1966-11-01');
    expect(decide(medicalOnly('1966-11-01', turning60))).toEqual(['needs-survey', ['AGE_60_NO_PENSION']]);
    const turning60Tomorrow = idFor('1966-11-02');
    expect(decide(medicalOnly('1966-11-02', turning60Tomorrow))).toEqual(['needs-survey', ['PARTLY_INSURED_NO_PENSION']]);
  });

  it('evaluates at the asOf of the last record (a change a day later makes the person a day older)', () => {
    const id = idFor('1966-11-02');
    const records = [household({ birthDate: '1966-11-02' }, { citizenId: id }), insured('medical', 'resident', {}, { citizenId: id })];
    expect(expectedFor(records, COUNTY).evaluatedOn).toBe('2026-11-01');
    const later = household({ birthDate: '1966-11-02', phone: '13900139000' }, { citizenId: id, mode: 'change', asOf: '2026-11-02T00:00:00Z' });
    const e = expectedFor([...records, later], COUNTY);
    expect([e.evaluatedOn, e.age, e.outcome, e.reasons]).toEqual(['2026-11-02', 60, 'needs-survey', ['AGE_60_NO_PENSION']]);
  });

  it('uses the household birth date over the ID for the age (field precedence)', () => {
    const wrongOld = household({ birthDate: '1965-03-15' });
    expect(decide([wrongOld, insured('medical', 'resident')])).toEqual(['needs-survey', ['INACCURATE_BIRTH_DATE', 'AGE_60_NO_PENSION']]);
    const noBirth = household({ birthDate: undefined });
    expect(decide([noBirth, insured('medical', 'resident')])).toEqual(['needs-survey', ['PARTLY_INSURED_NO_PENSION']]);
  });

  it('benefits after death come first, with that reason only', () => {
    const paid = insured('pension', 'resident', { receivingBenefit: true, benefitStatus: 'receiving' });
    expect(decide([household({ status: 'deceased', phone: undefined }), paid])).toEqual(['needs-survey', ['BENEFIT_AFTER_DEATH']]);
    expect(decide([household(), paid, record('civil-affairs', { kind: 'death', deathDate: '2026-01-01' })])).toEqual(['needs-survey', ['BENEFIT_AFTER_DEATH']]);
    expect(decide([household(), insured('pension', 'resident', { benefitStatus: 'receiving' }), record('public-security', { kind: 'death', deathDate: '2026-01-01' })])).toEqual(['needs-survey', ['BENEFIT_AFTER_DEATH']]);
    const stopped = insured('pension', 'resident', { status: 'ended', receivingBenefit: false, benefitStatus: 'stopped' });
    expect(decide([household({ status: 'deceased' }), stopped])).toEqual(['exempt', ['EXEMPT_DECEASED']]);
  });

  it('exemptions in the page order, before duplicates and survey reasons', () => {
    expect(decide([household({ status: 'moved-out', name: '李铭' }), record('tax', { kind: 'tax', employed: true, name: '李明' })])).toEqual(['exempt', ['EXEMPT_MOVED_OUT']]);
    expect(decide([household({ status: 'military' })])).toEqual(['exempt', ['EXEMPT_MILITARY']]);
    expect(decide([household({ status: 'prison' })])).toEqual(['exempt', ['EXEMPT_PRISONER']]);
    expect(decide([household(), record('justice', { kind: 'custody', inCustody: true })])).toEqual(['exempt', ['EXEMPT_PRISONER']]);
    expect(decide([household(), record('justice', { kind: 'custody', inCustody: false, releaseDate: '2024-01-01' })])).toEqual(['needs-survey', ['UNINSURED']]);
    expect(decide([household({ status: 'moved-out' }), record('civil-affairs', { kind: 'death', deathDate: '2026-01-01' })])).toEqual(['exempt', ['EXEMPT_DECEASED', 'EXEMPT_MOVED_OUT']]);
    expect(decide([household({ status: 'prison' }), insured('pension', 'resident'), insured('pension', 'employee'), insured('medical', 'resident')])).toEqual(['exempt', ['EXEMPT_PRISONER']]);
  });

  it('students are exempt only when coverage alone would make them survey targets', () => {
    const id = idFor('2008-05-01');
    const student = (): SourceRecord => record('education', { kind: 'enrolment', enrolled: true }, { citizenId: id });
    const hh = (over: Partial<HouseholdFacts> = {}): SourceRecord => household({ birthDate: '2008-05-01', ...over }, { citizenId: id });
    expect(decide([hh(), student()])).toEqual(['exempt', ['EXEMPT_STUDENT']]);
    expect(decide([hh(), student(), insured('medical', 'resident', {}, { citizenId: id })])).toEqual(['registered', ['COMPLETE']]);
    expect(decide([hh({ phone: undefined }), student()])).toEqual(['needs-survey', ['MISSING_PHONE', 'UNINSURED']]);
    expect(decide([hh(), student(), insured('medical', 'resident', {}, { citizenId: id }), insured('medical', 'employee', {}, { citizenId: id })])).toEqual(['duplicate', ['DUPLICATE_MEDICAL']]);
    expect(decide([hh(), record('education', { kind: 'enrolment', enrolled: false }, { citizenId: id }), insured('medical', 'resident', {}, { citizenId: id })])).toEqual(['needs-survey', ['PARTLY_INSURED_NO_PENSION']]);
  });

  it('flags a status exemption beside an applicable student exemption as open', () => {
    const id = idFor('2006-05-01');
    const e = expectedFor([household({ birthDate: '2006-05-01', status: 'moved-out' }, { citizenId: id }), record('education', { kind: 'enrolment', enrolled: true }, { citizenId: id })], COUNTY);
    expect([e.outcome, e.reasons, e.deterministic]).toEqual(['exempt', ['EXEMPT_MOVED_OUT'], false]);
    expect(e.openQuestion).toMatch(/EXEMPT_STUDENT/);
  });

  it('duplicates: two pension schemes, two medical schemes, one scheme in two regions; then survey reasons', () => {
    expect(decide([household(), ...covered(), insured('pension', 'employee')])).toEqual(['duplicate', ['DUPLICATE_PENSION']]);
    expect(decide([household(), ...covered(), insured('medical', 'employee')])).toEqual(['duplicate', ['DUPLICATE_MEDICAL']]);
    expect(decide([household(), ...covered(), insured('medical', 'resident', { region: '440106' }, { department: 'higher-registry' })])).toEqual(['duplicate', ['DUPLICATE_REGION']]);
    expect(decide([household(), ...covered(), insured('pension', 'employee'), insured('pension', 'employee', { region: '440305' }, { department: 'higher-registry' })])).toEqual(['duplicate', ['DUPLICATE_PENSION', 'DUPLICATE_REGION']]);
    expect(decide([household({ address: undefined }), ...employee(), insured('medical', 'resident'), record('tax', { kind: 'tax', employed: true, name: '李铭' })])).toEqual(['duplicate', ['DUPLICATE_MEDICAL', 'INACCURATE_NAME', 'MISSING_ADDRESS']]);
    // the same region reported by two departments is one region
    expect(decide([household(), ...covered(), insured('pension', 'resident', {}, { department: 'higher-registry' })])).toEqual(['registered', ['COMPLETE']]);
  });

  it('inaccurate information: the ID, then name, sex, birth date, in the page order', () => {
    const bad = `${ID.slice(0, 17)}${ID[17] === '0' ? '1' : '0'}`;
    const records = [household({}, { citizenId: bad }), insured('pension', 'resident', { name: '李铭', sex: 'female', birthDate: '1985-03-16' }, { citizenId: bad }), insured('medical', 'resident', {}, { citizenId: bad })];
    expect(decide(records)).toEqual(['needs-survey', ['INACCURATE_CITIZEN_ID', 'INACCURATE_NAME', 'INACCURATE_SEX', 'INACCURATE_BIRTH_DATE']]);
    // sex and birth date also against the valid ID
    expect(decide([household({ sex: 'female' }), ...covered()])).toEqual(['needs-survey', ['INACCURATE_SEX']]);
    expect(decide([household({ birthDate: '1985-05-13' }), ...covered()])).toEqual(['needs-survey', ['INACCURATE_BIRTH_DATE']]);
    // the ID of an invalid record is not a witness
    expect(decide([household({ sex: 'female' }, { citizenId: bad }), insured('pension', 'resident', {}, { citizenId: bad }), insured('medical', 'resident', {}, { citizenId: bad })])).toEqual(['needs-survey', ['INACCURATE_CITIZEN_ID']]);
  });

  it('compares names after trimming and full-width folding', () => {
    expect(normaliseName('\u3000李明 ')).toBe('李明');
    expect(normaliseName('ＡＢＣ')).toBe('ABC');
    expect(decide([household(), insured('pension', 'resident', { name: '李明\u3000' }), insured('medical', 'resident', { name: ' 李明' })])).toEqual(['registered', ['COMPLETE']]);
    expect(decide([household({ name: '王Ａ' }), insured('pension', 'resident', { name: '王A' }), insured('medical', 'resident')])).toEqual(['registered', ['COMPLETE']]);
  });

  it('missing phone and address: no source gives one', () => {
    expect(decide([household({ phone: undefined }), ...covered()])).toEqual(['needs-survey', ['MISSING_PHONE']]);
    expect(decide([household({ phone: undefined }), insured('pension', 'resident', { phone: '13900139000' }), insured('medical', 'resident')])).toEqual(['registered', ['COMPLETE']]);
    expect(decide([household({ phone: undefined, address: undefined }), ...covered()])).toEqual(['needs-survey', ['MISSING_PHONE', 'MISSING_ADDRESS']]);
  });

  it('accepts old 15-digit and lower-case-x IDs as valid', () => {
    const id15 = ID.slice(0, 6) + ID.slice(8, 17);
    expect(decide([household(), insured('pension', 'resident', {}, { citizenId: id15 }), insured('medical', 'resident', {}, { citizenId: id15 })])).toEqual(['registered', ['COMPLETE']]);
  });

  it('merges snapshots and changes per department and kind; an older record changes nothing', () => {
    const later = '2026-11-02T00:00:00Z';
    const change = household({ phone: undefined, sex: undefined, birthDate: undefined, address: undefined, status: 'moved-out' }, { mode: 'change', asOf: later });
    expect(decide([household(), ...covered(), change])).toEqual(['exempt', ['EXEMPT_MOVED_OUT']]);
    const snapshot = household({ phone: undefined, address: undefined }, { asOf: later });
    expect(decide([household(), ...covered(), snapshot])).toEqual(['needs-survey', ['MISSING_PHONE', 'MISSING_ADDRESS']]);
    const addPhone = household({ sex: undefined, birthDate: undefined, address: undefined, phone: '13900139000' }, { mode: 'change', asOf: later });
    expect(decide([household({ phone: undefined }), ...covered(), addPhone])).toEqual(['registered', ['COMPLETE']]);
    const older = household({ status: 'moved-out' }, { asOf: '2026-10-01T00:00:00Z' });
    const e = expectedFor([household(), ...covered(), older], COUNTY);
    expect([e.outcome, e.reasons, e.deterministic]).toEqual(['registered', ['COMPLETE'], true]);
    // ... unless the time it is compared at matters: 59 on 1 October, 60 on 1 November
    const id60 = idFor('1966-10-15');
    const turning = [household({ birthDate: '1966-10-15' }, { citizenId: id60 }), insured('medical', 'resident', {}, { citizenId: id60 })];
    const stale = household({ birthDate: '1966-10-15', status: 'moved-out' }, { citizenId: id60, asOf: '2026-10-01T00:00:00Z' });
    const open = expectedFor([...turning, stale], COUNTY);
    expect([open.outcome, open.reasons, open.deterministic]).toEqual(['needs-survey', ['PARTLY_INSURED_NO_PENSION'], false]);
    // insurance is one entry per type + scheme + region: a later snapshot of one scheme leaves the other
    expect(decide([household(), ...covered(), insured('pension', 'resident', { status: 'ended' }, { asOf: later })])).toEqual(['needs-survey', ['PARTLY_INSURED_NO_PENSION']]);
  });

  it('marks two departments stating one insurance with different statuses as open', () => {
    const echo = insured('pension', 'resident', { status: 'ended' }, { department: 'higher-registry' });
    const e = expectedFor([household(), ...covered(), echo], COUNTY);
    expect([e.outcome, e.reasons, e.deterministic]).toEqual(['registered', ['COMPLETE'], false]);
  });

  it('marks 29 February on 28 February of a common year as open', () => {
    const id = idFor('2000-02-29');
    const e = expectedFor([household({ birthDate: '2000-02-29' }, { citizenId: id, asOf: '2027-02-28T00:00:00Z' })], COUNTY);
    expect(e.deterministic).toBe(false);
  });
});

describe('oracle: status per insurance type (docs/design/coverage-statistics.md)', () => {
  const statuses = (records: SourceRecord[]): string[] =>
    Object.entries(expectedFor(records, COUNTY).coverage ?? {}).map(([type, c]) => `${type} ${c.status}${c.reason ? ` ${c.reason}` : ''}${c.regions.length ? ` [${c.regions.join(',')}]` : ''}`);

  it('states each type: insured here, not due without employment, not insured never enrolled or lapsed', () => {
    expect(statuses([household(), ...covered()])).toEqual([
      'pension insured-here [440981]',
      'medical insured-here [440981]',
      'unemployment not-due NOT_EMPLOYED',
      'work-injury not-due NOT_EMPLOYED',
      'maternity not-due NOT_EMPLOYED',
    ]);
    expect(statuses([household(), ...employee()]).slice(2)).toEqual(['unemployment insured-here [440981]', 'work-injury insured-here [440981]', 'maternity not-insured NEVER_ENROLLED']);
    expect(statuses([household(), insured('pension', 'resident', { status: 'ended' }), insured('medical', 'resident')])[0]).toBe('pension not-insured LAPSED');
  });

  it('puts students (pension), military and prisoners (every type) outside the denominator, and insured elsewhere where it is', () => {
    expect(statuses([household(), insured('medical', 'resident'), record('education', { kind: 'enrolment', enrolled: true })])[0]).toBe('pension exempt STUDENT');
    expect(statuses([household({ status: 'military' }), ...covered()])).toEqual(['pension', 'medical', 'unemployment', 'work-injury', 'maternity'].map((t) => `${t} exempt MILITARY`));
    expect(statuses([household(), ...covered(), record('justice', { kind: 'custody', inCustody: true })])[1]).toBe('medical exempt PRISONER');
    expect(statuses([household(), insured('pension', 'employee', { region: '440982' }, { department: 'higher-registry' })])[0]).toBe('pension insured-elsewhere [440982]');
    expect(statuses([household({ birthDate: '2016-01-01' }, { citizenId: idFor('2016-01-01') }), insured('medical', 'resident', {}, { citizenId: idFor('2016-01-01') })])[0]).toBe('pension not-due UNDER_AGE');
  });

  it('counts the household-registered population: neither moved out nor deceased', () => {
    expect(expectedFor([household()], COUNTY).inPopulation).toBe(true);
    expect(expectedFor([household({ status: 'moved-out' })], COUNTY).inPopulation).toBe(false);
    expect(expectedFor([household(), record('civil-affairs', { kind: 'death', deathDate: '2026-01-01' })], COUNTY).inPopulation).toBe(false);
    expect(expectedFor([insured('pension', 'employee')], COUNTY).inPopulation).toBe(false);
  });

  it('counts records linked to the person as theirs, saying nothing of the identity, and flags INACCURATE_CITIZEN_ID; the records are LINKED_TO_PERSON', () => {
    const typo = `${ID.slice(0, 17)}${ID[17] === '0' ? '1' : '0'}`;
    const linked = [insured('pension', 'resident', { name: '李敏', phone: '13911112222' }, { citizenId: typo })];
    const person = expectedFor([household(), insured('medical', 'resident')], COUNTY, undefined, { linked });
    expect([person.outcome, person.reasons]).toEqual(['needs-survey', ['INACCURATE_CITIZEN_ID']]);
    expect(person.coverage?.pension).toEqual({ status: 'insured-here', reason: null, regions: [COUNTY] });
    const records = expectedFor(linked, COUNTY, undefined, { linkedTo: ID });
    expect([records.outcome, records.reasons, records.coverage?.medical]).toEqual(['exempt', ['LINKED_TO_PERSON'], { status: 'exempt', reason: 'LINKED', regions: [] }]);
  });
});
