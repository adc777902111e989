import {
  OUTCOME_DETERMINED,
  REVIEW_FINAL_APPROVED,
  REVIEW_INITIAL_APPROVED,
  REVIEW_RETURNED,
  SURVEY_FORM_SUBMITTED,
  SURVEY_TASK_CLOSED,
  SURVEY_TASK_CREATED,
  SURVEY_TASK_REOPENED,
  deterministicId,
  newEvent,
} from '@qmcb/contracts';
import type { ChangeRequest, EventOf, Outcome, RegistrationEvent } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import { DomainError } from '@qmcb/platform';
import { decide, evolve } from './survey-target.decider';
import type { SurveyTarget, TargetStatus } from './survey-target.decider';

const PERSON = '440981198503151234';
const HOME = '440981002001';
const LIVES = '440103001001';
const NOW = '2026-12-01T08:00:00.000Z';
const AT = '2026-11-30T08:00:00.000Z';

const record = (patch: Partial<RegistrationRecord> = {}): RegistrationRecord => ({ personKey: PERSON, version: 7, hukouDivision: HOME, residenceDivision: LIVES, ...patch }) as RegistrationRecord;

function outcome(value: Outcome, codes: string[] = ['UNINSURED'], id = 'o1'): EventOf<typeof OUTCOME_DETERMINED> {
  return newEvent(OUTCOME_DETERMINED, deterministicId('test-outcome', id), PERSON, {
    outcome: value,
    previousOutcome: 'none',
    reasons: codes.map((code) => ({ code, rule: 'r', ruleVersion: 1, detail: '' })),
    coverage: [],
  }, { source: 'svc:comparison', actor: 'svc:comparison', occurredAt: AT, correlationId: 'c1' });
}

function target(status: TargetStatus, patch: Partial<SurveyTarget> = {}): SurveyTarget {
  return {
    taskId: deterministicId('t'), personKey: PERSON, villageCode: HOME, status, reasons: ['UNINSURED'], submissionId: status === 'open' || status === 'closed' ? null : deterministicId('s'),
    surveyorId: null, returnReason: null, closedReason: null, createdAt: AT, updatedAt: AT, version: 3, ...patch,
  };
}

const follow = (o: EventOf<typeof OUTCOME_DETERMINED>, state: SurveyTarget | null, policy: { surveyBy: 'household' | 'residence' } = { surveyBy: 'household' }, rec = record()): RegistrationEvent[] =>
  decide({ kind: 'follow-outcome', outcome: o, record: rec, policy, now: NOW }, state);

const FORM: ChangeRequest['fields'] = {
  name: '李明', phone: '13800138000', employmentStatus: 'farmer', residenceAddress: '南宫居委会 12 号', residenceDivision: HOME,
  insurance: [{ insuranceType: 'pension', scheme: 'resident', status: 'active', region: '440981' }], insuredElsewhere: false,
};
const REQUEST: ChangeRequest = { kind: 'registration-form', fields: FORM, evidence: [], unknown: [] };
const HOUSEHOLD = { members: [] };

const submit = (state: SurveyTarget | null): RegistrationEvent[] =>
  decide({ kind: 'submit-form', submissionId: deterministicId('s2'), visitId: deterministicId('v2'), request: REQUEST, household: HOUSEHOLD, surveyor: { id: 'sv-1', actor: 'user:sv-1' }, correlationId: 'c2', basedOnVersion: 7, now: NOW }, state);

describe('survey target decider', () => {
  describe('given no target, when the person is marked needs-survey', () => {
    it('then a target opens in their household village, caused by the outcome', () => {
      const o = outcome('needs-survey', ['UNINSURED', 'MISSING_PHONE']);
      expect(follow(o, null)).toEqual([
        {
          eventId: deterministicId('survey', 'task-created', o.eventId), type: SURVEY_TASK_CREATED, schemaVersion: 1, personKey: PERSON,
          occurredAt: NOW, recordedAt: NOW, source: 'svc:survey-tasking', actor: 'svc:survey-tasking', correlationId: 'c1', causationId: o.eventId, basedOnVersion: 7,
          payload: { taskId: deterministicId('survey', 'task', o.eventId), villageCode: HOME, reasons: ['UNINSURED', 'MISSING_PHONE'] },
        },
      ]);
    });

    it('then, where region policy surveys by residence, in the residence village', () => {
      const [created] = follow(outcome('needs-survey'), null, { surveyBy: 'residence' });
      expect(created?.type === SURVEY_TASK_CREATED && created.payload.villageCode).toBe(LIVES);
    });

    it('then nothing when no village is known (nobody could visit)', () => {
      expect(follow(outcome('needs-survey'), null, { surveyBy: 'household' }, record({ hukouDivision: null, residenceDivision: null }))).toEqual([]);
    });
  });

  it('given an approved target, when the person needs a survey again, then a new target opens', () => {
    const [created] = follow(outcome('needs-survey', ['INACCURATE_NAME'], 'o2'), target('approved'));
    expect(created?.type).toBe(SURVEY_TASK_CREATED);
    expect(created?.type === SURVEY_TASK_CREATED && created.payload.taskId).not.toBe(target('approved').taskId);
  });

  it('given a closed target, when the person needs a survey again, then it reopens with the new reasons', () => {
    const o = outcome('needs-survey', ['PARTLY_INSURED_NO_PENSION'], 'o3');
    const [reopened] = follow(o, target('closed', { closedReason: 'OUTCOME_REGISTERED' }));
    expect(reopened).toMatchObject({ type: SURVEY_TASK_REOPENED, eventId: deterministicId('survey', 'task-reopened', o.eventId), payload: { taskId: target('closed').taskId, reasons: ['PARTLY_INSURED_NO_PENSION'] } });
  });

  it.each(['open', 'submitted', 'initial-approved', 'returned'] as const)('given a %s target, when the person needs a survey (still), then nothing', (status) => {
    expect(follow(outcome('needs-survey'), target(status))).toEqual([]);
  });

  it.each([
    ['open', 'registered', 'OUTCOME_REGISTERED'],
    ['returned', 'exempt', 'OUTCOME_EXEMPT'],
    ['open', 'duplicate', 'OUTCOME_DUPLICATE'],
  ] as const)('given a %s (not yet visited) target, when the outcome becomes %s, then it closes with reason %s', (status, value, reason) => {
    const o = outcome(value, [], 'o4');
    expect(follow(o, target(status))).toMatchObject([{ type: SURVEY_TASK_CLOSED, eventId: deterministicId('survey', 'task-closed', o.eventId), payload: { taskId: target(status).taskId, reason } }]);
  });

  it.each(['submitted', 'initial-approved', 'approved', 'closed'] as const)('given a %s target, when the outcome leaves needs-survey, then nothing (the visit is done, or it is closed)', (status) => {
    expect(follow(outcome('registered', []), target(status))).toEqual([]);
  });

  it('given no target, when the outcome is registered, then nothing', () => {
    expect(follow(outcome('registered', []), null)).toEqual([]);
  });

  describe('submitting a form', () => {
    it.each(['open', 'returned'] as const)('given a %s target, then the form is submitted by the surveyor', (status) => {
      expect(submit(target(status))).toEqual([
        {
          eventId: deterministicId('survey', 'form-submitted', deterministicId('s2')), type: SURVEY_FORM_SUBMITTED, schemaVersion: 2, personKey: PERSON,
          occurredAt: NOW, recordedAt: NOW, source: 'svc:survey-tasking', actor: 'user:sv-1', correlationId: 'c2', causationId: null, basedOnVersion: 7,
          payload: { taskId: target(status).taskId, submissionId: deterministicId('s2'), visitId: deterministicId('v2'), surveyorId: 'sv-1', request: REQUEST, household: HOUSEHOLD },
        },
      ]);
    });

    it.each(['submitted', 'initial-approved', 'approved', 'closed'] as const)('given a %s target, then CONFLICT', (status) => {
      expect(() => submit(target(status))).toThrow(new DomainError('CONFLICT', `survey task ${target(status).taskId} is ${status}; only an open or returned task takes a submission`));
    });

    it('given no target, then NOT_FOUND', () => {
      expect(() => submit(null)).toThrow(DomainError);
    });
  });

  describe('evolve', () => {
    const o = outcome('needs-survey');
    const [created] = follow(o, null) as [RegistrationEvent];
    const opened = evolve(null, created) as SurveyTarget;

    it('opens a target from its creation', () => {
      expect(opened).toEqual({
        taskId: deterministicId('survey', 'task', o.eventId), personKey: PERSON, villageCode: HOME, status: 'open', reasons: ['UNINSURED'], submissionId: null, surveyorId: null,
        returnReason: null, closedReason: null, createdAt: NOW, updatedAt: NOW, version: 1,
      });
    });

    it('follows a submission and both stages of review, counting versions', () => {
      const [submitted] = submit(opened) as [RegistrationEvent];
      const s = evolve(opened, submitted) as SurveyTarget;
      expect(s).toMatchObject({ status: 'submitted', submissionId: deterministicId('s2'), surveyorId: 'sv-1', version: 2 });
      const review = { reviewId: deterministicId('r'), submissionId: deterministicId('s2'), reviewerId: 'rv' };
      const origin = { source: 'svc:review', actor: 'user:rv', occurredAt: NOW, correlationId: 'c3' };
      const returned = evolve(s, newEvent(REVIEW_RETURNED, 'e1', PERSON, { ...review, stage: 'initial', reason: '电话不对', fieldsToFix: ['phone'] }, origin)) as SurveyTarget;
      expect(returned).toMatchObject({ status: 'returned', returnReason: '电话不对', version: 3 });
      const initial = evolve(s, newEvent(REVIEW_INITIAL_APPROVED, 'e2', PERSON, { ...review, townshipCode: '440981002', comment: '' }, origin)) as SurveyTarget;
      expect(initial).toMatchObject({ status: 'initial-approved', version: 3 });
      expect(evolve(initial, newEvent(REVIEW_FINAL_APPROVED, 'e3', PERSON, { ...review, channel: 'survey', countyCode: '440981', request: REQUEST }, origin))).toMatchObject({ status: 'approved', version: 4 });
      // A review of another submission leaves the target alone.
      expect(evolve(s, newEvent(REVIEW_FINAL_APPROVED, 'e4', PERSON, { ...review, submissionId: deterministicId('other'), channel: 'survey', countyCode: '440981', request: REQUEST }, origin))).toBe(s);
    });

    it('closes and reopens', () => {
      const [closed] = follow(outcome('registered', [], 'o5'), opened) as [RegistrationEvent];
      const c = evolve(opened, closed) as SurveyTarget;
      expect(c).toMatchObject({ status: 'closed', closedReason: 'OUTCOME_REGISTERED', version: 2 });
      const [reopened] = follow(outcome('needs-survey', ['MISSING_PHONE'], 'o6'), c) as [RegistrationEvent];
      expect(evolve(c, reopened)).toMatchObject({ status: 'open', reasons: ['MISSING_PHONE'], closedReason: null, version: 3 });
    });

    it('ignores events that are not the target\'s', () => {
      expect(evolve(opened, o)).toBe(opened);
      expect(evolve(null, o)).toBeNull();
    });
  });
});
