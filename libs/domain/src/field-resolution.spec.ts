import { resolveFields } from './field-resolution';
import type { FieldResolutionInput } from './field-resolution';
import type { Claimant, IdentityClaim, IdentityClaims } from './registration-record';

const JAN = '2025-01-01T00:00:00Z';
const FEB = '2025-02-01T00:00:00Z';
const MAR = '2025-03-01T00:00:00Z';

function claim(fields: Partial<Pick<IdentityClaim, 'name' | 'sex' | 'birthDate' | 'phone' | 'address'>>, asOf = FEB): IdentityClaim {
  const full = { name: null, sex: null, birthDate: null, phone: null, address: null, ...fields };
  return {
    ...full,
    asOf,
    eventId: `event-${asOf}`,
    fieldAsOf: {
      name: full.name === null ? null : asOf,
      sex: full.sex === null ? null : asOf,
      birthDate: full.birthDate === null ? null : asOf,
      phone: full.phone === null ? null : asOf,
      address: full.address === null ? null : asOf,
    },
  };
}

function record(claims: IdentityClaims, extra: Partial<FieldResolutionInput> = {}): FieldResolutionInput {
  return { claims, household: null, collected: null, ...extra };
}

const sources = (candidates: { source: string }[]): string[] => candidates.map((c) => c.source);

describe('resolveFields: which source wins each field, and why', () => {
  describe('name', () => {
    const every: IdentityClaims = {
      'higher-registry': claim({ name: '上级' }),
      justice: claim({ name: '司法' }),
      'civil-affairs': claim({ name: '民政' }),
      education: claim({ name: '教育' }),
      tax: claim({ name: '税务' }),
      'social-insurance': claim({ name: '社保' }),
      'public-security': claim({ name: '公安' }),
      survey: claim({ name: '调查' }),
    };

    it('given every source names the person, then the approved form wins and the candidates follow the precedence', () => {
      const { name } = resolveFields(record(every), null);
      expect(name.value).toBe('调查');
      expect(name.source).toBe('survey');
      expect(name.reason).toBe('the approved collected information was checked at the source and approved by the county (precedence 1)');
      expect(sources(name.candidates)).toEqual(['survey', 'public-security', 'social-insurance', 'tax', 'education', 'civil-affairs', 'justice', 'higher-registry']);
      expect(name.candidates[1]).toEqual({ source: 'public-security', value: '公安', asOf: FEB });
    });

    it.each([
      ['public-security', 2],
      ['social-insurance', 3],
      ['tax', 4],
      ['education', 5],
      ['civil-affairs', 6],
      ['justice', 7],
      ['higher-registry', 8],
    ] as const)('given no source above %s names the person, then it wins with precedence %i', (winner, rank) => {
      const order: Claimant[] = ['survey', 'public-security', 'social-insurance', 'tax', 'education', 'civil-affairs', 'justice', 'higher-registry'];
      const below = Object.fromEntries(order.slice(rank - 1).map((c) => [c, every[c]])) as IdentityClaims;
      const { name } = resolveFields(record(below), null);
      expect(name.source).toBe(winner);
      expect(name.reason).toContain(`(precedence ${rank})`);
      expect(name.reason).toContain(`${order.slice(0, rank - 1).join(', ')} give`);
    });

    it('given public security names the person, then the reason says it is the authority for household identity', () => {
      const { name } = resolveFields(record({ 'public-security': every['public-security'], tax: every.tax }), null);
      expect(name.reason).toBe('public-security is the authority for household identity (precedence 2); survey gives none');
    });

    it('given nobody names the person, then the value is null and the reason says so', () => {
      expect(resolveFields(record({ justice: claim({}) }), null).name).toEqual({ value: null, source: null, reason: 'no source gives a name', candidates: [] });
    });
  });

  describe.each(['sex', 'birthDate'] as const)('%s', (field) => {
    const id = { sex: 'female' as const, birthDate: '1990-01-01' };
    const stated = field === 'sex' ? { sex: 'male' as const } : { birthDate: '1991-02-02' };

    it('given public security states it, then public security wins over the citizen ID', () => {
      const r = resolveFields(record({ 'public-security': claim(stated), 'social-insurance': claim(stated) }), id)[field];
      expect(r.source).toBe('public-security');
      expect(sources(r.candidates)).toEqual(['public-security', 'citizen-id', 'social-insurance']);
      expect(r.candidates[1]).toEqual({ source: 'citizen-id', value: id[field], asOf: null });
    });

    it('given public security is silent and the ID is valid, then the ID wins over social insurance and education', () => {
      const r = resolveFields(record({ 'social-insurance': claim(stated), education: claim(stated) }), id)[field];
      expect(r).toMatchObject({ value: id[field], source: 'citizen-id', reason: expect.stringContaining('the valid citizen ID encodes') });
      expect(r.reason).toContain('(precedence 3); survey, public-security give none');
    });

    it('given an approved correction (the survey claim), then it wins over public security and the ID', () => {
      const corrected = field === 'sex' ? { sex: 'female' as const } : { birthDate: '1990-03-03' };
      const r = resolveFields(record({ survey: claim(corrected), 'public-security': claim(stated) }), id)[field];
      expect(r).toMatchObject({ value: corrected[field], source: 'survey', reason: 'a correction backed by evidence (ID card, household book) was approved by the county (precedence 1)' });
    });

    it('given no valid ID, then social insurance comes before education, and education before the rest', () => {
      expect(resolveFields(record({ education: claim(stated), 'social-insurance': claim(stated), 'higher-registry': claim(stated) }), null)[field].source).toBe('social-insurance');
      expect(resolveFields(record({ education: claim(stated), 'higher-registry': claim(stated) }), null)[field].source).toBe('education');
      expect(resolveFields(record({ 'higher-registry': claim(stated) }), null)[field]).toMatchObject({ source: 'higher-registry', reason: expect.stringContaining('(precedence 6)') });
    });
  });

  describe('phone', () => {
    it('given an approved form, then the form wins over a newer department phone', () => {
      const r = resolveFields(record({ survey: claim({ phone: '13800000000' }, JAN), 'public-security': claim({ phone: '13900000000' }, MAR) }), null).phone;
      expect(r).toMatchObject({ value: '13800000000', source: 'survey' });
    });

    it('given social insurance and public security, then the latest of the two wins', () => {
      const newerPs = resolveFields(record({ 'social-insurance': claim({ phone: '13700000000' }, JAN), 'public-security': claim({ phone: '13900000000' }, MAR) }), null).phone;
      expect(newerPs).toMatchObject({ value: '13900000000', source: 'public-security' });
      expect(newerPs.reason).toBe(`public-security gives a phone, the latest of public-security and social-insurance (as of ${MAR}) (precedence 2); survey gives none`);
      expect(sources(newerPs.candidates)).toEqual(['public-security', 'social-insurance']);
      const newerSi = resolveFields(record({ 'social-insurance': claim({ phone: '13700000000' }, MAR), 'public-security': claim({ phone: '13900000000' }, JAN) }), null).phone;
      expect(newerSi).toMatchObject({ value: '13700000000', source: 'social-insurance' });
    });

    it('given the two equally recent, then social insurance, listed first, wins', () => {
      const r = resolveFields(record({ 'public-security': claim({ phone: '13900000000' }), 'social-insurance': claim({ phone: '13700000000' }) }), null).phone;
      expect(r.source).toBe('social-insurance');
    });

    it('given the phone of one department came from an older record than its claim, then the field as-of decides', () => {
      const si: IdentityClaim = { ...claim({ phone: '13700000000' }, MAR), fieldAsOf: { name: null, sex: null, birthDate: null, phone: JAN, address: null } };
      const r = resolveFields(record({ 'social-insurance': si, 'public-security': claim({ phone: '13900000000' }, FEB) }), null).phone;
      expect(r.source).toBe('public-security');
      expect(r.candidates[1]).toEqual({ source: 'social-insurance', value: '13700000000', asOf: JAN });
    });

    it('given only other sources, then they rank third together and the latest of them wins', () => {
      expect(resolveFields(record({ 'higher-registry': claim({ phone: '13600000000' }) }), null).phone).toEqual({
        value: '13600000000',
        source: 'higher-registry',
        reason: 'higher-registry gives a phone (precedence 3); survey, social-insurance, public-security give none',
        candidates: [{ source: 'higher-registry', value: '13600000000', asOf: FEB }],
      });
      const r = resolveFields(record({ 'higher-registry': claim({ phone: '13600000000' }, JAN), tax: claim({ phone: '13500000000' }, MAR) }), null).phone;
      expect(r).toMatchObject({ source: 'tax', reason: `tax gives a phone, the latest of tax and higher-registry (as of ${MAR}) (precedence 3); survey, social-insurance, public-security give none` });
    });
  });

  describe('address', () => {
    it('given the household address and a form, then the household address wins, then the form, then social insurance', () => {
      const all = { 'social-insurance': claim({ address: '社保地址' }), survey: claim({ address: '常住地址' }), 'public-security': claim({ address: '户籍地址' }) };
      const r = resolveFields(record(all), null).address;
      expect(r).toMatchObject({ value: '户籍地址', source: 'public-security', reason: 'public-security holds the household address (precedence 1)' });
      expect(sources(r.candidates)).toEqual(['public-security', 'survey', 'social-insurance']);
      expect(resolveFields(record({ 'social-insurance': all['social-insurance'], survey: all.survey }), null).address.source).toBe('survey');
      expect(resolveFields(record({ 'social-insurance': all['social-insurance'], 'higher-registry': claim({ address: '外地' }) }), null).address.source).toBe('social-insurance');
    });
  });

  describe('household and residence', () => {
    it('given a household record and an approved form, then hukou comes from public security and residence from the form', () => {
      const household = {
        name: '张三',
        sex: null,
        birthDate: null,
        ethnicity: null,
        address: null,
        villageCode: '440981002201',
        hukouType: null,
        status: 'normal' as const,
        phone: null,
        householdNo: null,
        relationToHead: null,
        asOf: FEB,
        eventId: 'e1',
      };
      const collected = {
        name: '张三',
        phone: '13800000000',
        employmentStatus: 'farmer' as const,
        residenceAddress: '某地',
        residenceDivision: '440902001001',
        insurance: [],
        notInsuredReason: null,
        insuredElsewhere: false,
        citizenId: null,
        sex: null,
        birthDate: null,
        ethnicity: null,
        hukouType: null,
        employer: null,
        deathDate: null,
        approvals: {},
      };
      const r = resolveFields(record({ survey: claim({ name: '张三' }, MAR) }, { household, collected }), null);
      expect(r.hukouDivision).toEqual({ value: '440981002201', source: 'public-security', reason: expect.stringContaining('precedence 1'), candidates: [{ source: 'public-security', value: '440981002201', asOf: FEB }] });
      expect(r.residenceDivision).toEqual({ value: '440902001001', source: 'survey', reason: expect.stringContaining('precedence 1'), candidates: [{ source: 'survey', value: '440902001001', asOf: MAR }] });
    });

    it('given neither, then both are null with a reason', () => {
      const r = resolveFields(record({}), null);
      expect(r.hukouDivision).toEqual({ value: null, source: null, reason: 'no source gives a household village', candidates: [] });
      expect(r.residenceDivision.value).toBeNull();
    });
  });
});
