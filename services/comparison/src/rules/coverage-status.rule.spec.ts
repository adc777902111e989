import { compare } from './compare';
import { RULES } from './registry';
import { AS_OF, COUNTY, aged, business, covered, custody, death, decide, enrolment, household, insurance, invalidIdFor, person, recordOf, tax } from './spec-helpers';
import { DEFAULT_REGION_POLICY } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import type { CoverageHit, Decision } from './types';

const ELSEWHERE = '440982';

/** The statuses as `type status reason [regions]`, in INSURANCE_TYPES order. */
const statuses = (decision: Decision): string[] =>
  decision.coverage.map((c) => `${c.insuranceType} ${c.status}${c.reason ? ` ${c.reason}` : ''}${c.regions.length ? ` [${c.regions.join(',')}]` : ''}`);
const of = (decision: Decision, type: CoverageHit['insuranceType']): CoverageHit => decision.coverage.find((c) => c.insuranceType === type) as CoverageHit;

const employee = (): ReturnType<typeof insurance>[] => [
  insurance('pension', 'employee'),
  insurance('medical', 'employee'),
  insurance('unemployment', 'single'),
  insurance('work-injury', 'single'),
  insurance('maternity', 'single'),
];

describe('rule coverage-status v1: the status per insurance type', () => {
  it('given an employee insured here in all five, when compared, then insured here in each, with the entries as facts', () => {
    const decision = decide(person(household(), ...employee(), tax()));
    expect(statuses(decision)).toEqual([
      'pension insured-here [440981]',
      'medical insured-here [440981]',
      'unemployment insured-here [440981]',
      'work-injury insured-here [440981]',
      'maternity insured-here [440981]',
    ]);
    expect(of(decision, 'pension')).toEqual({
      insuranceType: 'pension',
      status: 'insured-here',
      reason: null,
      regions: [COUNTY],
      rule: 'coverage-status',
      ruleVersion: 1,
      detail: `insured in the home county: social-insurance pension:employee:${COUNTY}=active; record home county=${COUNTY}`,
      facts: [
        { source: 'social-insurance', field: `pension:employee:${COUNTY}`, value: 'active', asOf: expect.any(String) },
        { source: 'record', field: 'home county', value: COUNTY, asOf: null },
      ],
    });
  });

  it('given a farmer with resident pension and medical and no employment, when compared, then the employment types are not due', () => {
    const decision = decide(person(household(), ...covered()));
    expect(statuses(decision)).toEqual([
      'pension insured-here [440981]',
      'medical insured-here [440981]',
      'unemployment not-due NOT_EMPLOYED',
      'work-injury not-due NOT_EMPLOYED',
      'maternity not-due NOT_EMPLOYED',
    ]);
    expect(of(decision, 'maternity').facts).toEqual([{ source: 'record', field: 'tax', value: null, asOf: null }]);
  });

  it('given tax says not employed, when compared, then the employment types are not due on that fact', () => {
    const decision = decide(person(household(), ...covered(), tax({ employed: false })));
    expect(of(decision, 'unemployment')).toMatchObject({ status: 'not-due', reason: 'NOT_EMPLOYED', facts: [{ source: 'tax', field: 'employed', value: false }] });
  });

  it('given an employee without work injury and with unemployment suspended, when compared, then never enrolled and lapsed', () => {
    const decision = decide(person(household(), insurance('pension', 'employee'), insurance('medical', 'employee'), insurance('unemployment', 'single', { status: 'suspended' }), tax()));
    expect(statuses(decision).slice(2)).toEqual(['unemployment not-insured LAPSED', 'work-injury not-insured NEVER_ENROLLED', 'maternity not-insured NEVER_ENROLLED']);
    expect(of(decision, 'unemployment').facts).toEqual([{ source: 'social-insurance', field: `unemployment:single:${COUNTY}`, value: 'suspended', asOf: expect.any(String) }]);
    expect(of(decision, 'work-injury').facts).toEqual([{ source: 'social-insurance', field: 'work-injury', value: 'none active', asOf: null }]);
  });

  it('given a university student without pension, when compared, then exempt from pension as a student (seed 003), medical still due', () => {
    const decision = decide(aged(20, household(), insurance('medical', 'resident'), enrolment({ level: 'higher' })));
    expect(statuses(decision).slice(0, 2)).toEqual(['pension exempt STUDENT', 'medical insured-here [440981]']);
    expect(of(decision, 'pension').facts).toEqual([{ source: 'education', field: 'enrolled', value: true, asOf: expect.any(String) }]);
  });

  it('given an uninsured student, when compared, then pension exempt and medical not insured (the outcome exempts the student from survey)', () => {
    const decision = decide(aged(19, household(), enrolment()));
    expect(decision.outcome).toBe('exempt');
    expect(statuses(decision).slice(0, 2)).toEqual(['pension exempt STUDENT', 'medical not-insured NEVER_ENROLLED']);
  });

  it.each([
    [10, 'pension not-due UNDER_AGE'],
    [15, 'pension not-due UNDER_AGE'],
    [16, 'pension not-insured NEVER_ENROLLED'],
    [60, 'pension not-insured NEVER_ENROLLED'],
  ])('given someone aged %i with medical and no pension, when compared, then %s', (age, expected) => {
    expect(statuses(decide(aged(age, household(), insurance('medical', 'resident'))))[0]).toBe(expected);
  });

  it('given a region whose pension is due from 18, when a 17-year-old has none, then not due', () => {
    expect(statuses(decide(aged(17, household(), insurance('medical', 'resident')), { pensionMinAge: 18 }))[0]).toBe('pension not-due UNDER_AGE');
  });

  it('given no birth date anywhere and an invalid ID, when compared, then pension is due (not insured)', () => {
    const decision = decide(recordOf(invalidIdFor('1985-03-15'), false, household(), insurance('medical', 'resident')));
    expect(statuses(decision)[0]).toBe('pension not-insured NEVER_ENROLLED');
  });

  it('given insurance only in another county (higher registry), when compared, then insured elsewhere, naming where', () => {
    const decision = decide(person(household(), insurance('pension', 'employee', { region: ELSEWHERE }, 'higher-registry'), insurance('medical', 'employee', { region: ELSEWHERE }, 'higher-registry')));
    expect(statuses(decision).slice(0, 2)).toEqual([`pension insured-elsewhere [${ELSEWHERE}]`, `medical insured-elsewhere [${ELSEWHERE}]`]);
  });

  it('given the same pension active here and elsewhere, when compared, then insured here, both regions listed (and a duplicate)', () => {
    const decision = decide(person(household(), ...covered(), insurance('pension', 'resident', { region: ELSEWHERE }, 'higher-registry')));
    expect(decision.outcome).toBe('duplicate');
    expect(statuses(decision)[0]).toBe(`pension insured-here [${COUNTY},${ELSEWHERE}]`);
  });

  it('given a non-local worker insured here (no household), when compared, then insured here: home is the reporting county', () => {
    const decision = decide(person(insurance('pension', 'employee', { region: COUNTY }), insurance('medical', 'employee')));
    expect(statuses(decision).slice(0, 2)).toEqual(['pension insured-here [440981]', 'medical insured-here [440981]']);
  });

  it('given a region that counts only the employee pension, when the person has a resident one, then lapsed', () => {
    expect(statuses(decide(person(household(), ...covered()), { pensionSchemes: ['employee'] }))[0]).toBe('pension not-insured LAPSED');
  });

  it('given a region that does not assess maternity, when an employee has none, then maternity is not due (not assessed)', () => {
    const decision = decide(person(household(), ...employee().slice(0, 4), tax()), { coverageTypes: ['pension', 'medical', 'unemployment', 'work-injury'] });
    expect(of(decision, 'maternity')).toMatchObject({ status: 'not-due', reason: 'NOT_ASSESSED', facts: [{ source: 'policy', field: 'coverageTypes', value: 'pension, medical, unemployment, work-injury' }] });
  });

  it.each([
    ['military', household({ status: 'military' }), 'MILITARY'],
    ['moved out', household({ status: 'moved-out' }), 'MOVED_OUT'],
    ['in prison (household)', household({ status: 'prison' }), 'PRISONER'],
    ['deceased (household)', household({ status: 'deceased' }), 'DECEASED'],
  ])('given someone %s, when compared, then exempt in every type, even where insured', (_what, fact, reason) => {
    const decision = decide(person(fact, ...covered()));
    expect(decision.coverage.map((c) => [c.status, c.reason])).toEqual(Array.from({ length: 5 }, () => ['exempt', reason]));
  });

  it('given a prisoner per justice and a death record, when compared, then exempt as deceased first', () => {
    expect(of(decide(person(household(), custody(), death())), 'medical')).toMatchObject({ status: 'exempt', reason: 'DECEASED' });
    expect(of(decide(person(household(), custody())), 'medical')).toMatchObject({ status: 'exempt', reason: 'PRISONER', facts: [{ source: 'justice', field: 'inCustody', value: true }] });
  });

  // Time (issue 9): the status reads custody, studies and employment as the outcome's rules do, as of the decision day.
  it('given custody with a release date, when compared before and on that day, then prisoner before and assessed from it', () => {
    const released = (asOf: string) => decide(person(household(), ...covered(), custody({ releaseDate: '2026-11-02' })), {}, asOf);
    expect(of(released('2026-10-31T16:00:00.000Z'), 'medical')).toMatchObject({ status: 'exempt', reason: 'PRISONER' });
    expect(statuses(released('2026-11-01T16:00:00.000Z')).slice(0, 2)).toEqual(['pension insured-here [440981]', 'medical insured-here [440981]']);
  });

  it('given a student graduating in 2026, when compared before and after 1 July, then exempt from pension before and due after', () => {
    const student = aged(20, household(), insurance('medical', 'resident'), enrolment({ expectedGraduationYear: 2026 }));
    expect(statuses(decide(student, {}, '2026-06-29T16:00:00.000Z'))[0]).toBe('pension exempt STUDENT');
    expect(statuses(decide(student, {}, '2026-06-30T16:00:00.000Z'))[0]).toBe('pension not-insured NEVER_ENROLLED');
  });

  it('given tax says employed and the employer closed since, when compared, then the employment types are not due on the closing', () => {
    const CODE = '91440981MA4UJ1234X';
    const closed = business('employer.closed', { department: 'market-regulation', businessId: 'C-1', employerCreditCode: CODE, effectiveDate: '2026-10-15' }, '2026-10-20T00:00:00.000Z');
    const decision = decide(person(household(), ...covered(), tax({ employerCreditCode: CODE }), closed));
    expect(of(decision, 'unemployment')).toEqual({
      insuranceType: 'unemployment',
      status: 'not-due',
      reason: 'NOT_EMPLOYED',
      regions: [],
      rule: 'coverage-status',
      ruleVersion: 1,
      detail: `due with employment; not employed per employer record: tax employed=true; market-regulation employer ${CODE}=closed on 2026-10-15`,
      facts: [
        { source: 'tax', field: 'employed', value: true, asOf: expect.any(String) },
        { source: 'market-regulation', field: `employer ${CODE}`, value: 'closed on 2026-10-15', asOf: '2026-10-20T00:00:00.000Z' },
      ],
    });
  });

  it('given records linked to another person, when compared, then exempt in every type as linked', () => {
    const record: RegistrationRecord = recordOf(invalidIdFor('1985-03-15'), false, insurance('pension', 'resident'));
    const decision = compare(record, DEFAULT_REGION_POLICY, AS_OF, RULES, { linkedTo: { personKey: '440981198503150010', linkId: 'l1', status: 'proposed' }, linked: [] });
    expect(decision.coverage.map((c) => [c.status, c.reason])).toEqual(Array.from({ length: 5 }, () => ['exempt', 'LINKED']));
    expect(decision.coverage[0]?.facts).toEqual([{ source: 'record', field: 'linkedTo', value: '440981********0010 (proposed)', asOf: null }]);
  });
});
