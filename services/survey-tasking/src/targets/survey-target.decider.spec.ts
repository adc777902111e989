import {
  OUTCOME_DETERMINED,
  REVIEW_CLOSED,
  REVIEW_FINAL_APPROVED,
  REVIEW_INITIAL_APPROVED,
  REVIEW_REJECTED,
  REVIEW_RETURNED,
  SURVEY_FORM_SUBMITTED,
  SURVEY_PERSON_FOUND,
  SURVEY_TARGET_ASSIGNED,
  SURVEY_TASK_CLOSED,
  SURVEY_TASK_CREATED,
  SURVEY_TASK_REOPENED,
  SURVEY_VISIT_RECORDED,
  deterministicId,
  newEvent,
} from '@qmcb/contracts';
import type { ChangeRequest, EventOf, Outcome, RegistrationEvent } from '@qmcb/contracts';
import { checkCharacter, foldEvents } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { DomainError } from '@qmcb/platform';
import type { FormContext } from '../forms/form-completeness';
import { FINISHED, IN_REVIEW, VISITABLE, decide, evolve, foundTaskId } from './survey-target.decider';
import type { FoundPerson, RecordVisit, SubmitForm, SurveyTarget, TargetStatus } from './survey-target.decider';

const ID17 = '44098119850315123';
const PERSON = `${ID17}${checkCharacter(ID17)}`;
const HOME = '440981002001';
const LIVES = '440103001001';
const NOW = '2026-12-01T08:00:00.000Z';
const AT = '2026-11-30T08:00:00.000Z';
const CAMPAIGN = deterministicId('campaign');
const TEAM = deterministicId('team');
const ME = { id: 'sv-1', actor: 'user:sv-1' };

const record = (patch: Partial<RegistrationRecord> = {}): RegistrationRecord =>
  ({ personKey: PERSON, citizenId: PERSON, version: 7, name: '李明', sex: 'male', birthDate: '1985-03-15', hukouDivision: HOME, residenceDivision: LIVES, household: null, collected: null, ...patch }) as RegistrationRecord;

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
    taskId: deterministicId('t'), personKey: PERSON, villageCode: HOME, origin: 'comparison', status, reasons: ['UNINSURED'],
    submissionId: status === 'open' || status === 'closed' ? null : deterministicId('s'), surveyorId: null,
    campaignId: CAMPAIGN, teamId: TEAM, responsibleId: 'sv-1', assignedAt: AT, visits: 0, lastVisitId: null, lastOutcome: null, lastVisitAt: null,
    revisitOn: null, whereRegion: null, whereText: null, visitNote: null, returnReason: null, fieldsToFix: [], closedReason: null,
    finishedAt: FINISHED.includes(status) ? AT : null, foundInTaskId: null, createdAt: AT, updatedAt: AT, version: 3, ...patch,
  };
}

const follow = (o: EventOf<typeof OUTCOME_DETERMINED>, state: SurveyTarget | null, policy: { surveyBy: 'household' | 'residence' } = { surveyBy: 'household' }, rec = record()): RegistrationEvent[] =>
  decide({ kind: 'follow-outcome', outcome: o, record: rec, policy, now: NOW }, state);

const FIELDS: ChangeRequest['fields'] = {
  citizenId: PERSON, name: '李明', sex: 'male', birthDate: '1985-03-15', phone: '13800138000', employmentStatus: 'farmer', residenceAddress: '南宫居委会 12 号', residenceDivision: HOME,
  insurance: [{ insuranceType: 'pension', scheme: 'resident', status: 'active', region: '440981' }, { insuranceType: 'medical', scheme: 'resident', status: 'active', region: '440981' }], insuredElsewhere: false,
};
const REQUEST: ChangeRequest = { kind: 'registration-form', fields: FIELDS, evidence: [], unknown: [] };
const HOUSEHOLD = { members: [{ citizenId: PERSON, name: '李明', relation: '户主', status: 'present' as const }] };
const FORM: FormContext = {
  personKey: PERSON, record: record(), reasons: ['UNINSURED'], members: [{ personKey: PERSON, citizenId: PERSON, name: '李明', relation: '户主', source: 'household' }],
  policy: { requirePhone: true, requireAddress: true, pensionSchemes: ['employee', 'resident'], medicalSchemes: ['employee', 'resident'] }, foundPath: 'POST /tasks/t/found-persons', now: new Date(NOW),
};

const submitCommand = (patch: Partial<SubmitForm> = {}): SubmitForm => ({
  kind: 'submit-form', submissionId: deterministicId('s2'), visitId: deterministicId('v2'), visitedAt: AT, request: REQUEST, household: HOUSEHOLD, surveyor: ME, correlationId: 'c2', basedOnVersion: 7, now: NOW, form: FORM, ...patch,
});
const submit = (state: SurveyTarget | null, patch: Partial<SubmitForm> = {}): RegistrationEvent[] => decide(submitCommand(patch), state);

const visitCommand = (visit: Partial<RecordVisit['visit']>, visitId = deterministicId('v3')): RecordVisit => ({
  kind: 'record-visit', visitId, visit: { outcome: 'nobody-home', visitedAt: AT, revisitOn: '2026-12-05', evidence: [], ...visit } as RecordVisit['visit'], surveyor: ME, correlationId: 'c3', basedOnVersion: 7, now: NOW,
});

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

  it.each(['approved', 'deceased'] as const)('given a %s target, when the person needs a survey again, then a new target opens', (status) => {
    const [created] = follow(outcome('needs-survey', ['INACCURATE_NAME'], 'o2'), target(status));
    expect(created?.type).toBe(SURVEY_TASK_CREATED);
    expect(created?.type === SURVEY_TASK_CREATED && created.payload.taskId).not.toBe(target(status).taskId);
  });

  it('given a closed target, when the person needs a survey again, then it reopens with the new reasons', () => {
    const o = outcome('needs-survey', ['PARTLY_INSURED_NO_PENSION'], 'o3');
    const [reopened] = follow(o, target('closed', { closedReason: 'OUTCOME_REGISTERED' }));
    expect(reopened).toMatchObject({ type: SURVEY_TASK_REOPENED, eventId: deterministicId('survey', 'task-reopened', o.eventId), payload: { taskId: target('closed').taskId, reasons: ['PARTLY_INSURED_NO_PENSION'] } });
  });

  it.each([...VISITABLE, ...IN_REVIEW])('given a %s target, when the person needs a survey (still), then nothing', (status) => {
    expect(follow(outcome('needs-survey'), target(status))).toEqual([]);
  });

  it.each(VISITABLE.flatMap((s) => [[s, 'registered', 'OUTCOME_REGISTERED'], [s, 'exempt', 'OUTCOME_EXEMPT'], [s, 'duplicate', 'OUTCOME_DUPLICATE']] as const))(
    'given a %s target (no form yet), when the outcome becomes %s, then it closes by itself with reason %s',
    (status, value, reason) => {
      const o = outcome(value, [], 'o4');
      expect(follow(o, target(status))).toMatchObject([{ type: SURVEY_TASK_CLOSED, eventId: deterministicId('survey', 'task-closed', o.eventId), payload: { taskId: target(status).taskId, reason } }]);
    },
  );

  it.each([...IN_REVIEW, ...FINISHED])('given a %s target, when the outcome leaves needs-survey, then nothing (review has it, or it is closed out)', (status) => {
    expect(follow(outcome('registered', []), target(status))).toEqual([]);
  });

  it('given no target, when the outcome is registered, then nothing', () => {
    expect(follow(outcome('registered', []), null)).toEqual([]);
  });

  describe('assigning', () => {
    const assign = (state: SurveyTarget | null, surveyorId = 'sv-2', teamId = TEAM): RegistrationEvent[] =>
      decide({ kind: 'assign', decisionId: 'd1', campaignId: CAMPAIGN, teamId, surveyorId, mode: 'manual', reason: '调整', by: { id: 'tw-1', actor: 'user:tw-1' }, correlationId: 'c4', now: NOW }, state);

    it('given a target of sv-1, when it is given to sv-2, then the event names both', () => {
      expect(assign(target('open'))).toEqual([
        newEvent(SURVEY_TARGET_ASSIGNED, deterministicId('survey', 'target-assigned', target('open').taskId, 'd1'), PERSON,
          { taskId: target('open').taskId, campaignId: CAMPAIGN, teamId: TEAM, surveyorId: 'sv-2', previousSurveyorId: 'sv-1', mode: 'manual', reason: '调整', assignedBy: 'user:tw-1' },
          { source: 'svc:survey-tasking', actor: 'user:tw-1', occurredAt: NOW, correlationId: 'c4' }),
      ]);
    });

    it('given the same surveyor and team, then nothing', () => {
      expect(assign(target('open'), 'sv-1')).toEqual([]);
    });

    it.each(FINISHED)('given a %s target, then CONFLICT (closed out: nobody to send)', (status) => {
      expect(() => assign(target(status))).toThrow(new DomainError('CONFLICT', `survey task ${target(status).taskId} is ${status}: it is closed out and takes no surveyor`));
    });
  });

  describe('submitting a form', () => {
    it.each(VISITABLE)('given a %s target of the surveyor, then the form is submitted', (status) => {
      expect(submit(target(status))).toEqual([
        {
          eventId: deterministicId('survey', 'form-submitted', deterministicId('s2')), type: SURVEY_FORM_SUBMITTED, schemaVersion: 2, personKey: PERSON,
          occurredAt: NOW, recordedAt: NOW, source: 'svc:survey-tasking', actor: 'user:sv-1', correlationId: 'c2', causationId: null, basedOnVersion: 7,
          payload: { taskId: target(status).taskId, submissionId: deterministicId('s2'), visitId: deterministicId('v2'), surveyorId: 'sv-1', request: REQUEST, household: HOUSEHOLD, visitedAt: AT },
        },
      ]);
    });

    it.each([...IN_REVIEW, ...FINISHED])('given a %s target, then CONFLICT', (status) => {
      expect(() => submit(target(status))).toThrow(new DomainError('CONFLICT', `survey task ${target(status).taskId} is ${status}; only a task waiting for a visit (${VISITABLE.join(', ')}) takes one`));
    });

    it('given a target of another surveyor (or none), then NOT_FOUND: it does not exist for them', () => {
      expect(() => submit(target('open', { responsibleId: 'sv-9' }))).toThrow(new DomainError('NOT_FOUND', 'survey task not found'));
      expect(() => submit(target('open', { responsibleId: null }))).toThrow(new DomainError('NOT_FOUND', 'survey task not found'));
      expect(() => submit(null)).toThrow(new DomainError('NOT_FOUND', 'survey task not found'));
    });

    it('given an incomplete form, then VALIDATION_FAILED with every missing item, field by field', () => {
      const { phone: _p, insurance: _i, ...partial } = FIELDS;
      try {
        submit(target('open'), { request: { ...REQUEST, fields: partial, unknown: [{ field: 'insurance', reason: '本人不清楚' }] } });
        throw new Error('expected a refusal');
      } catch (e) {
        expect(e).toMatchObject({ code: 'VALIDATION_FAILED', message: 'the registration form is incomplete: 2 items missing or wrong' });
        expect((e as DomainError).violations).toEqual([
          { field: 'request.fields.phone', rule: 'filledOrUnknown', message: 'request.fields.phone (联系电话) must be filled in or marked unknown with a reason' },
          { field: 'request.fields.notInsuredReason', rule: 'filledOrUnknown', message: 'request.fields.notInsuredReason (未参保原因) must be filled in or marked unknown with a reason' },
        ]);
      }
    });
  });

  describe('recording a visit', () => {
    it('given an open target, when nobody is home, then the visit is recorded with the revisit date', () => {
      expect(decide(visitCommand({}), target('open'))).toMatchObject([
        { type: SURVEY_VISIT_RECORDED, personKey: PERSON, actor: 'user:sv-1', payload: { taskId: target('open').taskId, visitId: deterministicId('v3'), surveyorId: 'sv-1', outcome: 'nobody-home', visitedAt: AT, revisitOn: '2026-12-05', evidence: [] } },
      ]);
    });

    it.each([
      ['refused', {}, [{ field: 'reason', rule: 'isDefined', message: 'reason must be given when the outcome is refused (why the person refuses)' }]],
      ['nobody-home', { revisitOn: undefined }, [{ field: 'revisitOn', rule: 'isDefined', message: 'revisitOn must be given when the outcome is nobody-home (the planned revisit)' }]],
      ['nobody-home', { revisitOn: '2026-11-01' }, [{ field: 'revisitOn', rule: 'notBeforeVisit', message: 'revisitOn must not be before the visit' }]],
      ['moved-out', {}, [{ field: 'whereText', rule: 'isDefined', message: 'whereRegion or whereText must be given when the outcome is moved-out (where to transfer)' }]],
      ['deceased', {}, [
        { field: 'deathDate', rule: 'isDefined', message: 'deathDate must be given when the outcome is deceased (the date of death)' },
        { field: 'evidence', rule: 'arrayNotEmpty', message: 'evidence must name at least one document (death or cremation certificate) when the outcome is deceased' },
      ]],
      ['deceased', { deathDate: '2026-12-31', evidence: [{ kind: 'death-certificate', reference: 'SW-1' }] }, [{ field: 'deathDate', rule: 'notAfterVisit', message: 'deathDate must not be after the visit' }]],
      ['away', { visitedAt: '2027-01-01T00:00:00.000Z' }, [{ field: 'visitedAt', rule: 'notInFuture', message: 'visitedAt must not be in the future' }]],
    ] as const)('given a %s visit without what it needs (%j), then VALIDATION_FAILED naming it', (outcome, patch, violations) => {
      const base = outcome === 'nobody-home' ? {} : { revisitOn: undefined };
      try {
        decide(visitCommand({ outcome, ...base, ...patch } as Partial<RecordVisit['visit']>), target('open'));
        throw new Error('expected a refusal');
      } catch (e) {
        expect((e as DomainError).violations).toEqual(violations);
      }
    });

    it('given a target in review, then CONFLICT', () => {
      expect(() => decide(visitCommand({}), target('submitted'))).toThrow(DomainError);
    });
  });

  describe('a person found on site', () => {
    const FOUND_ID17 = '44098120100101002';
    const FOUND = `${FOUND_ID17}${checkCharacter(FOUND_ID17)}`;
    const foundCommand = (): FoundPerson => ({
      kind: 'found-person', submissionId: deterministicId('s5'), visitId: deterministicId('v5'), foundIn: { taskId: target('open').taskId, villageCode: HOME, campaignId: CAMPAIGN, teamId: TEAM },
      personKey: FOUND, name: '李小红', relation: '女', householdKey: `${HOME}-0001`,
      request: { ...REQUEST, fields: { ...FIELDS, citizenId: FOUND, name: '李小红', sex: 'female', birthDate: '2010-01-01', employmentStatus: 'student' } },
      household: { members: [...HOUSEHOLD.members, { citizenId: FOUND, name: '李小红', relation: '女', status: 'present' }] },
      surveyor: ME, correlationId: 'c5', basedOnVersion: null, now: NOW,
      form: { ...FORM, personKey: FOUND, record: null, reasons: ['FOUND_ON_SITE'], members: [...FORM.members, { personKey: FOUND, citizenId: FOUND, name: '李小红', relation: '女', source: 'found' }] },
    });

    it('given no target of theirs, then they get one (linked to the household), given to the surveyor, with their form', () => {
      const taskId = foundTaskId(deterministicId('s5'));
      expect(decide(foundCommand(), null).map((e) => [e.type, e.personKey, e.payload])).toEqual([
        [SURVEY_PERSON_FOUND, FOUND, { taskId, villageCode: HOME, householdKey: `${HOME}-0001`, relation: '女', name: '李小红', foundInTaskId: target('open').taskId, visitId: deterministicId('v5'), surveyorId: 'sv-1' }],
        [SURVEY_TARGET_ASSIGNED, FOUND, { taskId, campaignId: CAMPAIGN, teamId: TEAM, surveyorId: 'sv-1', previousSurveyorId: null, mode: 'found', assignedBy: 'user:sv-1' }],
        [SURVEY_FORM_SUBMITTED, FOUND, { taskId, submissionId: deterministicId('s5'), visitId: deterministicId('v5'), surveyorId: 'sv-1', request: foundCommand().request, household: foundCommand().household }],
      ]);
    });

    it('given they are a target already, then CONFLICT', () => {
      expect(() => decide(foundCommand(), target('open', { personKey: FOUND }))).toThrow(DomainError);
    });
  });

  describe('evolve', () => {
    const o = outcome('needs-survey');
    const [created] = follow(o, null) as [RegistrationEvent];
    const opened = evolve(null, created) as SurveyTarget;
    const review = { reviewId: deterministicId('r'), reviewerId: 'rv' };
    const origin = { source: 'svc:review', actor: 'user:rv', occurredAt: NOW, correlationId: 'c3' };

    it('opens a target from its creation', () => {
      expect(opened).toEqual({
        taskId: deterministicId('survey', 'task', o.eventId), personKey: PERSON, villageCode: HOME, origin: 'comparison', status: 'open', reasons: ['UNINSURED'], submissionId: null, surveyorId: null,
        campaignId: null, teamId: null, responsibleId: null, assignedAt: null, visits: 0, lastVisitId: null, lastOutcome: null, lastVisitAt: null, revisitOn: null, whereRegion: null,
        whereText: null, visitNote: null, returnReason: null, fieldsToFix: [], closedReason: null, finishedAt: null, foundInTaskId: null, createdAt: NOW, updatedAt: NOW, version: 1,
      });
    });

    it('follows assignment, visits, a form and both stages of review, counting versions and visits', () => {
      const [assigned] = decide({ kind: 'assign', decisionId: 'd', campaignId: CAMPAIGN, teamId: TEAM, surveyorId: 'sv-1', mode: 'auto', by: ME, correlationId: 'c', now: NOW }, opened) as [RegistrationEvent];
      const a = evolve(opened, assigned) as SurveyTarget;
      expect(a).toMatchObject({ campaignId: CAMPAIGN, teamId: TEAM, responsibleId: 'sv-1', assignedAt: NOW, version: 2 });
      const [away] = decide(visitCommand({ outcome: 'nobody-home' }), a) as [RegistrationEvent];
      const v = evolve(a, away) as SurveyTarget;
      expect(v).toMatchObject({ status: 'revisit', visits: 1, lastOutcome: 'nobody-home', revisitOn: '2026-12-05', submissionId: deterministicId('v3'), version: 3 });
      const [submitted] = submit(v) as [RegistrationEvent];
      const s = evolve(v, submitted) as SurveyTarget;
      expect(s).toMatchObject({ status: 'submitted', submissionId: deterministicId('s2'), surveyorId: 'sv-1', visits: 2, lastOutcome: 'collected', revisitOn: null, version: 4 });
      const sub = { ...review, submissionId: deterministicId('s2') };
      const returned = evolve(s, newEvent(REVIEW_RETURNED, 'e1', PERSON, { ...sub, stage: 'initial', reason: '电话不对', fieldsToFix: ['phone'] }, origin)) as SurveyTarget;
      expect(returned).toMatchObject({ status: 'returned', returnReason: '电话不对', fieldsToFix: ['phone'], version: 5 });
      const initial = evolve(s, newEvent(REVIEW_INITIAL_APPROVED, 'e2', PERSON, { ...sub, townshipCode: '440981002', comment: '' }, origin)) as SurveyTarget;
      expect(initial).toMatchObject({ status: 'initial-approved', version: 5 });
      expect(evolve(initial, newEvent(REVIEW_FINAL_APPROVED, 'e3', PERSON, { ...sub, channel: 'survey', countyCode: '440981', request: REQUEST }, origin))).toMatchObject({ status: 'approved', finishedAt: NOW, version: 6 });
      // A review of another submission leaves the target alone.
      expect(evolve(s, newEvent(REVIEW_FINAL_APPROVED, 'e4', PERSON, { ...sub, submissionId: deterministicId('other'), channel: 'survey', countyCode: '440981', request: REQUEST }, origin))).toBe(s);
    });

    it('a deceased visit is a death claim; its approval makes the target deceased, its rejection open again', () => {
      const [dead] = decide(visitCommand({ outcome: 'deceased', deathDate: '2026-11-20', evidence: [{ kind: 'death-certificate', reference: 'SW-1' }], revisitOn: undefined }), target('open')) as [RegistrationEvent];
      const d = evolve(target('open'), dead) as SurveyTarget;
      expect(d).toMatchObject({ status: 'death-claimed', lastOutcome: 'deceased' });
      const claim = { ...review, submissionId: deterministicId('v3') };
      expect(evolve(d, newEvent(REVIEW_FINAL_APPROVED, 'e5', PERSON, { ...claim, channel: 'survey', countyCode: '440981', request: { kind: 'death-claim', fields: { deathDate: '2026-11-20' }, evidence: [], unknown: [] } }, origin))).toMatchObject({ status: 'deceased', finishedAt: NOW });
      expect(evolve(d, newEvent(REVIEW_REJECTED, 'e6', PERSON, { ...claim, stage: 'initial', reasonCode: 'no-evidence', reason: '无证明' }, origin))).toMatchObject({ status: 'open', finishedAt: null });
      expect(evolve(d, newEvent(REVIEW_CLOSED, 'e7', PERSON, { ...claim, closeReason: 'withdrawn', reason: '撤回' }, origin))).toMatchObject({ status: 'open' });
    });

    it('closes and reopens, and a person found on site opens a target of their own', () => {
      const [closed] = follow(outcome('registered', [], 'o5'), opened) as [RegistrationEvent];
      const c = evolve(opened, closed) as SurveyTarget;
      expect(c).toMatchObject({ status: 'closed', closedReason: 'OUTCOME_REGISTERED', finishedAt: NOW, version: 2 });
      const [reopened] = follow(outcome('needs-survey', ['MISSING_PHONE'], 'o6'), c) as [RegistrationEvent];
      expect(evolve(c, reopened)).toMatchObject({ status: 'open', reasons: ['MISSING_PHONE'], closedReason: null, finishedAt: null, version: 3 });
      const found = newEvent(SURVEY_PERSON_FOUND, 'f1', PERSON, { taskId: deterministicId('ft'), villageCode: HOME, householdKey: 'h', relation: '子', name: '李', foundInTaskId: deterministicId('t'), visitId: deterministicId('v'), surveyorId: 'sv-1' }, origin);
      expect(evolve(null, found)).toMatchObject({ taskId: deterministicId('ft'), origin: 'found-on-site', status: 'open', reasons: ['FOUND_ON_SITE'], foundInTaskId: deterministicId('t') });
    });

    it("ignores events that are not the target's", () => {
      expect(evolve(opened, o)).toBe(opened);
      expect(evolve(null, o)).toBeNull();
    });
  });

  describe("agrees with the record's survey status (libs/domain evolve) on every path", () => {
    // Every event sequence a target can go through, folded by both: the statuses must be equal at each step.
    const review = { reviewId: deterministicId('r'), reviewerId: 'rv' };
    const origin = { source: 'svc:review', actor: 'user:rv', occurredAt: NOW, correlationId: 'c' };
    const house = newEvent('source.record-received', 'h', PERSON, {
      department: 'public-security', sourceRecordId: 'HJ-1', mode: 'snapshot', asOf: AT, citizenIdAsSent: PERSON, citizenIdValid: true,
      facts: { kind: 'household', name: '李明', villageCode: HOME, status: 'normal' },
    } as never, { source: 'dept:public-security', actor: 'key:ps', occurredAt: AT, correlationId: 'c' });
    const o = outcome('needs-survey');
    const [created] = follow(o, null) as [RegistrationEvent];
    const t0 = evolve(null, created) as SurveyTarget;
    const [assigned] = decide({ kind: 'assign', decisionId: 'd', campaignId: CAMPAIGN, teamId: TEAM, surveyorId: 'sv-1', mode: 'auto', by: ME, correlationId: 'c', now: NOW }, t0) as [RegistrationEvent];
    const t1 = evolve(t0, assigned) as SurveyTarget;
    const visit = (outcomeName: RecordVisit['visit']['outcome'], id: string): RegistrationEvent =>
      decide(visitCommand({ outcome: outcomeName, reason: 'r', revisitOn: '2026-12-05', whereText: '广州', deathDate: '2026-11-01', evidence: [{ kind: 'death-certificate', reference: 'x' }] }, deterministicId(id)), t1)[0] as RegistrationEvent;
    const formOf = (id: string): RegistrationEvent => submit(t1, { submissionId: deterministicId(id) })[0] as RegistrationEvent;
    const decisionOn = (submissionId: string): RegistrationEvent[] => [
      newEvent(REVIEW_RETURNED, `ret-${submissionId}`, PERSON, { ...review, submissionId, stage: 'initial', reason: 'x', fieldsToFix: [] }, origin),
      newEvent(REVIEW_INITIAL_APPROVED, `ini-${submissionId}`, PERSON, { ...review, submissionId, townshipCode: '440981002', comment: '' }, origin),
      newEvent(REVIEW_FINAL_APPROVED, `fin-${submissionId}`, PERSON, { ...review, submissionId, channel: 'survey', countyCode: '440981', request: REQUEST }, origin),
      newEvent(REVIEW_REJECTED, `rej-${submissionId}`, PERSON, { ...review, submissionId, stage: 'final', reasonCode: 'other', reason: 'x' }, origin),
      newEvent(REVIEW_CLOSED, `clo-${submissionId}`, PERSON, { ...review, submissionId, closeReason: 'duplicate', reason: 'x' }, origin),
    ];
    const [closed] = follow(outcome('registered', [], 'o7'), t1) as [RegistrationEvent];
    const reopened = newEvent(SURVEY_TASK_REOPENED, 'reo', PERSON, { taskId: t0.taskId, reasons: ['MISSING_PHONE'] }, origin);
    const windowApproval = newEvent(REVIEW_FINAL_APPROVED, 'win', PERSON, { ...review, submissionId: deterministicId('window'), channel: 'window', countyCode: '440981', request: { kind: 'collection', fields: { phone: '13800138000' }, evidence: [], unknown: [] } }, origin);
    const paths: [string, RegistrationEvent[]][] = [
      ['nobody home, then a form approved', [visit('nobody-home', 'a'), formOf('f1'), ...decisionOn(deterministicId('f1')).slice(1, 3)]],
      ['refused, away, moved out, not found, then a form returned', [visit('refused', 'b'), visit('away', 'c'), visit('moved-out', 'd'), visit('not-found', 'e'), formOf('f2'), decisionOn(deterministicId('f2'))[0] as RegistrationEvent]],
      ['a death claim rejected', [visit('deceased', 'g'), decisionOn(deterministicId('g'))[3] as RegistrationEvent]],
      ['a death claim approved', [visit('deceased', 'h'), decisionOn(deterministicId('h'))[1] as RegistrationEvent, decisionOn(deterministicId('h'))[2] as RegistrationEvent]],
      ['a form closed as a duplicate', [formOf('f3'), decisionOn(deterministicId('f3'))[4] as RegistrationEvent]],
      ['closed by the outcome, reopened', [closed, reopened]],
      ['a window approved a change before any visit (the target waits for its outcome)', [windowApproval]],
      ['a review of another submission after a visit', [visit('nobody-home', 'i'), ...decisionOn(deterministicId('other'))]],
    ];
    it.each(paths)('%s', (_name, events) => {
      const all = [house, o, created, assigned, ...events];
      let t: SurveyTarget | null = null;
      all.forEach((e, i) => {
        t = evolve(t, e);
        const rec = foldEvents(all.slice(0, i + 1)) as RegistrationRecord;
        expect([e.type, t?.status ?? null]).toEqual([e.type, rec.survey?.status ?? null]);
      });
    });
  });
});
