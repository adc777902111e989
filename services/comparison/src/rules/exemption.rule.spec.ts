import { DEFAULT_BIRTH, aged, codes, covered, custody, death, decide, enrolment, hitOf, household, insurance, invalidIdFor, person, recordOf, tax } from './spec-helpers';

describe('rule exemption v2', () => {
  describe('EXEMPT_DECEASED', () => {
    it('given household status deceased, when compared, then exempt as deceased', () => {
      const decision = decide(person(household({ status: 'deceased' })));
      expect(decision).toMatchObject({ outcome: 'exempt', reasons: [{ code: 'EXEMPT_DECEASED', rule: 'exemption', ruleVersion: 2 }] });
    });

    it('given a normal household but a death record, when compared, then exempt as deceased on the death record', () => {
      const decision = decide(person(household(), death({ deathDate: '2026-02-02' }, 'public-security')));
      expect(codes(decision)).toEqual(['EXEMPT_DECEASED']);
      expect(hitOf(decision, 'EXEMPT_DECEASED')?.facts).toEqual([{ source: 'public-security', field: 'deathDate', value: '2026-02-02', asOf: expect.any(String) }]);
    });

    it('given a living person, when compared, then not exempt', () => {
      expect(hitOf(decide(person(household())), 'EXEMPT_DECEASED')).toBeUndefined();
    });
  });

  describe.each([
    ['moved-out', 'EXEMPT_MOVED_OUT'],
    ['military', 'EXEMPT_MILITARY'],
    ['prison', 'EXEMPT_PRISONER'],
  ] as const)('household status %s', (status, code) => {
    it(`given an uninsured person with status ${status}, when compared, then exempt with ${code} and no UNINSURED reason`, () => {
      const decision = decide(person(household({ status })));
      expect(decision.outcome).toBe('exempt');
      expect(codes(decision)).toEqual([code]);
      expect(hitOf(decision, 'UNINSURED')).toBeDefined();
    });

    it(`given status ${status}, when the household record goes back to normal, then not exempt`, () => {
      const decision = decide(person(household({ status }, '2026-01-01T00:00:00Z'), household({}, '2026-03-01T00:00:00Z')));
      expect(decision.outcome).toBe('needs-survey');
      expect(codes(decision)).toEqual(['UNINSURED']);
    });
  });

  describe('EXEMPT_PRISONER from justice', () => {
    it('given custody inCustody true, when compared, then exempt as prisoner on the custody record', () => {
      const decision = decide(person(household(), custody({ since: '2025-01-01' })));
      expect(codes(decision)).toEqual(['EXEMPT_PRISONER']);
      expect(hitOf(decision, 'EXEMPT_PRISONER')?.facts).toEqual([{ source: 'justice', field: 'inCustody', value: true, asOf: expect.any(String) }]);
    });

    it('given custody inCustody false (released), when compared, then not exempt', () => {
      expect(codes(decide(person(household(), custody({ inCustody: false }))))).toEqual(['UNINSURED']);
    });

    it('given custody with a release date still ahead, when compared, then exempt; once the date has come, not (v2)', () => {
      expect(codes(decide(person(household(), custody({ releaseDate: '2026-11-02' }))))).toEqual(['EXEMPT_PRISONER']);
      expect(codes(decide(person(household(), custody({ releaseDate: '2026-11-01' }))))).toEqual(['UNINSURED']);
    });

    it('given household status prison and custody, when compared, then one EXEMPT_PRISONER with both facts', () => {
      const decision = decide(person(household({ status: 'prison' }), custody()));
      expect(codes(decision)).toEqual(['EXEMPT_PRISONER']);
      expect(hitOf(decision, 'EXEMPT_PRISONER')?.facts.map((f) => f.source)).toEqual(['public-security', 'justice']);
    });
  });

  describe('order of exemption reasons', () => {
    it('given deceased per civil affairs, moved out per public security and in custody, then DECEASED, MOVED_OUT, PRISONER in that order', () => {
      const decision = decide(person(custody(), household({ status: 'moved-out' }), death()));
      expect(codes(decision)).toEqual(['EXEMPT_DECEASED', 'EXEMPT_MOVED_OUT', 'EXEMPT_PRISONER']);
    });

    it('given military and in custody, then MILITARY before PRISONER', () => {
      expect(codes(decide(person(custody(), household({ status: 'military' }))))).toEqual(['EXEMPT_MILITARY', 'EXEMPT_PRISONER']);
    });
  });

  describe('EXEMPT_STUDENT: only from insurance-coverage reasons', () => {
    it('given an uninsured enrolled student, when compared, then exempt as student', () => {
      const decision = decide(aged(19, household(), enrolment({ school: '广东某大学', level: 'higher' })));
      expect(decision.outcome).toBe('exempt');
      expect(codes(decision)).toEqual(['EXEMPT_STUDENT']);
      expect(hitOf(decision, 'EXEMPT_STUDENT')?.facts).toEqual([
        { source: 'education', field: 'enrolled', value: true, asOf: expect.any(String) },
        { source: 'record', field: 'coverage reasons set aside', value: 'UNINSURED', asOf: null },
      ]);
    });

    it('given an uninsured student expected to graduate this year, when compared after 1 July, then no longer a student (v2)', () => {
      expect(codes(decide(aged(19, household(), enrolment({ expectedGraduationYear: 2027 }))))).toEqual(['EXEMPT_STUDENT']);
      expect(codes(decide(aged(19, household(), enrolment({ expectedGraduationYear: 2026 }))))).toEqual(['UNINSURED']);
      expect(codes(decide(aged(19, household(), enrolment({ expectedGraduationYear: 2026 })), {}, '2026-06-30T00:00:00.000Z'))).toEqual(['EXEMPT_STUDENT']);
    });

    it('given a student employed per tax without unemployment insurance, when compared, then exempt as student', () => {
      const decision = decide(aged(22, household(), ...covered(), tax(), enrolment()));
      expect(codes(decision)).toEqual(['EXEMPT_STUDENT']);
    });

    it('given a student with medical insurance only at working age, when compared, then registered directly (not partly insured, not exempt)', () => {
      const decision = decide(aged(20, household(), insurance('medical', 'resident'), enrolment()));
      expect(decision.outcome).toBe('registered');
      expect(codes(decision)).toEqual(['COMPLETE']);
    });

    it('given an uninsured student whose phone is missing, when compared, then needs survey for both (the exemption does not apply)', () => {
      const decision = decide(aged(19, household({ phone: undefined }), enrolment()));
      expect(decision.outcome).toBe('needs-survey');
      expect(codes(decision)).toEqual(['MISSING_PHONE', 'UNINSURED']);
      expect(hitOf(decision, 'EXEMPT_STUDENT')).toBeUndefined();
    });

    it('given an uninsured student whose ID is invalid, when compared, then needs survey (inaccurate information is no coverage reason)', () => {
      const decision = decide(recordOf(invalidIdFor(DEFAULT_BIRTH), false, household(), enrolment()));
      expect(decision.outcome).toBe('needs-survey');
      expect(codes(decision)).toEqual(['INACCURATE_CITIZEN_ID', 'UNINSURED']);
    });

    it('given a student enrolled in two pension schemes, when compared, then duplicate', () => {
      const decision = decide(aged(20, household(), insurance('pension', 'employee'), insurance('pension', 'resident'), enrolment()));
      expect(decision.outcome).toBe('duplicate');
      expect(codes(decision)).toEqual(['DUPLICATE_PENSION']);
    });

    it('given education says no longer enrolled, when compared, then uninsured', () => {
      expect(codes(decide(aged(19, household(), enrolment({ enrolled: false }))))).toEqual(['UNINSURED']);
    });

    it('given a fully insured student, when compared, then registered directly and no student hit', () => {
      const decision = decide(aged(19, household(), ...covered(), enrolment()));
      expect(decision.outcome).toBe('registered');
      expect(hitOf(decision, 'EXEMPT_STUDENT')).toBeUndefined();
    });

    it('given an uninsured student in custody, when compared, then PRISONER then STUDENT', () => {
      expect(codes(decide(aged(19, household(), custody(), enrolment())))).toEqual(['EXEMPT_PRISONER', 'EXEMPT_STUDENT']);
    });
  });

  describe('exempt outranks duplicate and needs survey', () => {
    it('given a moved-out person with two active pensions and an inaccurate name, when compared, then exempt', () => {
      const decision = decide(person(household({ status: 'moved-out' }), insurance('pension', 'employee', { name: '李朋' }), insurance('pension', 'resident')));
      expect(decision.outcome).toBe('exempt');
      expect(codes(decision)).toEqual(['EXEMPT_MOVED_OUT']);
      expect(decision.hits.map((h) => h.code)).toEqual(['DUPLICATE_PENSION', 'INACCURATE_NAME', 'EXEMPT_MOVED_OUT']);
    });
  });
});
