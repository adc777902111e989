import { readFileSync } from 'fs';
import { DEFAULT_REGION_POLICY, RegionPolicyError, loadRegionPolicies, parseRegionPolicies, policyFor, policyForDivision, regionPoliciesFile } from '@qmcb/domain';
import { compare } from './compare';
import { AS_OF, aged, approvedForm, codes, household, insurance, recordOf, citizenIdFor, DEFAULT_BIRTH } from './spec-helpers';

describe('region policy', () => {
  it('has the defaults of the design page', () => {
    expect(DEFAULT_REGION_POLICY).toEqual({
      pensionMinAge: 16,
      retirementAge: 60,
      pensionAgeCheck: 60,
      requirePhone: true,
      requireAddress: true,
      pensionSchemes: ['employee', 'resident'],
      medicalSchemes: ['employee', 'resident'],
      surveyBy: 'household',
      coverageTypes: ['pension', 'medical', 'unemployment', 'work-injury', 'maternity'],
      coverageTargets: {},
      reviewSkipsInitial: [],
      reviewDueDays: 5,
      reviewBusinessEvents: [],
    });
  });

  describe('parseRegionPolicies', () => {
    const policies = parseRegionPolicies({
      $comment: 'ignored',
      regions: {
        '44': { requirePhone: false, retirementAge: 63 },
        '4409': { retirementAge: 65, pensionSchemes: ['employee'] },
        '440981': { requirePhone: true },
      },
    });

    it('given province, city and county overrides, then for each field the longest prefix that sets it wins', () => {
      expect(policyForDivision('440981002001', policies)).toEqual({ ...DEFAULT_REGION_POLICY, requirePhone: true, retirementAge: 65, pensionSchemes: ['employee'] });
      expect(policyForDivision('440902001001', policies)).toEqual({ ...DEFAULT_REGION_POLICY, requirePhone: false, retirementAge: 65, pensionSchemes: ['employee'] });
      expect(policyForDivision('440103', policies)).toEqual({ ...DEFAULT_REGION_POLICY, requirePhone: false, retirementAge: 63 });
      expect(policyForDivision('110105001001', policies)).toEqual(DEFAULT_REGION_POLICY);
      expect(policyForDivision(null, policies)).toEqual(DEFAULT_REGION_POLICY);
    });

    it('given a county that surveys where people live, then its surveyBy is residence and the rest stays', () => {
      expect(policyForDivision('440981002001', parseRegionPolicies({ regions: { '440981': { surveyBy: 'residence' } } }))).toEqual({ ...DEFAULT_REGION_POLICY, surveyBy: 'residence' });
    });

    it('given coverage targets and assessed types (seed 003, 滕州), then they apply whole to the county and below', () => {
      const tengzhou = parseRegionPolicies({ regions: { '37': { coverageTargets: { pension: 0.8 } }, '370481': { coverageTargets: { medical: 0.97, pension: 0.9 }, coverageTypes: ['pension', 'medical', 'unemployment', 'work-injury'] } } });
      expect(policyForDivision('370481001001', tengzhou)).toEqual({
        ...DEFAULT_REGION_POLICY,
        coverageTargets: { medical: 0.97, pension: 0.9 },
        coverageTypes: ['pension', 'medical', 'unemployment', 'work-injury'],
      });
      expect(policyForDivision('370402', tengzhou)).toEqual({ ...DEFAULT_REGION_POLICY, coverageTargets: { pension: 0.8 } });
    });

    it('given a county that reviews household moves, then those business events wait for its approval and the rest stays', () => {
      const reviewing = parseRegionPolicies({ regions: { '440981': { reviewBusinessEvents: ['household.moved-out', 'household.moved-in'] } } });
      expect(policyForDivision('440981002001', reviewing)).toEqual({ ...DEFAULT_REGION_POLICY, reviewBusinessEvents: ['household.moved-out', 'household.moved-in'] });
      expect(policyForDivision('440902001001', reviewing)).toEqual(DEFAULT_REGION_POLICY);
    });

    it('given no regions, then every division has the defaults', () => {
      expect(policyForDivision('440981002001', parseRegionPolicies({}))).toEqual(DEFAULT_REGION_POLICY);
    });

    it.each([
      [{ regions: { '4409810': {} } }, 'regions key "4409810" must be a 2-, 4- or 6-digit division prefix'],
      [{ regions: { gz: {} } }, 'regions key "gz" must be a 2-, 4- or 6-digit division prefix'],
      [{ regions: { '44': { pensionAge: 16 } } }, 'regions["44"].pensionAge is not a policy field'],
      [{ regions: { '44': { pensionMinAge: '16' } } }, 'regions["44"].pensionMinAge must be an integer from 0 to 150'],
      [{ regions: { '44': { retirementAge: 60.5 } } }, 'regions["44"].retirementAge must be an integer from 0 to 150'],
      [{ regions: { '44': { requirePhone: 'yes' } } }, 'regions["44"].requirePhone must be true or false'],
      [{ regions: { '4409': { medicalSchemes: ['employee', 'rural'] } } }, 'regions["4409"].medicalSchemes must be a non-empty list of schemes'],
      [{ regions: { '4409': { medicalSchemes: [] } } }, 'regions["4409"].medicalSchemes must be a non-empty list of schemes'],
      [{ regions: { '4409': { pensionSchemes: ['employee', 'employee'] } } }, 'regions["4409"].pensionSchemes lists a scheme twice'],
      [{ regions: { '44': { retirementAge: 70 }, '4409': { pensionMinAge: 70 } } }, 'regions["4409"]: pensionMinAge (70) must be below retirementAge (70)'],
      [{ regions: { '44': [] } }, 'regions["44"] must be an object of policy fields'],
      [{ regions: { '4409': { surveyBy: 'workplace' } } }, 'regions["4409"].surveyBy must be one of household, residence'],
      [{ regions: { '37': { coverageTargets: { medical: 97 } } } }, 'regions["37"].coverageTargets.medical must be a fraction above 0 and at most 1 (0.97 for 97%)'],
      [{ regions: { '37': { coverageTargets: { medical: 0 } } } }, 'regions["37"].coverageTargets.medical must be a fraction above 0 and at most 1'],
      [{ regions: { '37': { coverageTargets: { health: 0.9 } } } }, 'regions["37"].coverageTargets.health is not an insurance type'],
      [{ regions: { '37': { coverageTargets: [0.97] } } }, 'regions["37"].coverageTargets must be an object of insurance type to target'],
      [{ regions: { '37': { coverageTypes: [] } } }, 'regions["37"].coverageTypes must be a non-empty list of insurance types'],
      [{ regions: { '37': { coverageTypes: ['pension', 'dental'] } } }, 'regions["37"].coverageTypes must be a non-empty list of insurance types'],
      [{ regions: { '37': { coverageTypes: ['pension', 'pension'] } } }, 'regions["37"].coverageTypes lists an insurance type twice'],
      [{ regions: { '4409': { reviewSkipsInitial: ['phone'] } } }, 'regions["4409"].reviewSkipsInitial must be a list of channels (survey, window, self-service, grassroots, department)'],
      [{ regions: { '4409': { reviewSkipsInitial: ['window', 'window'] } } }, 'regions["4409"].reviewSkipsInitial lists a channel twice'],
      [{ regions: { '4409': { reviewDueDays: 0 } } }, 'regions["4409"].reviewDueDays must be an integer from 1 to 365'],
      [{ regions: { '4409': { reviewBusinessEvents: ['household.moved'] } } }, 'regions["4409"].reviewBusinessEvents must be a list of business event types'],
      [{ regions: { '4409': { reviewBusinessEvents: ['death.registered', 'death.registered'] } } }, 'regions["4409"].reviewBusinessEvents lists a type twice'],
      [{ region: {} }, 'unknown top-level key "region"'],
      [[], 'must be a JSON object with "regions"'],
    ])('given %j, then it is refused naming the bad key', (json, message) => {
      expect(() => parseRegionPolicies(json, 'region-policies.json')).toThrow(RegionPolicyError);
      expect(() => parseRegionPolicies(json, 'region-policies.json')).toThrow(`region-policies.json: ${message}`);
    });
  });

  describe('loadRegionPolicies', () => {
    it('reads and accepts the shipped file', () => {
      expect(regionPoliciesFile({})).toBe(`${process.cwd()}/config/region-policies.json`);
      expect(regionPoliciesFile({ REGION_POLICIES_FILE: '/etc/qmcb/policies.json' })).toBe('/etc/qmcb/policies.json');
      const json: unknown = JSON.parse(readFileSync(regionPoliciesFile({}), 'utf8'));
      expect(loadRegionPolicies(regionPoliciesFile({}))).toEqual(parseRegionPolicies(json));
    });

    it('names the file it cannot read', () => {
      expect(() => loadRegionPolicies('/nonexistent/region-policies.json')).toThrow(/^\/nonexistent\/region-policies\.json: cannot be read/);
    });
  });

  describe('policyFor: the division a person follows', () => {
    const policies = parseRegionPolicies({ regions: { '4409': { requirePhone: false }, '440103': { requireAddress: false } } });

    it('given a household village, then its policy', () => {
      expect(policyFor(aged(30, household()), policies).requirePhone).toBe(false);
    });

    it('given no household but an approved form, then the residence village', () => {
      const record = recordOf(citizenIdFor(DEFAULT_BIRTH), true, approvedForm({ residenceDivision: '440103001001' }));
      expect(policyFor(record, policies)).toEqual({ ...DEFAULT_REGION_POLICY, requireAddress: false });
    });

    it('given only insurance here, then the county insuring the person', () => {
      const record = recordOf(citizenIdFor(DEFAULT_BIRTH), true, insurance('pension', 'resident', { region: '440103' }));
      expect(policyFor(record, policies).requireAddress).toBe(false);
    });
  });

  describe('overrides change the decision', () => {
    const policies = parseRegionPolicies({
      regions: {
        '4409': { requirePhone: false },
        '440981': { retirementAge: 65, pensionSchemes: ['employee'], medicalSchemes: ['resident'] },
      },
    });
    const decideHere = (record: ReturnType<typeof aged>) => compare(record, policyFor(record, policies), AS_OF);

    it('given the city does not require a phone, when a person there has none, then no MISSING_PHONE', () => {
      expect(decideHere(aged(30, household({ phone: undefined }), insurance('pension', 'employee'), insurance('medical', 'resident'))).outcome).toBe('registered');
    });

    it('given the county raises the retirement age to 65, when a 62-year-old has medical only, then partly insured as well as 60 without pension', () => {
      expect(codes(decideHere(aged(62, household(), insurance('medical', 'resident'))))).toEqual(['PARTLY_INSURED_NO_PENSION', 'AGE_60_NO_PENSION']);
    });

    it('given the county counts only employee pensions, when a person has a resident pension, then it does not count', () => {
      expect(codes(decideHere(aged(30, household(), insurance('pension', 'resident'), insurance('medical', 'resident'))))).toEqual(['PARTLY_INSURED_NO_PENSION']);
    });

    it('given the county counts only resident medical insurance, when a person has employee and resident medical, then no duplicate', () => {
      expect(decideHere(aged(30, household(), insurance('pension', 'employee'), insurance('medical', 'employee'), insurance('medical', 'resident'))).outcome).toBe('registered');
    });

    it('given the county counts only employee pensions, when someone has both schemes, then no DUPLICATE_PENSION', () => {
      expect(decideHere(aged(30, household(), insurance('pension', 'employee'), insurance('pension', 'resident'), insurance('medical', 'resident'))).outcome).toBe('registered');
    });
  });
});
