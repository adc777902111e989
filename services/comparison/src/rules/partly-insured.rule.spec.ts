import { business, citizenIdFor, bornAged, aged, codes, covered, decide, enrolment, hitOf, household, insurance, person, recordOf, tax } from './spec-helpers';

describe('rule partly-insured v2', () => {
  describe('PARTLY_INSURED_EMPLOYEE', () => {
    it('given tax says employed and neither unemployment nor work injury is active, when compared, then PARTLY_INSURED_EMPLOYEE on those facts', () => {
      const decision = decide(person(household(), ...covered(), tax({ employer: '某公司' })));
      expect(decision.outcome).toBe('needs-survey');
      expect(codes(decision)).toEqual(['PARTLY_INSURED_EMPLOYEE']);
      expect(hitOf(decision, 'PARTLY_INSURED_EMPLOYEE')?.facts).toEqual([
        { source: 'tax', field: 'employed', value: true, asOf: expect.any(String) },
        { source: 'social-insurance', field: 'unemployment', value: 'none active', asOf: null },
        { source: 'social-insurance', field: 'work-injury', value: 'none active', asOf: null },
      ]);
      expect(decision.reasons[0].detail).toBe(
        'employed per tax without unemployment or work-injury insurance: tax employed=true; social-insurance unemployment=none active; social-insurance work-injury=none active',
      );
    });

    it('given unemployment active but work injury suspended, when compared, then it fires on work injury only', () => {
      const decision = decide(person(household(), ...covered(), tax(), insurance('unemployment', 'single'), insurance('work-injury', 'single', { status: 'suspended' })));
      expect(hitOf(decision, 'PARTLY_INSURED_EMPLOYEE')?.facts.map((f) => f.field)).toEqual(['employed', 'work-injury']);
    });

    it('given both active, when compared, then it does not fire', () => {
      expect(decide(person(household(), ...covered(), tax(), insurance('unemployment', 'single'), insurance('work-injury', 'single'))).outcome).toBe('registered');
    });

    const CODE = '91440981MA4UJ1234X';
    const closed = (effectiveDate: string, at = '2026-10-20T00:00:00.000Z') =>
      business('employer.closed', { department: 'market-regulation', businessId: `C-${effectiveDate}`, employerCreditCode: CODE, effectiveDate }, at);

    it('given tax says employed and the employer closed since, when compared, then it does not fire (v2)', () => {
      const decision = decide(person(household(), ...covered(), tax({ employerCreditCode: CODE }), closed('2026-10-15')));
      expect(decision.outcome).toBe('registered');
    });

    it('given the employer closes only after the decision day, when compared, then it still fires', () => {
      expect(codes(decide(person(household(), ...covered(), tax({ employerCreditCode: CODE }), closed('2026-12-31'))))).toEqual(['PARTLY_INSURED_EMPLOYEE']);
    });

    it('given another employer of the person closed, when compared, then the employment per tax stands', () => {
      const other = business('employer.closed', { department: 'tax', businessId: 'C-x', employerCreditCode: '91440981MA4UJ9999X', effectiveDate: '2026-10-15' }, '2026-10-20T00:00:00.000Z');
      expect(codes(decide(person(household(), ...covered(), tax({ employerCreditCode: CODE }), other)))).toEqual(['PARTLY_INSURED_EMPLOYEE']);
    });

    it('given no tax record but an employer opened, when compared, then it fires on the employer record', () => {
      const opened = business('employer.opened', { department: 'market-regulation', businessId: 'O-1', employerCreditCode: CODE, employerName: '某公司', effectiveDate: '2026-09-01' }, '2026-09-02T00:00:00.000Z');
      const decision = decide(person(household(), ...covered(), opened));
      expect(hitOf(decision, 'PARTLY_INSURED_EMPLOYEE')?.detail).toBe(
        `employed per employer record without unemployment or work-injury insurance: market-regulation employer ${CODE}=open since 2026-09-01; social-insurance unemployment=none active; social-insurance work-injury=none active`,
      );
    });

    it('given tax says not employed, when compared, then it does not fire', () => {
      expect(decide(person(household(), ...covered(), tax({ employed: false }))).outcome).toBe('registered');
    });
  });

  describe('PARTLY_INSURED_NO_PENSION', () => {
    const medicalOnly = (age: number, ...more: Parameters<typeof aged>[1][]) => decide(aged(age, household(), insurance('medical', 'resident'), ...more));

    it('given medical without pension at 15, when compared, then it does not fire: pension is not due yet', () => {
      const decision = medicalOnly(15);
      expect(decision.outcome).toBe('registered');
    });

    it('given medical without pension at 16, when compared, then PARTLY_INSURED_NO_PENSION', () => {
      const decision = medicalOnly(16);
      expect(codes(decision)).toEqual(['PARTLY_INSURED_NO_PENSION']);
      expect(hitOf(decision, 'PARTLY_INSURED_NO_PENSION')?.facts).toEqual([
        { source: 'social-insurance', field: 'medical:resident:440981', value: 'active', asOf: expect.any(String) },
        { source: 'social-insurance', field: 'pension', value: 'none active', asOf: null },
        { source: 'citizen-id', field: 'birthDate', value: bornAged(16), asOf: null },
        { source: 'record', field: 'age on 2026-11-01', value: 16, asOf: null },
        { source: 'policy', field: 'working age', value: '16-59', asOf: null },
      ]);
    });

    it('given someone turning 16 tomorrow, when compared, then it does not fire', () => {
      expect(decide(recordOf(citizenIdFor(bornAged(16, '2026-11-02')), true, household(), insurance('medical', 'resident'))).outcome).toBe('registered');
    });

    it('given medical without pension at 59, when compared, then PARTLY_INSURED_NO_PENSION and not AGE_60_NO_PENSION', () => {
      expect(codes(medicalOnly(59))).toEqual(['PARTLY_INSURED_NO_PENSION']);
    });

    it('given medical without pension at 60, when compared, then AGE_60_NO_PENSION instead', () => {
      expect(codes(medicalOnly(60))).toEqual(['AGE_60_NO_PENSION']);
    });

    it('given a working-age student with medical only, when compared, then it does not fire', () => {
      expect(hitOf(medicalOnly(30, enrolment()), 'PARTLY_INSURED_NO_PENSION')).toBeUndefined();
    });

    it('given a suspended pension, when compared, then the pension does not count and it fires', () => {
      expect(codes(medicalOnly(30, insurance('pension', 'resident', { status: 'suspended' })))).toEqual(['PARTLY_INSURED_NO_PENSION']);
    });

    it('given no birth date anywhere (invalid ID), when compared, then it does not fire: the age is unknown', () => {
      const decision = decide(recordOf('44098119850315001Y', false, household(), insurance('medical', 'resident')));
      expect(codes(decision)).toEqual(['INACCURATE_CITIZEN_ID']);
    });

    it('given the decision is taken in China on the 16th birthday at 00:30, when compared, then 16', () => {
      const record = recordOf(citizenIdFor('2010-11-01'), true, household(), insurance('medical', 'resident'));
      expect(codes(decide(record, {}, '2026-10-31T16:30:00.000Z'))).toEqual(['PARTLY_INSURED_NO_PENSION']);
      expect(decide(record, {}, '2026-10-31T15:30:00.000Z').outcome).toBe('registered');
    });
  });

  it('given both, when compared, then EMPLOYEE before NO_PENSION', () => {
    expect(codes(decide(aged(30, household(), insurance('medical', 'employee'), tax())))).toEqual(['PARTLY_INSURED_EMPLOYEE', 'PARTLY_INSURED_NO_PENSION']);
  });
});
