import {
  REVIEW_CHANGE_SUBMITTED,
  REVIEW_CLOSED,
  REVIEW_FINAL_APPROVED,
  REVIEW_INITIAL_APPROVED,
  REVIEW_REBASED,
  REVIEW_REJECTED,
  REVIEW_RETURNED,
  SURVEY_FORM_SUBMITTED,
  SURVEY_VISIT_RECORDED,
  deterministicId,
  newEvent,
} from '@qmcb/contracts';
import type { ChangeField, ChangeRequest, RegistrationEvent } from '@qmcb/contracts';
import type { FieldValue } from '@qmcb/domain';
import { DomainError } from '@qmcb/platform';
import { decide, evolve, reviewIdFor, reviewIdOf } from './review-item.decider';
import type { OpeningContext, ReviewDecision, ReviewItem, Reviewer } from './review-item.decider';

const PERSON = '440981198503151234';
const VILLAGE = '440981002001';
const NOW = '2026-12-01T08:00:00.000Z';
const AT = '2026-11-30T08:00:00.000Z';
const SUBMISSION = deterministicId('submission', '1');
const REVIEW = reviewIdFor(SUBMISSION);
const FIELDS: ChangeRequest['fields'] = {
  name: '李明', phone: '13800138000', employmentStatus: 'farmer', residenceAddress: '南宫居委会 12 号', residenceDivision: VILLAGE,
  insurance: [{ insuranceType: 'pension', scheme: 'resident', status: 'active', region: '440981' }], insuredElsewhere: false,
};
const REQUEST: ChangeRequest = { kind: 'registration-form', fields: FIELDS, evidence: [], unknown: [] };
/** The record as it was when the form was submitted: no phone, everything else as proposed or unknown. */
const BEFORE: Partial<Record<ChangeField, FieldValue>> = { name: '李明', phone: null, employmentStatus: null, residenceAddress: null, residenceDivision: null, insurance: [], insuredElsewhere: null };
const OPENING: OpeningContext = { villageCode: VILLAGE, skipInitial: false, before: BEFORE, reasons: ['UNINSURED', 'MISSING_PHONE'] };

const survey = { source: 'svc:survey-tasking', actor: 'user:surveyor-1', occurredAt: AT, correlationId: 'c0', basedOnVersion: 4 };
const submitted = newEvent(SURVEY_FORM_SUBMITTED, 'sub-1', PERSON, { taskId: deterministicId('task'), submissionId: SUBMISSION, visitId: SUBMISSION, surveyorId: 'surveyor-1', request: REQUEST, household: { members: [] } }, survey);
const fresh = evolve(null, submitted, OPENING) as ReviewItem;

const township: Reviewer = { id: 'township-1', role: 'grassroots-reviewer', division: '440981002', actor: 'user:township-1' };
const county: Reviewer = { id: 'county-1', role: 'county-approver', division: '440981', actor: 'user:county-1' };
/** The record now: unchanged since submission. */
const record = { version: 5, values: BEFORE };
const base = { record, correlationId: 'c1', now: NOW };

/** A decision as a reviewer asks for it; the record, correlation and time come from `base` unless given. */
type Asked = ReviewDecision extends infer D ? (D extends ReviewDecision ? Omit<D, 'record' | 'correlationId' | 'now'> & { record?: ReviewDecision['record'] } : never) : never;
const run = (c: Asked, item: ReviewItem): RegistrationEvent[] =>
  decide({ ...base, ...c } as ReviewDecision, item);
const initial = (item: ReviewItem, reviewer = township, expectedVersion = item.version): RegistrationEvent[] => run({ kind: 'initial-approval', reviewer, expectedVersion, comment: '核实无误' }, item);
const final = (item: ReviewItem, reviewer = county, expectedVersion = item.version): RegistrationEvent[] => run({ kind: 'final-approval', reviewer, expectedVersion }, item);
const giveBack = (item: ReviewItem, reviewer: Reviewer): RegistrationEvent[] => run({ kind: 'return', reviewer, expectedVersion: item.version, reason: '电话号码不对', fieldsToFix: ['phone'] }, item);

const apply = (item: ReviewItem, events: RegistrationEvent[], ctx: OpeningContext | null = null): ReviewItem => events.reduce<ReviewItem>((i, e) => evolve(i, e, ctx) as ReviewItem, item);
const afterInitial = apply(fresh, initial(fresh));

function refused(run_: () => unknown, code: string, message: string): void {
  let thrown: unknown;
  try {
    run_();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(DomainError);
  expect(thrown).toMatchObject({ code, message });
}

describe('review item decider', () => {
  describe('opening items', () => {
    it('a survey form opens an item at the initial stage in the village it is reviewed in, with the record values it changes', () => {
      expect(fresh).toEqual({
        reviewId: REVIEW, submissionId: SUBMISSION, channel: 'survey', kind: 'registration-form', taskId: deterministicId('task'), personKey: PERSON,
        villageCode: VILLAGE, townshipCode: '440981002', countyCode: '440981', stage: 'initial', status: 'pending', request: REQUEST, before: BEFORE,
        reasons: ['UNINSURED', 'MISSING_PHONE'], submitterId: 'surveyor-1', submittedAt: AT, basedOnVersion: 4, skipInitial: false, initialReviewer: null,
        initialComment: null, finalReviewer: null, returnReason: null, fieldsToFix: [], rejectCode: null, rejectReason: null, closeCode: null, closeReason: null,
        decidedAt: null, updatedAt: AT, version: 1,
      });
      expect(reviewIdOf(submitted)).toBe(REVIEW);
      expect(evolve(fresh, submitted, OPENING)).toBe(fresh);
      expect(() => evolve(null, submitted, { ...OPENING, villageCode: null })).toThrow('has no village to review it in');
    });

    it('a visit that found the person deceased opens a death claim for review; other visits open nothing', () => {
      const visit = (outcome: 'deceased' | 'nobody-home') =>
        newEvent(SURVEY_VISIT_RECORDED, 'v-1', PERSON, {
          taskId: deterministicId('task'), visitId: deterministicId('visit'), surveyorId: 'surveyor-1', outcome, visitedAt: AT,
          ...(outcome === 'deceased' ? { deathDate: '2026-10-02' } : {}), evidence: [{ kind: 'death-certificate', reference: 'DC-7' }],
        }, survey);
      const claim = evolve(null, visit('deceased'), { ...OPENING, before: { deathDate: null } }) as ReviewItem;
      expect(claim).toMatchObject({
        reviewId: reviewIdFor(deterministicId('visit')), channel: 'survey', kind: 'death-claim', stage: 'initial',
        request: { kind: 'death-claim', fields: { deathDate: '2026-10-02' }, evidence: [{ kind: 'death-certificate', reference: 'DC-7' }], unknown: [] },
      });
      expect(reviewIdOf(visit('nobody-home'))).toBeNull();
      expect(evolve(null, visit('nobody-home'), OPENING)).toBeNull();
    });

    describe('a change from another channel', () => {
      const submit = (request: ChangeRequest, existing: ReviewItem | null = null, skipInitial = false): RegistrationEvent[] =>
        decide(
          {
            kind: 'submit-change', channel: 'window', personKey: PERSON, submissionId: deterministicId('window', '1'), submitter: { id: 'clerk-1', actor: 'user:clerk-1' },
            request, villageCode: VILLAGE, skipInitial, recordVersion: 9, correlationId: 'c9', now: NOW,
          },
          existing,
        );

      it('is submitted as review.change-submitted and opens an item; where region policy says so, straight at the final stage', () => {
        const request: ChangeRequest = { kind: 'collection', fields: { phone: '13700000000' }, evidence: [], unknown: [] };
        const [event] = submit(request, null, true) as [RegistrationEvent];
        expect(event).toEqual({
          eventId: deterministicId('review', 'change-submitted', deterministicId('window', '1')), type: REVIEW_CHANGE_SUBMITTED, schemaVersion: 1, personKey: PERSON,
          occurredAt: NOW, recordedAt: NOW, source: 'svc:review', actor: 'user:clerk-1', correlationId: 'c9', causationId: null, basedOnVersion: 9,
          payload: { reviewId: reviewIdFor(deterministicId('window', '1')), submissionId: deterministicId('window', '1'), channel: 'window', submitterId: 'clerk-1', villageCode: VILLAGE, skipInitial: true, request },
        });
        expect(evolve(null, event, { villageCode: null, skipInitial: false, before: { phone: null }, reasons: ['MISSING_PHONE'] })).toMatchObject({
          channel: 'window', kind: 'collection', stage: 'final', skipInitial: true, villageCode: VILLAGE, before: { phone: null }, submitterId: 'clerk-1',
        });
      });

      it('submitted again with the same submission ID, then nothing new', () => {
        expect(submit({ kind: 'collection', fields: { phone: '13700000000' }, evidence: [], unknown: [] }, fresh)).toEqual([]);
      });

      it.each([
        [{ kind: 'collection', fields: {}, evidence: [], unknown: [] }, 'a change must propose at least one field', 'fields'],
        [{ kind: 'correction', fields: { name: '李敏' }, evidence: [], unknown: [] }, 'a correction of name needs evidence', 'evidence'],
        [{ kind: 'correction', fields: { citizenId: '440981198503151234', sex: 'male' }, evidence: [], unknown: [] }, 'a correction of citizenId, sex needs evidence', 'evidence'],
        [{ kind: 'death-claim', fields: { deathDate: '2026-10-02' }, evidence: [], unknown: [] }, 'a death claim needs evidence', 'evidence'],
        [{ kind: 'death-claim', fields: {}, evidence: [{ kind: 'other', reference: 'x' }], unknown: [] }, 'a change must propose at least one field', 'fields'],
      ] as const)('given %j, then VALIDATION_FAILED: %s', (request, message, field) => {
        let thrown: unknown;
        try {
          submit(request as unknown as ChangeRequest);
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toMatchObject({ code: 'VALIDATION_FAILED', message, violations: [expect.objectContaining({ field })] });
      });
    });
  });

  describe('given a pending item at the initial stage', () => {
    it('when the township reviewer approves, then review.initial-approved, and the item waits for the county', () => {
      expect(initial(fresh)).toEqual([
        {
          eventId: deterministicId('review', 'initial-approved', REVIEW, '1'), type: REVIEW_INITIAL_APPROVED, schemaVersion: 1, personKey: PERSON, occurredAt: NOW, recordedAt: NOW,
          source: 'svc:review', actor: 'user:township-1', correlationId: 'c1', causationId: null, basedOnVersion: 5,
          payload: { reviewId: REVIEW, submissionId: SUBMISSION, reviewerId: 'township-1', townshipCode: '440981002', comment: '核实无误' },
        },
      ]);
      expect(afterInitial).toMatchObject({ stage: 'final', status: 'pending', initialReviewer: 'township-1', initialComment: '核实无误', version: 2, updatedAt: NOW });
    });

    it('when a reviewer of a village service point of the township approves, then it is allowed too', () => {
      expect(initial(fresh, { ...township, id: 'village-1', division: VILLAGE })).toHaveLength(1);
    });

    it('when the township reviewer returns it naming the fields to fix, then review.returned at the initial stage', () => {
      const events = giveBack(fresh, township);
      expect(events).toMatchObject([{ type: REVIEW_RETURNED, payload: { stage: 'initial', reason: '电话号码不对', reviewerId: 'township-1', fieldsToFix: ['phone'] } }]);
      expect(apply(fresh, events)).toMatchObject({ status: 'returned', returnReason: '电话号码不对', fieldsToFix: ['phone'], decidedAt: NOW, version: 2 });
    });

    it('when the township reviewer rejects it, then review.rejected with the coded reason', () => {
      const events = run({ kind: 'reject', reviewer: township, expectedVersion: 1, reasonCode: 'false-information', reason: '与实际不符' }, fresh);
      expect(events).toMatchObject([{ type: REVIEW_REJECTED, payload: { stage: 'initial', reasonCode: 'false-information', reason: '与实际不符' } }]);
      expect(apply(fresh, events)).toMatchObject({ status: 'rejected', rejectCode: 'false-information', rejectReason: '与实际不符' });
    });

    it('when the township reviewer closes it as a duplicate, then review.closed', () => {
      const events = run({ kind: 'close', reviewer: township, expectedVersion: 1, closeReason: 'duplicate', reason: '与 R-1 重复' }, fresh);
      expect(apply(fresh, events)).toMatchObject({ status: 'closed', closeCode: 'duplicate', closeReason: '与 R-1 重复' });
    });

    it('when its submitter withdraws it, then review.closed (withdrawn), whatever their role', () => {
      const submitter: Reviewer = { id: 'surveyor-1', role: 'surveyor', division: VILLAGE, actor: 'user:surveyor-1' };
      expect(run({ kind: 'close', reviewer: submitter, expectedVersion: 1, closeReason: 'withdrawn', reason: '填错了' }, fresh)).toMatchObject([{ type: REVIEW_CLOSED, payload: { closeReason: 'withdrawn' } }]);
      refused(() => run({ kind: 'close', reviewer: submitter, expectedVersion: 1, closeReason: 'duplicate', reason: 'x' }, fresh), 'FORBIDDEN', 'role surveyor does not review');
    });

    it('when a county approver tries to approve it finally, then CONFLICT (wrong stage)', () => {
      refused(() => final(fresh), 'CONFLICT', `review ${REVIEW} is at the initial stage, not final`);
    });

    it('when a county approver tries the initial review, then FORBIDDEN', () => {
      refused(() => initial(fresh, county), 'FORBIDDEN', 'initial review is done by a grassroots reviewer');
    });

    it('when a grassroots reviewer of a county-level (or another) division decides, then FORBIDDEN', () => {
      refused(() => initial(fresh, { ...township, division: '440981' }), 'FORBIDDEN', 'initial review is done at the township of the person');
      refused(() => initial(fresh, { ...township, division: '440981003' }), 'FORBIDDEN', 'initial review is done at the township of the person');
    });

    it('when the reviewer saw an older version, then CONFLICT', () => {
      refused(() => initial(fresh, township, 0), 'CONFLICT', `review ${REVIEW} is at version 1, not 0: reload it and decide again`);
    });

    it('when the surveyor who submitted it reviews it, then FORBIDDEN (four eyes)', () => {
      refused(() => initial(fresh, { ...township, id: 'surveyor-1', actor: 'user:surveyor-1' }), 'FORBIDDEN', 'you submitted this item: someone else must review it');
    });

    it('when someone of another role decides, then FORBIDDEN', () => {
      refused(() => initial(fresh, { ...township, id: 'w', role: 'window-clerk' }), 'FORBIDDEN', 'role window-clerk does not review');
      refused(() => giveBack(fresh, { ...township, id: 'a', role: 'admin' }), 'FORBIDDEN', 'role admin does not review');
    });
  });

  describe('stale items', () => {
    const changedSince = { version: 6, values: { ...BEFORE, phone: '13900000000' } };

    it('given the phone changed in the record since submission, when approved, then CONFLICT naming the field', () => {
      refused(
        () => run({ kind: 'initial-approval', reviewer: township, expectedVersion: 1, comment: '', record: changedSince }, fresh),
        'CONFLICT',
        `review ${REVIEW} is stale: since it was submitted the record changed in phone; check it and rebase it (POST /reviews/${REVIEW}/rebase), or return it`,
      );
    });

    it('given a record version that moved without touching its fields (say, a new outcome), then it is not stale', () => {
      expect(run({ kind: 'initial-approval', reviewer: township, expectedVersion: 1, comment: '', record: { version: 42, values: BEFORE } }, fresh)).toHaveLength(1);
    });

    it('when the reviewer rebases it, then review.rebased takes the record values now and it can be approved', () => {
      const events = run({ kind: 'rebase', reviewer: township, expectedVersion: 1, record: changedSince }, fresh);
      expect(events).toMatchObject([{ type: REVIEW_REBASED, basedOnVersion: 6, payload: { reviewId: REVIEW, submissionId: SUBMISSION, reviewerId: 'township-1' } }]);
      const rebased = apply(fresh, events, { ...OPENING, before: changedSince.values });
      expect(rebased).toMatchObject({ before: changedSince.values, basedOnVersion: 6, version: 2, status: 'pending' });
      expect(run({ kind: 'initial-approval', reviewer: township, expectedVersion: 2, comment: '', record: changedSince }, rebased)).toHaveLength(1);
    });

    it('when a fresh item is rebased, then CONFLICT (nothing to rebase)', () => {
      refused(() => run({ kind: 'rebase', reviewer: township, expectedVersion: 1 }, fresh), 'CONFLICT', `review ${REVIEW} is not stale: nothing to rebase`);
    });
  });

  describe('given an item passed by the township', () => {
    it('when the county approves, then review.final-approved carrying the change and its channel, and the item is done', () => {
      expect(final(afterInitial)).toMatchObject([
        { eventId: deterministicId('review', 'final-approved', REVIEW, '2'), type: REVIEW_FINAL_APPROVED, schemaVersion: 2, actor: 'user:county-1', payload: { reviewId: REVIEW, submissionId: SUBMISSION, channel: 'survey', reviewerId: 'county-1', countyCode: '440981', request: REQUEST } },
      ]);
      expect(apply(afterInitial, final(afterInitial))).toMatchObject({ stage: 'done', status: 'approved', finalReviewer: 'county-1', decidedAt: NOW, version: 3 });
    });

    it('when the county returns it, then review.returned at the final stage', () => {
      expect(giveBack(afterInitial, county)).toMatchObject([{ type: REVIEW_RETURNED, payload: { stage: 'final' } }]);
    });

    it('when an approver of a city or of another county approves, then FORBIDDEN', () => {
      refused(() => final(afterInitial, { ...county, division: '4409' }), 'FORBIDDEN', 'final approval is done at the county of the person');
      refused(() => final(afterInitial, { ...county, division: '440982' }), 'FORBIDDEN', 'final approval is done at the county of the person');
    });

    it('when the initial reviewer (now holding a county role) approves it finally, then FORBIDDEN (four eyes)', () => {
      refused(() => final(afterInitial, { ...county, id: 'township-1', actor: 'user:township-1' }), 'FORBIDDEN', 'you gave this item its initial review: someone else must give the final approval');
    });

    it('when the township reviewer acts again, then CONFLICT (it is at the final stage)', () => {
      refused(() => initial(afterInitial), 'CONFLICT', `review ${REVIEW} is at the final stage, not initial`);
    });
  });

  it.each([
    ['approved', (i: ReviewItem) => apply(i, final(i))],
    ['returned', (i: ReviewItem) => apply(i, giveBack(i, county))],
  ] as const)('given an item %s, any further decision is a CONFLICT', (status, to) => {
    const item = to(afterInitial);
    refused(() => final(item), 'CONFLICT', `review ${REVIEW} is ${status}, not pending`);
  });

  it('review events of another item leave an item alone', () => {
    const other = { ...fresh, reviewId: reviewIdFor(deterministicId('other')) };
    expect(evolve(other, initial(fresh)[0] as RegistrationEvent)).toBe(other);
  });
});
