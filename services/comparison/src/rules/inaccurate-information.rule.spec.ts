import { DEFAULT_BIRTH, approvedForm, codes, covered, decide, enrolment, hitOf, household, insurance, invalidIdFor, person, recordOf, tax } from './spec-helpers';
import { normaliseName } from './inaccurate-information.rule';

describe('rule inaccurate-information v1', () => {
  describe('INACCURATE_CITIZEN_ID', () => {
    it('given an ID that fails GB 11643, when compared, then needs survey with INACCURATE_CITIZEN_ID on the masked ID', () => {
      const id = invalidIdFor(DEFAULT_BIRTH);
      const decision = decide(recordOf(id, false, household(), ...covered()));
      expect(decision.outcome).toBe('needs-survey');
      expect(codes(decision)).toEqual(['INACCURATE_CITIZEN_ID']);
      expect(hitOf(decision, 'INACCURATE_CITIZEN_ID')?.facts).toEqual([{ source: 'citizen-id', field: 'citizenId', value: `${id.slice(0, 6)}********${id.slice(-4)}`, asOf: null }]);
      expect(hitOf(decision, 'INACCURATE_CITIZEN_ID')?.detail).not.toContain(id);
    });

    it('given a valid ID, when compared, then it does not fire', () => {
      expect(decide(person(household(), ...covered())).outcome).toBe('registered');
    });
  });

  describe('INACCURATE_NAME', () => {
    it('given public security and tax name the person differently, when compared, then INACCURATE_NAME with what each says', () => {
      const decision = decide(person(household({ name: '李明' }), ...covered(), tax({ name: '李朋' }), insurance('unemployment', 'single'), insurance('work-injury', 'single')));
      expect(codes(decision)).toEqual(['INACCURATE_NAME']);
      expect(hitOf(decision, 'INACCURATE_NAME')?.facts).toEqual([
        { source: 'public-security', field: 'name', value: '李明', asOf: expect.any(String) },
        { source: 'tax', field: 'name', value: '李朋', asOf: expect.any(String) },
      ]);
      expect(hitOf(decision, 'INACCURATE_NAME')?.detail).toBe('sources disagree on the name: public-security name=李明; tax name=李朋');
    });

    it('given names that differ only in surrounding spaces or full-width letters, when compared, then they agree', () => {
      expect(normaliseName('　Ａｌｉｃｅ·李 ')).toBe('Alice·李');
      const decision = decide(person(household({ name: 'Alice·李' }), insurance('pension', 'resident', { name: ' Ａｌｉｃｅ·李' }), insurance('medical', 'resident', { name: 'Alice·李　' })));
      expect(decision.outcome).toBe('registered');
    });

    it('given social insurance names the person differently from public security, when compared, then it fires', () => {
      expect(codes(decide(person(household(), insurance('pension', 'resident', { name: '李名' }), insurance('medical', 'resident'))))).toEqual(['INACCURATE_NAME']);
    });

    it('given the pension and the medical business systems name the person differently, when compared, then it fires on both entries (§8)', () => {
      const decision = decide(person(household({ name: '李明' }), insurance('pension', 'resident', { name: '李明' }), insurance('medical', 'resident', { name: '李鸣' })));
      expect(codes(decision)).toEqual(['INACCURATE_NAME']);
      expect(hitOf(decision, 'INACCURATE_NAME')?.facts.map((f) => [f.source, f.field, f.value])).toEqual([
        ['public-security', 'name', '李明'],
        ['social-insurance', 'medical:resident:440981.name', '李鸣'],
        ['social-insurance', 'pension:resident:440981.name', '李明'],
      ]);
    });

    it('given a department corrected the name in a newer record of the same entry, when compared, then it does not fire', () => {
      const decision = decide(
        person(household(), insurance('pension', 'resident', { name: '李鸣' }, 'social-insurance', '2026-01-01T00:00:00Z'), insurance('pension', 'resident', { name: '李明' }, 'social-insurance', '2026-02-01T00:00:00Z'), insurance('medical', 'resident')),
      );
      expect(decision.outcome).toBe('registered');
    });

    it('given a civil-affairs death record names the person differently, when compared, then the name disagreement is among the hits (the outcome is exempt)', () => {
      const decision = decide(person(household(), ...covered(), { department: 'civil-affairs', facts: { kind: 'death', deathDate: '2026-01-01', name: '李朋' } }));
      expect(hitOf(decision, 'INACCURATE_NAME')?.facts.map((f) => f.field)).toEqual(['name', 'death.name']);
      expect(decision.outcome).toBe('exempt');
    });

    it('given an approved form settled the name, when departments still disagree, then it no longer fires', () => {
      const decision = decide(person(household({ name: '李朋' }), ...covered(), approvedForm({ name: '李明' })));
      expect(hitOf(decision, 'INACCURATE_NAME')).toBeUndefined();
      expect(decision.outcome).toBe('registered');
    });
  });

  describe('INACCURATE_SEX', () => {
    it('given public security says female and the valid ID encodes male, when compared, then INACCURATE_SEX', () => {
      const decision = decide(person(household({ sex: 'female' }), ...covered()));
      expect(codes(decision)).toEqual(['INACCURATE_SEX']);
      expect(hitOf(decision, 'INACCURATE_SEX')?.facts).toEqual([
        { source: 'public-security', field: 'sex', value: 'female', asOf: expect.any(String) },
        { source: 'citizen-id', field: 'sex', value: 'male', asOf: null },
      ]);
    });

    it('given public security agrees with the ID but social insurance does not, when compared, then INACCURATE_SEX', () => {
      expect(codes(decide(person(household({ sex: 'male' }), insurance('pension', 'resident', { sex: 'female' }), insurance('medical', 'resident'))))).toEqual(['INACCURATE_SEX']);
    });

    it('given an invalid ID and sources that agree, when compared, then no INACCURATE_SEX', () => {
      const decision = decide(recordOf(invalidIdFor(DEFAULT_BIRTH, 'female'), false, household({ sex: 'male' }), ...covered()));
      expect(codes(decision)).toEqual(['INACCURATE_CITIZEN_ID']);
    });

    it('given every source agrees with the ID, when compared, then it does not fire', () => {
      expect(decide(person(household({ sex: 'male' }), insurance('pension', 'resident', { sex: 'male' }), insurance('medical', 'resident'))).outcome).toBe('registered');
    });
  });

  describe('INACCURATE_BIRTH_DATE', () => {
    it('given education states another birth date than the ID, when compared, then INACCURATE_BIRTH_DATE', () => {
      const decision = decide(person(household(), ...covered(), enrolment({ enrolled: false, birthDate: '1985-03-16' })));
      expect(codes(decision)).toEqual(['INACCURATE_BIRTH_DATE']);
      expect(hitOf(decision, 'INACCURATE_BIRTH_DATE')?.facts.map((f) => [f.source, f.value])).toEqual([
        ['education', '1985-03-16'],
        ['citizen-id', DEFAULT_BIRTH],
      ]);
    });

    it('given public security states the birth date the ID encodes, when compared, then it does not fire', () => {
      expect(decide(person(household({ birthDate: DEFAULT_BIRTH }), ...covered())).outcome).toBe('registered');
    });
  });

  it('given every kind of inaccuracy, when compared, then the codes come in the documented order', () => {
    const decision = decide(recordOf(invalidIdFor(DEFAULT_BIRTH), false, household({ sex: 'male', birthDate: DEFAULT_BIRTH }), ...covered(), enrolment({ enrolled: false, name: '李朋', sex: 'female', birthDate: '1985-01-01' })));
    expect(codes(decision)).toEqual(['INACCURATE_CITIZEN_ID', 'INACCURATE_NAME', 'INACCURATE_SEX', 'INACCURATE_BIRTH_DATE']);
  });
});
