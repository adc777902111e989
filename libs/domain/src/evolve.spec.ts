import fc from 'fast-check';
import {
  LINK_CONFIRMED,
  LINK_PROPOSED,
  LINK_REJECTED,
  OUTCOME_DETERMINED,
  REVIEW_CLOSED,
  REVIEW_FINAL_APPROVED,
  REVIEW_INITIAL_APPROVED,
  REVIEW_REJECTED,
  REVIEW_RETURNED,
  SOURCE_RECORD_RECEIVED,
  SURVEY_FORM_SUBMITTED,
  SURVEY_TASK_CREATED,
  SURVEY_VISIT_RECORDED,
  currentVersion,
  deterministicId,
  parseEvent,
} from '@qmcb/contracts';
import type {
  ChangeFields,
  ChangeRequest,
  Channel,
  EventOf,
  EventPayloads,
  EventType,
  HouseholdFacts,
  HukouStatus,
  InsuranceFacts,
  InsuranceStatus,
  InsuranceType,
  Outcome,
  Department,
  RegistrationEvent,
  Scheme,
  Sex,
  SourceFacts,
  SourceMode,
  WelfareCategory,
} from '@qmcb/contracts';
import { checkCharacter, personKeyFor } from './citizen-id';
import { PersonKeyMismatchError, evolve, foldEvents } from './evolve';
import { identityStatements } from './identity-statements';
import { insuranceEntries } from './registration-record';
import type { RegistrationRecord } from './registration-record';

const ID = '440981199001010017';
const VILLAGE = '440981002201';
const T0 = Date.parse('2025-03-01T00:00:00Z');

let clock = 0;
/** Builds an event the way the log delivers it: validated against its contract and upcast. */
function event<K extends EventType>(
  type: K,
  payload: EventPayloads[K],
  overrides: { personKey?: string; eventId?: string; schemaVersion?: number } = {},
): EventOf<K> {
  clock += 1;
  const occurredAt = new Date(T0 + clock * 60_000).toISOString();
  return parseEvent({
    eventId: overrides.eventId ?? deterministicId('test', String(clock)),
    type,
    schemaVersion: overrides.schemaVersion ?? currentVersion(type),
    personKey: overrides.personKey ?? ID,
    occurredAt,
    recordedAt: occurredAt,
    source: 'svc:test',
    actor: 'svc:test',
    correlationId: 'test',
    causationId: null,
    basedOnVersion: null,
    payload,
  }) as EventOf<K>;
}

const uuid = (name: string): string => deterministicId('uuid', name);

function household(facts: Partial<HouseholdFacts> = {}, asOf = '2025-02-01T00:00:00Z', citizenId = ID, valid = true, mode: SourceMode = 'snapshot') {
  return event(
    SOURCE_RECORD_RECEIVED,
    {
      department: 'public-security',
      sourceRecordId: `hh-${asOf}`,
      mode,
      citizenIdAsSent: citizenId,
      citizenIdValid: valid,
      asOf,
      facts: { kind: 'household', name: '张三', villageCode: VILLAGE, status: 'normal', ...facts },
    },
    { personKey: personKeyFor(citizenId) },
  );
}

function insurance(facts: Partial<InsuranceFacts> = {}, asOf = '2025-02-01T00:00:00Z', mode: SourceMode = 'change') {
  return event(SOURCE_RECORD_RECEIVED, {
    department: 'social-insurance',
    sourceRecordId: `ins-${facts.insuranceType ?? 'pension'}-${asOf}`,
    mode,
    citizenIdAsSent: ID,
    citizenIdValid: true,
    asOf,
    facts: { kind: 'insurance', insuranceType: 'pension', scheme: 'resident', status: 'active', region: '440981', ...facts },
  });
}

/** Any department record, as ingestion puts it on the log. */
function source(department: Department, facts: SourceFacts, asOf = '2025-02-01T00:00:00Z', mode: SourceMode = 'snapshot') {
  return event(SOURCE_RECORD_RECEIVED, {
    department,
    sourceRecordId: `${facts.kind}-${asOf}-${clock}`,
    mode,
    citizenIdAsSent: ID,
    citizenIdValid: true,
    asOf,
    facts,
  });
}

const outcome = (value: Outcome, previousOutcome: Outcome | 'none' = 'none') =>
  event(OUTCOME_DETERMINED, {
    outcome: value,
    previousOutcome,
    reasons: [{ code: 'UNINSURED', rule: 'uninsured', ruleVersion: 1, detail: 'no active pension and no active medical insurance' }],
    coverage: [],
  });

const TASK = uuid('task-1');
const SUBMISSION = uuid('submission-1');

const form = (overrides: Partial<ChangeFields> = {}): ChangeFields => ({
  name: '张三',
  phone: '13800138000',
  employmentStatus: 'farmer',
  residenceAddress: '高州市石仔岭街道茂岭村 12 号',
  residenceDivision: VILLAGE,
  insurance: [{ insuranceType: 'medical', scheme: 'resident', status: 'active', region: '440981' }],
  notInsuredReason: 'not-aware',
  insuredElsewhere: false,
  ...overrides,
});
const request = (fields: ChangeFields = form(), kind: ChangeRequest['kind'] = 'registration-form'): ChangeRequest => ({ kind, fields, evidence: [], unknown: [] });

const taskCreated = (taskId = TASK) => event(SURVEY_TASK_CREATED, { taskId, villageCode: VILLAGE, reasons: ['UNINSURED'] });
const formSubmitted = (submissionId = SUBMISSION, taskId = TASK) =>
  event(SURVEY_FORM_SUBMITTED, { taskId, submissionId, visitId: submissionId, surveyorId: 'surveyor-7', request: request(), household: { members: [] } });
const initialApproved = (submissionId = SUBMISSION) =>
  event(REVIEW_INITIAL_APPROVED, { reviewId: uuid('review-1'), submissionId, reviewerId: 'reviewer-3', townshipCode: '440981002', comment: '信息齐全' });
const returned = (submissionId = SUBMISSION, stage: 'initial' | 'final' = 'initial') =>
  event(REVIEW_RETURNED, { reviewId: uuid('review-2'), submissionId, stage, reviewerId: 'reviewer-3', reason: '手机号码有误', fieldsToFix: ['phone'] });
const finalApproved = (submissionId = SUBMISSION, approved: ChangeRequest = request(), channel: Channel = 'survey') =>
  event(REVIEW_FINAL_APPROVED, { reviewId: uuid('review-3'), submissionId, channel, reviewerId: 'approver-1', countyCode: '440981', request: approved });

function given(...events: RegistrationEvent[]): RegistrationRecord {
  const record = foldEvents(events);
  if (!record) throw new Error('given needs at least one event');
  return record;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('evolve: the registration record folded from the log', () => {
  describe(SOURCE_RECORD_RECEIVED, () => {
    it('given nothing, when public security sends a household record, then the record holds the identity and hukou', () => {
      const e = household({ sex: 'male', birthDate: '1990-01-01', ethnicity: '汉族', address: '茂岭村 12 号', hukouType: 'agricultural', phone: '13900000000' });
      const record = evolve(null, e);
      expect(record).toEqual({
        personKey: ID,
        citizenId: ID,
        citizenIdValid: true,
        version: 1,
        lastEventId: e.eventId,
        updatedAt: e.occurredAt,
        name: '张三',
        sex: 'male',
        birthDate: '1990-01-01',
        ethnicity: '汉族',
        hukouDivision: VILLAGE,
        hukouAddress: '茂岭村 12 号',
        hukouType: 'agricultural',
        hukouStatus: 'normal',
        householdAsOf: '2025-02-01T00:00:00Z',
        residenceDivision: null,
        residenceAddress: null,
        phone: '13900000000',
        employmentStatus: null,
        insurance: {},
        notInsuredReason: null,
        insuredElsewhere: null,
        household: {
          name: '张三',
          sex: 'male',
          birthDate: '1990-01-01',
          ethnicity: '汉族',
          address: '茂岭村 12 号',
          villageCode: VILLAGE,
          hukouType: 'agricultural',
          status: 'normal',
          phone: '13900000000',
          householdNo: null,
          relationToHead: null,
          asOf: '2025-02-01T00:00:00Z',
          eventId: e.eventId,
        },
        tax: null,
        welfare: {},
        death: null,
        enrolment: null,
        custody: null,
        claims: {
          'public-security': {
            name: '张三',
            sex: 'male',
            birthDate: '1990-01-01',
            phone: '13900000000',
            address: '茂岭村 12 号',
            asOf: '2025-02-01T00:00:00Z',
            eventId: e.eventId,
            fieldAsOf: { name: '2025-02-01T00:00:00Z', sex: '2025-02-01T00:00:00Z', birthDate: '2025-02-01T00:00:00Z', phone: '2025-02-01T00:00:00Z', address: '2025-02-01T00:00:00Z' },
          },
        },
        links: {},
        sources: { 'public-security': { sourceRecordId: 'hh-2025-02-01T00:00:00Z', mode: 'snapshot', asOf: '2025-02-01T00:00:00Z', eventId: e.eventId } },
        comparison: null,
        flags: { needsSurvey: false, duplicate: false, inaccurate: false },
        survey: null,
        review: null,
        collected: null,
        card: null,
        contributions: {},
        benefits: {},
        employer: null,
        migration: null,
        rosterAbsences: {},
        pendingChanges: {},
      });
    });

    it('given a household record, when a newer change leaves optional facts out, then the earlier ones stay', () => {
      const record = given(household({ sex: 'male', ethnicity: '汉族', phone: '13900000000' }));
      const next = evolve(record, household({ name: '张叁', status: 'moved-out' }, '2025-02-15T00:00:00Z', ID, true, 'change'));
      expect(next).toMatchObject({ name: '张叁', hukouStatus: 'moved-out', sex: 'male', ethnicity: '汉族', phone: '13900000000', householdAsOf: '2025-02-15T00:00:00Z' });
    });

    it('given a household record, when a newer snapshot leaves optional facts out, then they are gone', () => {
      const female = '11010519491231002X';
      const record = given(household({ sex: 'male', birthDate: '1949-12-30', ethnicity: '汉族', phone: '13900000000', address: '茂岭村 12 号', hukouType: 'agricultural' }, '2025-02-01T00:00:00Z', female));
      const next = evolve(record, household({ name: '张叁', status: 'moved-out' }, '2025-02-15T00:00:00Z', female));
      expect(next.household).toEqual({
        name: '张叁',
        sex: null,
        birthDate: null,
        ethnicity: null,
        address: null,
        villageCode: VILLAGE,
        hukouType: null,
        status: 'moved-out',
        phone: null,
        householdNo: null,
        relationToHead: null,
        asOf: '2025-02-15T00:00:00Z',
        eventId: next.lastEventId,
      });
      // Sex and birth date now come from the valid citizen ID, the next source in precedence.
      expect(next).toMatchObject({ name: '张叁', sex: 'female', birthDate: '1949-12-31', ethnicity: null, phone: null, hukouAddress: null, hukouType: null });
    });

    it('given a household record, when an older one arrives late, then it changes no fact but is counted', () => {
      const newer = household({ status: 'deceased' }, '2025-02-15T00:00:00Z');
      const record = given(newer);
      const late = household({ status: 'normal', name: '旧名' }, '2025-01-01T00:00:00+08:00');
      const next = evolve(record, late);
      expect(next).toMatchObject({ name: '张三', hukouStatus: 'deceased', householdAsOf: '2025-02-15T00:00:00Z', version: 2, lastEventId: late.eventId });
      expect(next.sources['public-security']?.eventId).toBe(newer.eventId);
    });

    it('given nothing, when an insurance record arrives, then it is an entry keyed by type, scheme and region', () => {
      const e = insurance({ employer: '高州市某公司', since: '2015-07-01', receivingBenefit: false, name: '张三' });
      const record = evolve(null, e);
      expect(record.insurance).toEqual({
        'pension:resident:440981': {
          insuranceType: 'pension',
          scheme: 'resident',
          status: 'active',
          region: '440981',
          employer: '高州市某公司',
          since: '2015-07-01',
          receivingBenefit: false,
          benefitStatus: null,
          name: '张三',
          sex: null,
          birthDate: null,
          phone: null,
          address: null,
          source: 'department',
          department: 'social-insurance',
          asOf: '2025-02-01T00:00:00Z',
          eventId: e.eventId,
        },
      });
      expect(record.name).toBe('张三');
      expect(record.sources['social-insurance']).toEqual({ sourceRecordId: 'ins-pension-2025-02-01T00:00:00Z', mode: 'change', asOf: '2025-02-01T00:00:00Z', eventId: e.eventId });
    });

    it('given an active enrolment, when a snapshot ends it, then the entry stays with status ended and only the facts it carries', () => {
      const record = given(insurance({ employer: '某公司' }), insurance({ status: 'ended' }, '2025-02-20T00:00:00Z', 'snapshot'));
      expect(insuranceEntries(record)).toEqual([expect.objectContaining({ insuranceType: 'pension', status: 'ended', employer: null })]);
    });

    it('given an active enrolment, when a change ends it, then the facts it leaves out stay', () => {
      const record = given(insurance({ employer: '某公司', receivingBenefit: true, phone: '13700000000' }), insurance({ status: 'ended', receivingBenefit: false }, '2025-02-20T00:00:00Z'));
      expect(insuranceEntries(record)).toEqual([expect.objectContaining({ status: 'ended', employer: '某公司', receivingBenefit: false, phone: '13700000000', asOf: '2025-02-20T00:00:00Z' })]);
    });

    it('given an enrolment, when a snapshot of another type, scheme or region arrives, then the first entry is untouched', () => {
      const record = given(insurance({ employer: '某公司' }), insurance({ insuranceType: 'medical' }, '2025-02-20T00:00:00Z', 'snapshot'));
      expect(record.insurance['pension:resident:440981'].employer).toBe('某公司');
    });

    it('given an ended enrolment, when an older record says active, then it stays ended', () => {
      const record = given(insurance({ status: 'ended' }, '2025-02-20T00:00:00Z'), insurance({ status: 'active' }, '2025-01-31T00:00:00Z'));
      expect(record.insurance['pension:resident:440981'].status).toBe('ended');
    });

    it('given one pension scheme, when another scheme or another county reports one, then all stay visible', () => {
      const record = given(
        insurance({ scheme: 'resident' }),
        insurance({ scheme: 'employee', region: '440902' }),
        insurance({ scheme: 'resident', region: '440103' }),
      );
      expect(Object.keys(record.insurance).sort()).toEqual(['pension:employee:440902', 'pension:resident:440103', 'pension:resident:440981']);
    });

    it('given a name from public security, when an insurance record names the person differently, then the hukou name stays', () => {
      const record = given(household(), insurance({ name: '张三丰' }));
      expect(record.name).toBe('张三');
    });

    it('given nothing, when a record with an invalid citizen ID arrives, then it is kept under a surrogate key and flagged', () => {
      const bad = '44098119900101001x1';
      const record = evolve(null, household({}, '2025-02-01T00:00:00Z', bad, false));
      expect(record.personKey).toMatch(/^X-[0-9a-f]{32}$/);
      expect(record).toMatchObject({ citizenId: bad, citizenIdValid: false, flags: { inaccurate: true, needsSurvey: false, duplicate: false }, name: '张三' });
    });

    it('given a record flagged for an invalid ID, when the ID comes in valid, then the flag is lifted', () => {
      // A birth date in the future fails validation but keys by itself; once the date has come it passes.
      const future = `11010520300101002${checkCharacter('11010520300101002')}`;
      const record = given(household({}, '2025-02-01T00:00:00Z', future, false), household({}, '2030-02-02T00:00:00Z', future, true));
      expect(record.personKey).toBe(future);
      expect(record).toMatchObject({ citizenIdValid: true, flags: { inaccurate: false } });
    });
  });

  describe(`${SOURCE_RECORD_RECEIVED}: tax, welfare, death, enrolment, custody`, () => {
    const FEB = '2025-02-01T00:00:00Z';
    const MAR = '2025-03-01T00:00:00Z';
    const JAN = '2025-01-01T00:00:00Z';

    describe('tax', () => {
      it('given nothing, when tax reports employment, then the record holds it', () => {
        const e = source('tax', { kind: 'tax', employed: true, employer: '某公司', employerCreditCode: '91440981MA4UABCD1X', lastContributionMonth: '2025-01', monthlyWage: 5200.5, name: '张三' });
        const record = evolve(null, e);
        expect(record.tax).toEqual({ employed: true, employer: '某公司', employerCreditCode: '91440981MA4UABCD1X', lastContributionMonth: '2025-01', monthlyWage: 5200.5, name: '张三', asOf: FEB, eventId: e.eventId });
        expect(record.sources.tax?.eventId).toBe(e.eventId);
      });

      it('given a tax record, when a newer change carries only some fields, then the others stay', () => {
        const record = given(source('tax', { kind: 'tax', employed: true, employer: '某公司', monthlyWage: 5000 }), source('tax', { kind: 'tax', employed: false }, MAR, 'change'));
        expect(record.tax).toMatchObject({ employed: false, employer: '某公司', monthlyWage: 5000, asOf: MAR });
      });

      it('given a tax record, when a newer snapshot leaves fields out, then they are gone', () => {
        const record = given(source('tax', { kind: 'tax', employed: true, employer: '某公司', monthlyWage: 5000 }), source('tax', { kind: 'tax', employed: false }, MAR));
        expect(record.tax).toMatchObject({ employed: false, employer: null, monthlyWage: null, asOf: MAR });
      });

      it('given a tax record, when an older one arrives late, then nothing changes but the version', () => {
        const first = source('tax', { kind: 'tax', employed: true }, MAR);
        const record = given(first, source('tax', { kind: 'tax', employed: false, employer: '旧公司' }, JAN, 'change'));
        expect(record.tax).toEqual({ employed: true, employer: null, employerCreditCode: null, lastContributionMonth: null, monthlyWage: null, name: null, asOf: MAR, eventId: first.eventId });
        expect(record.version).toBe(2);
      });
    });

    describe('welfare', () => {
      it('given nothing, when civil affairs reports two categories, then each has its own entry', () => {
        const record = given(
          source('civil-affairs', { kind: 'welfare', category: 'minimum-living-allowance', active: true, since: '2020-05-01', name: '张三' }),
          source('civil-affairs', { kind: 'welfare', category: 'registered-poor', active: true }, MAR),
        );
        expect(record.welfare).toEqual({
          'minimum-living-allowance': { active: true, since: '2020-05-01', name: '张三', asOf: FEB, eventId: expect.any(String) },
          'registered-poor': { active: true, since: null, name: null, asOf: MAR, eventId: expect.any(String) },
        });
      });

      it('given an allowance, when a snapshot of it ends it, then it is inactive and the other category stays', () => {
        const record = given(
          source('civil-affairs', { kind: 'welfare', category: 'minimum-living-allowance', active: true, since: '2020-05-01' }),
          source('civil-affairs', { kind: 'welfare', category: 'extreme-poverty', active: true }),
          source('civil-affairs', { kind: 'welfare', category: 'minimum-living-allowance', active: false }, MAR),
        );
        expect(record.welfare['minimum-living-allowance']).toMatchObject({ active: false, since: null });
        expect(record.welfare['extreme-poverty']).toMatchObject({ active: true });
      });

      it('given an allowance, when a change ends it, then its start date stays', () => {
        const record = given(
          source('civil-affairs', { kind: 'welfare', category: 'minimum-living-allowance', active: true, since: '2020-05-01' }),
          source('civil-affairs', { kind: 'welfare', category: 'minimum-living-allowance', active: false }, MAR, 'change'),
        );
        expect(record.welfare['minimum-living-allowance']).toMatchObject({ active: false, since: '2020-05-01' });
      });

      it('given an ended allowance, when an older record says active, then it stays ended', () => {
        const record = given(
          source('civil-affairs', { kind: 'welfare', category: 'extreme-poverty', active: false }, MAR),
          source('civil-affairs', { kind: 'welfare', category: 'extreme-poverty', active: true }, JAN),
        );
        expect(record.welfare['extreme-poverty']?.active).toBe(false);
      });
    });

    describe('death', () => {
      it('given nothing, when civil affairs registers a death, then the record holds it with the department', () => {
        const e = source('civil-affairs', { kind: 'death', deathDate: '2025-01-20', name: '张三' });
        expect(evolve(null, e).death).toEqual({ deathDate: '2025-01-20', name: '张三', department: 'civil-affairs', asOf: FEB, eventId: e.eventId });
      });

      it('given a death from civil affairs, when public security sends a newer one, then the newer stands and does not inherit the name', () => {
        const record = given(
          source('civil-affairs', { kind: 'death', deathDate: '2025-01-20', name: '张三' }),
          source('public-security', { kind: 'death', deathDate: '2025-01-21' }, MAR, 'change'),
        );
        expect(record.death).toMatchObject({ deathDate: '2025-01-21', name: null, department: 'public-security', asOf: MAR });
      });

      it('given a death, when the same department sends a newer change without a name, then the name stays', () => {
        const record = given(
          source('civil-affairs', { kind: 'death', deathDate: '2025-01-20', name: '张三' }),
          source('civil-affairs', { kind: 'death', deathDate: '2025-01-19' }, MAR, 'change'),
        );
        expect(record.death).toMatchObject({ deathDate: '2025-01-19', name: '张三', department: 'civil-affairs' });
      });

      it('given a death, when an older one arrives late, then it changes nothing', () => {
        const record = given(source('public-security', { kind: 'death', deathDate: '2025-01-21' }, MAR), source('civil-affairs', { kind: 'death', deathDate: '2024-12-01' }, JAN));
        expect(record.death).toMatchObject({ deathDate: '2025-01-21', department: 'public-security' });
      });
    });

    describe('enrolment', () => {
      it('given nothing, when education reports a student, then the record holds the enrolment', () => {
        const e = source('education', { kind: 'enrolment', enrolled: true, school: '高州中学', level: 'senior-secondary', expectedGraduationYear: 2027, name: '张三', sex: 'male', birthDate: '1990-01-01' });
        expect(evolve(null, e).enrolment).toEqual({
          enrolled: true,
          school: '高州中学',
          level: 'senior-secondary',
          expectedGraduationYear: 2027,
          name: '张三',
          sex: 'male',
          birthDate: '1990-01-01',
          asOf: FEB,
          eventId: e.eventId,
        });
      });

      it('given an enrolment, when a change says no longer enrolled, then the school stays; a snapshot clears it', () => {
        const first = source('education', { kind: 'enrolment', enrolled: true, school: '高州中学', level: 'senior-secondary' });
        const changed = given(first, source('education', { kind: 'enrolment', enrolled: false }, MAR, 'change'));
        expect(changed.enrolment).toMatchObject({ enrolled: false, school: '高州中学', level: 'senior-secondary' });
        const replaced = given(first, source('education', { kind: 'enrolment', enrolled: false }, MAR));
        expect(replaced.enrolment).toMatchObject({ enrolled: false, school: null, level: null });
      });

      it('given a graduation, when an older enrolment arrives late, then it stays graduated', () => {
        const record = given(source('education', { kind: 'enrolment', enrolled: false }, MAR), source('education', { kind: 'enrolment', enrolled: true }, JAN));
        expect(record.enrolment?.enrolled).toBe(false);
      });
    });

    describe('custody', () => {
      it('given nothing, when justice reports custody, then the record holds it', () => {
        const e = source('justice', { kind: 'custody', inCustody: true, since: '2024-06-01', releaseDate: '2027-06-01', name: '张三' });
        expect(evolve(null, e).custody).toEqual({ inCustody: true, since: '2024-06-01', releaseDate: '2027-06-01', name: '张三', asOf: FEB, eventId: e.eventId });
      });

      it('given custody, when a change reports release, then the dates stay; a snapshot clears them', () => {
        const first = source('justice', { kind: 'custody', inCustody: true, since: '2024-06-01', releaseDate: '2027-06-01' });
        expect(given(first, source('justice', { kind: 'custody', inCustody: false }, MAR, 'change')).custody).toMatchObject({ inCustody: false, since: '2024-06-01', releaseDate: '2027-06-01' });
        expect(given(first, source('justice', { kind: 'custody', inCustody: false }, MAR)).custody).toMatchObject({ inCustody: false, since: null, releaseDate: null });
      });

      it('given a release, when an older custody record arrives late, then it stays released', () => {
        const record = given(source('justice', { kind: 'custody', inCustody: false }, MAR), source('justice', { kind: 'custody', inCustody: true }, JAN));
        expect(record.custody?.inCustody).toBe(false);
      });
    });

    describe('claims: what each source says of the identity', () => {
      it('given records of several departments, then each has its own claim, field by field', () => {
        const record = given(
          household({ sex: 'male', birthDate: '1990-01-01', phone: '13900000000', address: '茂岭村 12 号' }),
          insurance({ insuranceType: 'medical', name: '张三', phone: '13700000000' }, MAR),
          source('tax', { kind: 'tax', employed: true, name: '张 三' }),
          source('education', { kind: 'enrolment', enrolled: true, name: '张三', sex: 'female' }),
          source('justice', { kind: 'custody', inCustody: false }),
        );
        expect(record.claims['social-insurance']).toMatchObject({ name: '张三', phone: '13700000000', sex: null, asOf: MAR });
        expect(record.claims.tax).toMatchObject({ name: '张 三', sex: null, phone: null });
        expect(record.claims.education).toMatchObject({ name: '张三', sex: 'female' });
        expect(record.claims.justice).toMatchObject({ name: null, sex: null, birthDate: null, phone: null, address: null, asOf: FEB });
        expect(record.claims.survey).toBeUndefined();
        expect(record).toMatchObject({ name: '张三', sex: 'male', phone: '13700000000' });
      });

      it('given several insurance records of one department, then each field comes from the newest record that gives it', () => {
        const record = given(
          insurance({ insuranceType: 'pension', phone: '13700000000', name: '张三' }, JAN),
          insurance({ insuranceType: 'medical', phone: '13600000000' }, FEB),
          insurance({ insuranceType: 'unemployment', scheme: 'single' }, MAR),
        );
        expect(record.claims['social-insurance']).toEqual({
          name: '张三',
          sex: null,
          birthDate: null,
          phone: '13600000000',
          address: null,
          asOf: MAR,
          eventId: record.insurance['unemployment:single:440981'].eventId,
          fieldAsOf: { name: JAN, sex: null, birthDate: null, phone: FEB, address: null },
        });
      });

      it('given a phone in one insurance record, when a snapshot of that record drops it, then the claim has none', () => {
        const record = given(insurance({ phone: '13700000000' }), insurance({}, MAR, 'snapshot'));
        expect(record.claims['social-insurance']?.phone).toBeNull();
        expect(record.phone).toBeNull();
      });

      it('given two death registrations, then the claim is with the department of the one that stands', () => {
        const record = given(source('civil-affairs', { kind: 'death', deathDate: '2025-01-20', name: '张三' }), source('public-security', { kind: 'death', deathDate: '2025-01-20', name: '张叁' }, MAR));
        expect(record.claims['public-security']?.name).toBe('张叁');
        expect(record.claims['civil-affairs']).toBeUndefined();
      });

      it('given an approved form, then the survey is a claimant and wins name and phone even over a newer household record', () => {
        const approval = finalApproved();
        const record = given(household({ name: '张叁', phone: '13900000000' }), approval, household({ name: '张叁', phone: '13911111111' }, '2025-12-01T00:00:00Z'));
        expect(record.claims.survey).toEqual({
          name: '张三',
          sex: null,
          birthDate: null,
          phone: '13800138000',
          address: '高州市石仔岭街道茂岭村 12 号',
          asOf: approval.occurredAt,
          eventId: approval.eventId,
          fieldAsOf: { name: approval.occurredAt, sex: null, birthDate: null, phone: approval.occurredAt, address: approval.occurredAt },
        });
        expect(record).toMatchObject({ name: '张三', phone: '13800138000' });
        expect(record.claims['public-security']).toMatchObject({ name: '张叁', phone: '13911111111' });
      });

      it('given records of several kinds, then identityStatements lists one statement per held record, in a fixed order', () => {
        const record = given(
          source('justice', { kind: 'custody', inCustody: false, name: '李三' }),
          insurance({ insuranceType: 'medical', name: '张三', phone: '13700000000' }),
          insurance({ insuranceType: 'pension', name: '张叁' }, JAN),
          insurance({ insuranceType: 'pension', name: '张三' }, MAR),
          source('civil-affairs', { kind: 'welfare', category: 'extreme-poverty', active: true }),
          household(),
        );
        expect(identityStatements(record).map((st) => [st.claimant, st.slot, st.name])).toEqual([
          ['public-security', 'household', '张三'],
          ['social-insurance', 'insurance:medical:resident:440981', '张三'],
          ['social-insurance', 'insurance:pension:resident:440981', '张三'],
          ['civil-affairs', 'welfare:extreme-poverty', null],
          ['justice', 'custody', '李三'],
        ]);
      });

      it('given no department states sex or birth date, then the valid citizen ID gives them', () => {
        const record = given(household());
        expect(record).toMatchObject({ sex: 'male', birthDate: '1990-01-01' });
      });

      it('given an invalid citizen ID and no department stating sex, then sex is unknown', () => {
        const record = given(household({}, FEB, '440981199001010018', false));
        expect(record).toMatchObject({ sex: null, birthDate: null });
      });
    });
  });

  describe(OUTCOME_DETERMINED, () => {
    it('given a record, when comparison says it needs survey, then it is flagged and the reasons kept', () => {
      const e = outcome('needs-survey');
      const record = evolve(given(household()), e);
      expect(record.flags).toEqual({ needsSurvey: true, duplicate: false, inaccurate: false });
      expect(record.comparison).toEqual({
        outcome: 'needs-survey',
        previousOutcome: 'none',
        reasons: [{ code: 'UNINSURED', rule: 'uninsured', ruleVersion: 1, detail: 'no active pension and no active medical insurance' }],
        coverage: [],
        decidedAt: e.occurredAt,
        eventId: e.eventId,
      });
    });

    it('given a v3 decision, when folded, then the status per insurance type is kept as decided', () => {
      const pension = { insuranceType: 'pension' as const, status: 'not-insured' as const, reason: 'NEVER_ENROLLED' as const, regions: [], rule: 'coverage-status', ruleVersion: 1, detail: 'never enrolled in pension' };
      const medical = { insuranceType: 'medical' as const, status: 'insured-elsewhere' as const, reason: null, regions: ['440982'], rule: 'coverage-status', ruleVersion: 1, detail: 'insured in another county' };
      const e = event(OUTCOME_DETERMINED, { outcome: 'needs-survey', previousOutcome: 'none', reasons: [], coverage: [pension, medical] });
      expect(evolve(given(household()), e).comparison?.coverage).toEqual([pension, medical]);
    });

    it('reads a version 2 outcome as one without status per insurance type', () => {
      const v2 = event(OUTCOME_DETERMINED, { outcome: 'registered', previousOutcome: 'none', reasons: [{ code: 'COMPLETE', rule: 'registered-directly', ruleVersion: 1, detail: '' }] } as unknown as EventPayloads[typeof OUTCOME_DETERMINED], {
        schemaVersion: 2,
      });
      expect(v2.schemaVersion).toBe(3);
      expect(evolve(given(household()), v2).comparison).toMatchObject({ outcome: 'registered', coverage: [] });
    });

    it('given a needs-survey record, when comparison finds a duplicate, then only the duplicate flag is set', () => {
      const record = given(household(), outcome('needs-survey'), outcome('duplicate', 'needs-survey'));
      expect(record.flags).toEqual({ needsSurvey: false, duplicate: true, inaccurate: false });
      expect(record.comparison?.previousOutcome).toBe('needs-survey');
    });

    it.each(['registered', 'exempt'] as const)('given flags, when comparison says %s, then no flag stays', (value) => {
      const record = given(household(), outcome('duplicate'), outcome(value, 'duplicate'));
      expect(record.flags).toEqual({ needsSurvey: false, duplicate: false, inaccurate: false });
    });

    it('reads a version 1 outcome with bare reason codes through the upcaster', () => {
      const v1 = event(OUTCOME_DETERMINED, { outcome: 'needs-survey', reasons: ['UNINSURED'] } as unknown as EventPayloads[typeof OUTCOME_DETERMINED], {
        schemaVersion: 1,
      });
      const record = evolve(given(household()), v1);
      expect(record.comparison?.reasons).toEqual([{ code: 'UNINSURED', rule: 'legacy', ruleVersion: 0, detail: '' }]);
      expect(record.flags.needsSurvey).toBe(true);
    });
  });

  describe(SURVEY_TASK_CREATED, () => {
    it('given a record needing survey, when a task is created, then the survey is open in its village', () => {
      const record = evolve(given(household(), outcome('needs-survey')), taskCreated());
      expect(record.survey).toEqual({ taskId: TASK, villageCode: VILLAGE, status: 'open', reasons: ['UNINSURED'], submissionId: null, surveyorId: null });
      expect(record.flags.needsSurvey).toBe(true);
    });

    it('given nothing, when a task is created for a person found on site, then the record starts from the person key', () => {
      const record = evolve(null, taskCreated());
      expect(record).toMatchObject({ personKey: ID, citizenId: ID, citizenIdValid: true, version: 1, name: null, survey: { status: 'open' } });
    });
  });

  describe(SURVEY_FORM_SUBMITTED, () => {
    it('given an open survey, when the form is submitted, then it waits for review and nothing else changes yet', () => {
      const before = given(household(), outcome('needs-survey'), taskCreated());
      const record = evolve(before, formSubmitted());
      expect(record.survey).toEqual({ taskId: TASK, villageCode: VILLAGE, status: 'submitted', reasons: ['UNINSURED'], submissionId: SUBMISSION, surveyorId: 'surveyor-7' });
      expect(record).toMatchObject({ phone: null, employmentStatus: null, collected: null, flags: { needsSurvey: true } });
    });

    it('given no task seen, when a form is submitted, then the survey has no village', () => {
      const record = evolve(given(household()), formSubmitted());
      expect(record.survey).toMatchObject({ taskId: TASK, villageCode: null, status: 'submitted', reasons: [] });
    });
  });

  describe(REVIEW_INITIAL_APPROVED, () => {
    it('given a submitted form, when the township approves it, then it waits for the county', () => {
      const e = initialApproved();
      const record = evolve(given(household(), taskCreated(), formSubmitted()), e);
      expect(record.survey?.status).toBe('initial-approved');
      expect(record.review).toEqual({
        reviewId: uuid('review-1'),
        submissionId: SUBMISSION,
        stage: 'initial',
        status: 'approved',
        reviewerId: 'reviewer-3',
        reason: null,
        comment: '信息齐全',
        decidedAt: e.occurredAt,
      });
      expect(record.flags.needsSurvey).toBe(false);
    });
  });

  describe(REVIEW_RETURNED, () => {
    it('given a submitted form, when it is returned, then the survey is returned with the reason', () => {
      const record = evolve(given(household(), outcome('needs-survey'), taskCreated(), formSubmitted(), initialApproved()), returned(SUBMISSION, 'final'));
      expect(record.survey?.status).toBe('returned');
      expect(record.review).toMatchObject({ stage: 'final', status: 'returned', reason: '手机号码有误', comment: null });
      expect(record.flags.needsSurvey).toBe(true);
      expect(record.collected).toBeNull();
    });

    it('given a resubmitted form, when the old submission is returned, then the new one is not', () => {
      const second = uuid('submission-2');
      const record = given(household(), taskCreated(), formSubmitted(), formSubmitted(second), returned(SUBMISSION));
      expect(record.survey).toMatchObject({ status: 'submitted', submissionId: second });
      expect(record.review).toMatchObject({ submissionId: SUBMISSION, status: 'returned' });
    });
  });

  describe(REVIEW_FINAL_APPROVED, () => {
    it('given an initially approved form, when the county approves it, then the form enters the record and the survey flag is lifted', () => {
      // The entry as the higher registry relayed it: the approved form, newer, replaces it (same rank).
      const relayed = source('higher-registry', { kind: 'insurance', insuranceType: 'medical', scheme: 'resident', status: 'suspended', region: '440981', employer: '村集体' }, '2025-02-01T00:00:00Z', 'change');
      const before = given(household(), relayed, outcome('needs-survey'), taskCreated(), formSubmitted(), initialApproved());
      const e = finalApproved();
      const record = evolve(before, e);
      expect(record).toMatchObject({
        name: '张三',
        phone: '13800138000',
        employmentStatus: 'farmer',
        residenceDivision: VILLAGE,
        residenceAddress: '高州市石仔岭街道茂岭村 12 号',
        notInsuredReason: 'not-aware',
        insuredElsewhere: false,
        hukouDivision: VILLAGE,
        flags: { needsSurvey: false, duplicate: false, inaccurate: false },
        survey: { status: 'approved', submissionId: SUBMISSION },
        review: { stage: 'final', status: 'approved', reviewerId: 'approver-1', decidedAt: e.occurredAt },
        collected: {
          ...form(),
          citizenId: null,
          sex: null,
          birthDate: null,
          ethnicity: null,
          hukouType: null,
          employer: null,
          deathDate: null,
          approvals: Object.fromEntries(
            ['name', 'phone', 'residenceDivision', 'residenceAddress', 'employmentStatus', 'insurance', 'notInsuredReason', 'insuredElsewhere'].map((f) => [
              f,
              { reviewId: uuid('review-3'), channel: 'survey', kind: 'registration-form', approvedAt: e.occurredAt },
            ]),
          ),
        },
      });
      expect(record.insurance['medical:resident:440981']).toEqual({
        insuranceType: 'medical',
        scheme: 'resident',
        status: 'active',
        region: '440981',
        employer: '村集体',
        since: null,
        receivingBenefit: null,
        benefitStatus: null,
        name: null,
        sex: null,
        birthDate: null,
        phone: null,
        address: null,
        source: 'survey',
        department: null,
        asOf: e.occurredAt,
        eventId: e.eventId,
      });
    });

    it('given department entries the form does not mention, when approved, then they stay', () => {
      const record = given(household(), insurance({ insuranceType: 'pension', scheme: 'employee', region: '440902' }), taskCreated(), formSubmitted(), finalApproved());
      expect(Object.keys(record.insurance).sort()).toEqual(['medical:resident:440981', 'pension:employee:440902']);
      expect(record.insurance['pension:employee:440902'].source).toBe('department');
    });

    it('given a form without a reason for not being insured, when approved, then the reason is null', () => {
      const approved = form({ notInsuredReason: undefined, insuredElsewhere: true });
      delete approved.notInsuredReason;
      const record = given(household(), finalApproved(SUBMISSION, request(approved)));
      expect(record).toMatchObject({ notInsuredReason: null, insuredElsewhere: true, survey: null, collected: { notInsuredReason: null } });
    });

    it('given a window collection of the phone only, when approved, then only the phone changes and earlier approvals stay', () => {
      const first = finalApproved();
      const phoneOnly = event(REVIEW_FINAL_APPROVED, {
        reviewId: uuid('review-4'), submissionId: uuid('window-1'), channel: 'window', reviewerId: 'approver-2', countyCode: '440981', request: request({ phone: '13700000000' }, 'collection'),
      });
      const record = given(household(), first, phoneOnly);
      expect(record).toMatchObject({ phone: '13700000000', employmentStatus: 'farmer', residenceAddress: '高州市石仔岭街道茂岭村 12 号' });
      expect(record.collected?.approvals.phone).toEqual({ reviewId: uuid('review-4'), channel: 'window', kind: 'collection', approvedAt: phoneOnly.occurredAt });
      expect(record.collected?.approvals.name).toEqual({ reviewId: uuid('review-3'), channel: 'survey', kind: 'registration-form', approvedAt: first.occurredAt });
      expect(record.claims.survey).toMatchObject({ name: '张三', phone: '13700000000', fieldAsOf: { name: first.occurredAt, phone: phoneOnly.occurredAt } });
    });

    it('given an approved correction of sex and birth date with evidence, then it wins over public security (field precedence)', () => {
      const correction = finalApproved(SUBMISSION, { ...request({ sex: 'female', birthDate: '1990-02-01' }, 'correction'), evidence: [{ kind: 'household-book', reference: 'HB-1' }] }, 'self-service');
      const record = given(household({ sex: 'male', birthDate: '1990-01-01' }), correction);
      expect(record).toMatchObject({ sex: 'female', birthDate: '1990-02-01' });
    });

    it('given an approved death claim, then the death is in the record as collected and the target is deceased', () => {
      const claim = finalApproved(SUBMISSION, { ...request({ deathDate: '2026-10-02' }, 'death-claim'), evidence: [{ kind: 'death-certificate', reference: 'DC-7' }] });
      const record = given(household(), taskCreated(), formSubmitted(), claim);
      expect(record.death).toEqual({ deathDate: '2026-10-02', name: '张三', department: 'collected', asOf: claim.occurredAt, eventId: claim.eventId });
      expect(record.survey).toMatchObject({ status: 'deceased' });
    });
  });

  describe('rejected and closed reviews', () => {
    it('given a submitted form, when it is rejected, then the target is to be visited again and the review says why', () => {
      const e = event(REVIEW_REJECTED, { reviewId: uuid('review-5'), submissionId: SUBMISSION, stage: 'initial', reviewerId: 'reviewer-3', reasonCode: 'false-information', reason: '与实际不符' });
      const record = given(household(), taskCreated(), formSubmitted(), e);
      expect(record.survey).toMatchObject({ status: 'open', submissionId: SUBMISSION });
      expect(record.review).toEqual({ reviewId: uuid('review-5'), submissionId: SUBMISSION, stage: 'initial', status: 'rejected', reviewerId: 'reviewer-3', reason: '与实际不符', comment: null, decidedAt: e.occurredAt });
    });

    it('given a submitted form, when it is closed as withdrawn, then the target is open again', () => {
      const e = event(REVIEW_CLOSED, { reviewId: uuid('review-6'), submissionId: SUBMISSION, reviewerId: 'surveyor-7', closeReason: 'withdrawn', reason: '撤回' });
      expect(given(household(), taskCreated(), formSubmitted(), e)).toMatchObject({ survey: { status: 'open' }, review: { status: 'closed', reason: '撤回' } });
    });
  });

  describe(SURVEY_VISIT_RECORDED, () => {
    it.each([
      ['nobody-home', 'revisit'],
      ['refused', 'refused'],
      ['away', 'away'],
      ['moved-out', 'moved-out'],
      ['deceased', 'death-claimed'],
      ['not-found', 'not-found'],
    ] as const)('given an open target, when the visit found %s, then the target is %s', (outcome, status) => {
      const visit = event(SURVEY_VISIT_RECORDED, { taskId: TASK, visitId: uuid('visit-1'), surveyorId: 'surveyor-7', outcome, visitedAt: '2026-11-20T09:00:00.000Z', evidence: [] });
      expect(given(household(), taskCreated(), visit).survey).toMatchObject({ status, submissionId: uuid('visit-1'), surveyorId: 'surveyor-7' });
    });
  });

  describe('identity links (comparison.link-proposed, review.link-confirmed, review.link-rejected)', () => {
    const SURROGATE = personKeyFor(`${ID.slice(0, 17)}${ID[17] === '0' ? '1' : '0'}`);
    const LINK = uuid('link-1');
    const proposed = () =>
      event(LINK_PROPOSED, {
        linkId: LINK,
        recordKey: SURROGATE,
        citizenIdAsSent: `${ID.slice(0, 17)}${ID[17] === '0' ? '1' : '0'}`,
        sources: [{ department: 'social-insurance', sourceRecordId: 'SI-1' }],
        scoring: 'id-link',
        scoringVersion: 1,
        score: 80,
        threshold: 80,
        criteria: [{ criterion: 'CITIZEN_ID_CHECK_CHARACTER', points: 50, detail: 'only the check character differs' }],
      });
    const confirmed = () => event(LINK_CONFIRMED, { linkId: LINK, recordKey: SURROGATE, reviewerId: 'approver-1', comment: 'ID checked at the window' });
    const rejected = () => event(LINK_REJECTED, { linkId: LINK, recordKey: SURROGATE, reviewerId: 'approver-1', reason: 'another person' });

    it('given a person, when a link is proposed, then the record names the linked records as proposed', () => {
      const p = proposed();
      expect(given(household(), p).links).toEqual({
        [SURROGATE]: {
          linkId: LINK, recordKey: SURROGATE, citizenIdAsSent: p.payload.citizenIdAsSent, status: 'proposed', score: 80,
          proposedAt: p.occurredAt, decidedAt: null, decidedBy: null, note: null, eventId: p.eventId,
        },
      });
    });

    it('given a proposed link, when confirmed, then confirmed with who and when, the proposal kept', () => {
      const p = proposed();
      const c = confirmed();
      expect(given(household(), p, c).links[SURROGATE]).toEqual({
        linkId: LINK, recordKey: SURROGATE, citizenIdAsSent: p.payload.citizenIdAsSent, status: 'confirmed', score: 80,
        proposedAt: p.occurredAt, decidedAt: c.occurredAt, decidedBy: 'approver-1', note: 'ID checked at the window', eventId: c.eventId,
      });
    });

    it('given a rejected link, when the same proposal comes again, then it stays rejected', () => {
      const record = given(household(), proposed(), rejected());
      expect(record.links[SURROGATE]).toMatchObject({ status: 'rejected', note: 'another person' });
      expect(evolve(record, proposed()).links[SURROGATE]).toMatchObject({ status: 'rejected' });
    });

    it('given no proposal, when a confirmation arrives, then the link is confirmed without what only the proposal knew', () => {
      expect(given(household(), confirmed()).links[SURROGATE]).toMatchObject({ status: 'confirmed', citizenIdAsSent: null, score: null, proposedAt: null });
    });
  });

  describe('every event', () => {
    const history = (): RegistrationEvent[] => [
      household(),
      insurance(),
      outcome('needs-survey'),
      taskCreated(),
      formSubmitted(),
      returned(),
      formSubmitted(uuid('submission-2')),
      initialApproved(uuid('submission-2')),
      finalApproved(uuid('submission-2')),
    ];

    it('counts one version and moves the last event ID and time', () => {
      const events = history();
      let record: RegistrationRecord | null = null;
      events.forEach((e, i) => {
        record = evolve(record, e);
        expect(record).toMatchObject({ version: i + 1, lastEventId: e.eventId, updatedAt: e.occurredAt });
      });
    });

    it('is applied once when the last one is delivered again', () => {
      const events = history();
      const record = given(...events);
      expect(evolve(record, events[events.length - 1])).toBe(record);
    });

    it('belongs to the record of its own person', () => {
      const record = given(household());
      const other = taskCreated();
      expect(() => evolve(record, { ...other, personKey: '11010519491231002X' })).toThrow(PersonKeyMismatchError);
    });

    it('leaves the record it was given untouched', () => {
      const events = history();
      let record: RegistrationRecord | null = null;
      for (const e of events) {
        const before = deepFreeze(record);
        const snapshot = JSON.stringify(before);
        record = evolve(before, e);
        expect(JSON.stringify(before)).toBe(snapshot);
      }
    });

    it('folds to plain JSON that survives a round trip unchanged', () => {
      const record = given(...history());
      expect(JSON.parse(JSON.stringify(record))).toStrictEqual(record);
    });
  });

  describe('foldEvents', () => {
    it('returns null for no events', () => {
      expect(foldEvents([])).toBeNull();
    });

    const anyOtherFacts: fc.Arbitrary<[Department, SourceFacts]> = fc.oneof(
      fc.record({ employed: fc.boolean(), employer: fc.option(fc.constantFrom('甲公司', '乙公司'), { nil: undefined }) }).map(
        (f): [Department, SourceFacts] => ['tax', { kind: 'tax', ...f }],
      ),
      fc.record({ category: fc.constantFrom<WelfareCategory>('minimum-living-allowance', 'extreme-poverty'), active: fc.boolean() }).map(
        (f): [Department, SourceFacts] => ['civil-affairs', { kind: 'welfare', ...f }],
      ),
      fc.record({ department: fc.constantFrom<Department>('civil-affairs', 'public-security'), name: fc.option(fc.constantFrom('张三', '张叁'), { nil: undefined }) }).map(
        ({ department, name }): [Department, SourceFacts] => [department, { kind: 'death', deathDate: '2025-01-20', ...(name ? { name } : {}) }],
      ),
      fc.record({ enrolled: fc.boolean(), sex: fc.option(fc.constantFrom<Sex>('male', 'female'), { nil: undefined }) }).map(
        ({ enrolled, sex }): [Department, SourceFacts] => ['education', { kind: 'enrolment', enrolled, ...(sex ? { sex } : {}) }],
      ),
      fc.boolean().map((inCustody): [Department, SourceFacts] => ['justice', { kind: 'custody', inCustody }]),
    );
    const anyEvent: fc.Arbitrary<() => RegistrationEvent> = fc.oneof(
      fc.record({ status: fc.constantFrom<HukouStatus>('normal', 'moved-out', 'deceased'), day: fc.integer({ min: 1, max: 28 }) }).map(
        ({ status, day }) => () => household({ status }, `2025-02-${String(day).padStart(2, '0')}T00:00:00Z`),
      ),
      fc
        .record({
          insuranceType: fc.constantFrom<InsuranceType>('pension', 'medical', 'unemployment'),
          scheme: fc.constantFrom<Scheme>('employee', 'resident'),
          status: fc.constantFrom<InsuranceStatus>('active', 'suspended', 'ended'),
          day: fc.integer({ min: 1, max: 28 }),
        })
        .map(({ day, ...facts }) => () => insurance(facts, `2025-02-${String(day).padStart(2, '0')}T00:00:00Z`)),
      fc.constantFrom<Outcome>('registered', 'duplicate', 'needs-survey', 'exempt').map((value) => () => outcome(value)),
      fc.tuple(anyOtherFacts, fc.integer({ min: 1, max: 28 }), fc.constantFrom<SourceMode>('snapshot', 'change')).map(
        ([[department, facts], day, mode]) => () => source(department, facts, `2025-02-${String(day).padStart(2, '0')}T00:00:00Z`, mode),
      ),
      fc.constant(() => taskCreated()),
      fc.constantFrom(SUBMISSION, uuid('submission-2')).map((s) => () => formSubmitted(s)),
      fc.constantFrom(SUBMISSION, uuid('submission-2')).map((s) => () => initialApproved(s)),
      fc.constantFrom(SUBMISSION, uuid('submission-2')).map((s) => () => returned(s)),
      fc.constantFrom(SUBMISSION, uuid('submission-2')).map((s) => () => finalApproved(s)),
    );
    const anyHistory = fc.array(anyEvent, { minLength: 1, maxLength: 30 }).map((makers) => makers.map((make) => make()));

    it('is deterministic: the same log always folds to the same plain record', () => {
      fc.assert(
        fc.property(anyHistory, (events) => {
          const once = foldEvents(events);
          const twice = foldEvents(JSON.parse(JSON.stringify(events)) as RegistrationEvent[]);
          expect(twice).toStrictEqual(once);
          expect(JSON.parse(JSON.stringify(once))).toStrictEqual(once);
          expect(once?.version).toBe(events.length);
        }),
        { numRuns: 50 },
      );
    });

    it('ends in the same facts whatever order snapshots of distinct as-of times arrive in', () => {
      const snapshots = fc
        .uniqueArray(fc.tuple(anyOtherFacts, fc.integer({ min: 1, max: 28 })), { minLength: 1, maxLength: 12, selector: ([, day]) => day })
        .chain((items) => fc.tuple(fc.constant(items), fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length })));
      fc.assert(
        fc.property(snapshots, ([inOrder, shuffled]) => {
          const fold = (items: typeof inOrder) => {
            const events = items.map(([[department, facts], day]) => {
              const e = source(department, facts, `2025-02-${String(day).padStart(2, '0')}T00:00:00Z`);
              const eventId = deterministicId('snap', department, JSON.stringify(facts), String(day));
              return { ...e, eventId, payload: { ...e.payload, sourceRecordId: eventId } };
            });
            const record = foldEvents(events);
            if (!record) throw new Error('no record');
            const { version: _v, lastEventId: _l, updatedAt: _u, ...facts } = record;
            return facts;
          };
          expect(fold(shuffled)).toStrictEqual(fold(inOrder));
        }),
        { numRuns: 50 },
      );
    });

    it('continues from a stored record as if it had folded the whole log', () => {
      fc.assert(
        fc.property(anyHistory, fc.nat(), (events, at) => {
          const cut = at % (events.length + 1);
          const stored = JSON.parse(JSON.stringify(foldEvents(events.slice(0, cut)))) as RegistrationRecord | null;
          expect(foldEvents(events.slice(cut), stored)).toStrictEqual(foldEvents(events));
        }),
        { numRuns: 50 },
      );
    });
  });
});
