import { compare, decisionChanged, inComparisonScope } from './compare';
import { DEFAULT_REGION_POLICY, REASON_LABELS } from '@qmcb/domain';
import { RULES } from './registry';
import { AS_OF, aged, codes, covered, custody, death, decide, enrolment, hitCodes, household, insurance, person, tax, welfare } from './spec-helpers';
import { REASON_CODES, RULE_NAMES } from './types';

describe('compare: outcome precedence and reasons', () => {
  it('has one named, versioned rule per name, in evaluation order', () => {
    // exemption and partly-insured are at 2 since time entered them (issue 9: graduation, release, employers).
    const versions: Record<string, number> = { exemption: 2, 'partly-insured': 2 };
    expect(RULES.map((r) => [r.name, r.version])).toEqual(RULE_NAMES.map((name) => [name, versions[name] ?? 1]));
  });

  describe('precedence between outcomes', () => {
    it('1. benefit after death outranks the exemption of the deceased, duplicates and survey reasons', () => {
      const record = person(household({ status: 'deceased', phone: undefined }), insurance('pension', 'employee', { benefitStatus: 'receiving' }), insurance('pension', 'resident'));
      const decision = decide(record);
      expect(decision.outcome).toBe('needs-survey');
      expect(codes(decision)).toEqual(['BENEFIT_AFTER_DEATH']);
      expect(hitCodes(decision)).toEqual(['BENEFIT_AFTER_DEATH', 'DUPLICATE_PENSION', 'MISSING_PHONE', 'EXEMPT_DECEASED']);
    });

    it('2. exempt outranks duplicate', () => {
      expect(decide(person(household({ status: 'military' }), insurance('medical', 'employee'), insurance('medical', 'resident'))).outcome).toBe('exempt');
    });

    it('3. duplicate outranks needs survey, and carries its survey reasons after the duplicate codes', () => {
      const decision = decide(aged(62, household({ address: undefined }), insurance('medical', 'employee'), insurance('medical', 'resident')));
      expect(decision.outcome).toBe('duplicate');
      expect(codes(decision)).toEqual(['DUPLICATE_MEDICAL', 'MISSING_ADDRESS', 'AGE_60_NO_PENSION']);
    });

    it('4. needs survey outranks registered directly', () => {
      expect(decide(person(household({ phone: undefined }), ...covered())).outcome).toBe('needs-survey');
    });

    it('5. registered directly when nothing else applies', () => {
      expect(decide(person(household(), ...covered(), welfare(), tax({ employed: false }), custody({ inCustody: false }), enrolment({ enrolled: false }))).outcome).toBe('registered');
    });
  });

  it('lists every survey reason in the documented order', () => {
    const decision = compare(
      aged(63, household({ name: '李明', sex: 'female', birthDate: '1963-01-01', phone: undefined, address: undefined }), insurance('medical', 'resident', { name: '李朋' }), tax()),
      DEFAULT_REGION_POLICY,
      AS_OF,
    );
    expect(codes(decision)).toEqual([
      'INACCURATE_NAME',
      'INACCURATE_SEX',
      'INACCURATE_BIRTH_DATE',
      'MISSING_PHONE',
      'MISSING_ADDRESS',
      'PARTLY_INSURED_EMPLOYEE',
      'AGE_60_NO_PENSION',
    ]);
    for (const reason of decision.reasons) expect(Object.keys(reason).sort()).toEqual(['code', 'detail', 'rule', 'ruleVersion']);
    expect(decision.hits.every((h) => h.facts.length > 0 && h.detail.length > 0 && h.detail.length <= 512)).toBe(true);
  });

  it('computes ages at the given time, not now: the same record and time always decide the same', () => {
    const record = aged(59, household(), insurance('medical', 'resident'));
    const before = decide(record, {}, AS_OF);
    expect(codes(before)).toEqual(['PARTLY_INSURED_NO_PENSION']);
    expect(decide(JSON.parse(JSON.stringify(record)), {}, AS_OF)).toEqual(before);
    expect(codes(decide(record, {}, '2027-11-01T00:00:00.000Z'))).toEqual(['AGE_60_NO_PENSION']);
  });

  it('refuses a time that is not ISO 8601', () => {
    expect(() => decide(person(household()), {}, 'yesterday')).toThrow(RangeError);
  });

  it('never changes the record it is given', () => {
    const record = person(household(), death(), insurance('pension', 'resident', { receivingBenefit: true }));
    const copy = JSON.stringify(record);
    decide(record);
    expect(JSON.stringify(record)).toBe(copy);
  });
});

describe('inComparisonScope: only people we register', () => {
  it('given a household record here, then in scope', () => {
    expect(inComparisonScope(person(household()))).toBe(true);
  });

  it('given insurance from our social-insurance systems, whatever its status, then in scope', () => {
    expect(inComparisonScope(person(insurance('pension', 'resident', { status: 'ended' })))).toBe(true);
  });

  it.each([
    ['a tax record', tax()],
    ['a welfare record', welfare()],
    ['a death record', death()],
    ['an enrolment', enrolment()],
    ['a custody record', custody()],
    ['insurance elsewhere from the higher registry', insurance('pension', 'resident', { region: '440103' }, 'higher-registry')],
  ])('given only %s, then not in scope', (_what, fact) => {
    expect(inComparisonScope(person(fact))).toBe(false);
  });

  it('given a tax record first, when the household record arrives, then in scope', () => {
    expect(inComparisonScope(person(tax(), household()))).toBe(true);
  });
});

describe('decisionChanged', () => {
  const decision = { outcome: 'needs-survey' as const, reasons: [{ code: 'UNINSURED', rule: 'uninsured', ruleVersion: 1, detail: 'x' }], coverage: [] };

  it('is true for a first decision', () => {
    expect(decisionChanged(null, decision)).toBe(true);
  });

  it('is false when outcome and codes are the same, whatever the detail and order', () => {
    const two = { outcome: 'needs-survey' as const, reasons: [{ code: 'A', rule: 'r', ruleVersion: 1, detail: '1' }, { code: 'B', rule: 'r', ruleVersion: 1, detail: '2' }], coverage: [] };
    expect(decisionChanged({ outcome: 'needs-survey', reasons: [{ code: 'B' }, { code: 'A' }] }, two)).toBe(false);
    expect(decisionChanged({ outcome: 'needs-survey', reasons: [{ code: 'UNINSURED' }] }, decision)).toBe(false);
  });

  it('is true when the outcome or a code differs', () => {
    expect(decisionChanged({ outcome: 'exempt', reasons: [{ code: 'UNINSURED' }] }, decision)).toBe(true);
    expect(decisionChanged({ outcome: 'needs-survey', reasons: [{ code: 'MISSING_PHONE' }] }, decision)).toBe(true);
  });

  it('is true when a status per insurance type differs (status, reason or regions), or was never decided (a v2 decision)', () => {
    const pension = { insuranceType: 'pension', status: 'insured-here', reason: null, regions: ['440981'] };
    const with_ = { ...decision, coverage: [pension] };
    expect(decisionChanged({ ...decision, coverage: [pension] }, with_)).toBe(false);
    expect(decisionChanged({ ...decision, coverage: [{ ...pension, regions: ['440982'] }] }, with_)).toBe(true);
    expect(decisionChanged({ ...decision, coverage: [{ ...pension, status: 'not-insured', reason: 'LAPSED', regions: [] }] }, with_)).toBe(true);
    expect(decisionChanged({ outcome: 'needs-survey', reasons: [{ code: 'UNINSURED' }], coverage: [] }, with_)).toBe(true);
    expect(decisionChanged({ outcome: 'needs-survey', reasons: [{ code: 'UNINSURED' }] }, with_)).toBe(true);
  });
});

describe('reason labels', () => {
  it('every reason code has a Chinese label and explanation for windows and ledgers', () => {
    for (const code of REASON_CODES) {
      expect(REASON_LABELS[code]).toEqual({ label: expect.stringMatching(/\p{Script=Han}/u), explanation: expect.stringMatching(/\p{Script=Han}/u), collect: expect.any(Array) });
    }
    expect(Object.keys(REASON_LABELS).sort()).toEqual([...REASON_CODES].sort());
  });
});
