import { REVIEW_FINAL_APPROVED, REVIEW_INITIAL_APPROVED, REVIEW_RETURNED, SURVEY_FORM_SUBMITTED, deterministicId, newEvent } from '@qmcb/contracts';
import type { CollectedForm, RegistrationEvent } from '@qmcb/contracts';
import { DomainError } from '@qmcb/platform';
import { decide, evolve, reviewIdFor, reviewIdOf } from './review-item.decider';
import type { ReviewItem, Reviewer } from './review-item.decider';

const PERSON = '440981198503151234';
const VILLAGE = '440981002001';
const NOW = '2026-12-01T08:00:00.000Z';
const AT = '2026-11-30T08:00:00.000Z';
const SUBMISSION = deterministicId('submission', '1');
const REVIEW = reviewIdFor(SUBMISSION);
const FORM: CollectedForm = {
  name: '李明', phone: '13800138000', employmentStatus: 'farmer', residenceAddress: '南宫居委会 12 号', residenceDivision: VILLAGE,
  insurance: [{ insuranceType: 'pension', scheme: 'resident', status: 'active', region: '440981' }], insuredElsewhere: false,
};

const submitted = newEvent(SURVEY_FORM_SUBMITTED, 'sub-1', PERSON, { taskId: deterministicId('task'), submissionId: SUBMISSION, surveyorId: 'surveyor-1', form: FORM }, {
  source: 'svc:survey-tasking', actor: 'user:surveyor-1', occurredAt: AT, correlationId: 'c0', basedOnVersion: 4,
});
const fresh = evolve(null, submitted, VILLAGE) as ReviewItem;

const township: Reviewer = { id: 'township-1', role: 'grassroots-reviewer', actor: 'user:township-1' };
const county: Reviewer = { id: 'county-1', role: 'county-approver', actor: 'user:county-1' };
const base = { recordVersion: 5, correlationId: 'c1', now: NOW };

const initial = (item: ReviewItem, reviewer = township, expectedVersion = item.version): RegistrationEvent[] =>
  decide({ kind: 'initial-approval', reviewer, expectedVersion, comment: '核实无误', ...base }, item);
const final = (item: ReviewItem, reviewer = county, expectedVersion = item.version): RegistrationEvent[] =>
  decide({ kind: 'final-approval', reviewer, expectedVersion, ...base }, item);
const giveBack = (item: ReviewItem, reviewer: Reviewer): RegistrationEvent[] =>
  decide({ kind: 'return', reviewer, expectedVersion: item.version, reason: '电话号码不对', ...base }, item);

const apply = (item: ReviewItem, events: RegistrationEvent[]): ReviewItem => events.reduce<ReviewItem>((i, e) => evolve(i, e) as ReviewItem, item);
const afterInitial = apply(fresh, initial(fresh));

function refused(run: () => unknown, code: string, message: string): void {
  let thrown: unknown;
  try {
    run();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(DomainError);
  expect(thrown).toMatchObject({ code, message });
}

describe('review item decider', () => {
  it('a submission opens an item at the initial stage in the village it is reviewed in', () => {
    expect(fresh).toEqual({
      reviewId: REVIEW, submissionId: SUBMISSION, taskId: deterministicId('task'), personKey: PERSON, villageCode: VILLAGE, townshipCode: '440981002', countyCode: '440981',
      stage: 'initial', status: 'pending', form: FORM, surveyorId: 'surveyor-1', submittedAt: AT, basedOnVersion: 4, initialReviewer: null, initialComment: null,
      finalReviewer: null, returnReason: null, updatedAt: AT, version: 1,
    });
    expect(reviewIdOf(submitted)).toBe(REVIEW);
    expect(evolve(fresh, submitted, VILLAGE)).toBe(fresh);
    expect(() => evolve(null, submitted, null)).toThrow('has no village to review it in');
  });

  describe('given a pending item at the initial stage', () => {
    it('when the township reviewer approves, then review.initial-approved, and the item waits for the county', () => {
      const events = initial(fresh);
      expect(events).toEqual([
        {
          eventId: deterministicId('review', 'initial-approved', REVIEW, '1'), type: REVIEW_INITIAL_APPROVED, schemaVersion: 1, personKey: PERSON, occurredAt: NOW, recordedAt: NOW,
          source: 'svc:review', actor: 'user:township-1', correlationId: 'c1', causationId: null, basedOnVersion: 5,
          payload: { reviewId: REVIEW, submissionId: SUBMISSION, reviewerId: 'township-1', townshipCode: '440981002', comment: '核实无误' },
        },
      ]);
      expect(afterInitial).toMatchObject({ stage: 'final', status: 'pending', initialReviewer: 'township-1', initialComment: '核实无误', version: 2, updatedAt: NOW });
    });

    it('when the township reviewer returns it, then review.returned at the initial stage', () => {
      const events = giveBack(fresh, township);
      expect(events).toMatchObject([{ type: REVIEW_RETURNED, payload: { stage: 'initial', reason: '电话号码不对', reviewerId: 'township-1' } }]);
      expect(apply(fresh, events)).toMatchObject({ stage: 'initial', status: 'returned', returnReason: '电话号码不对', version: 2 });
    });

    it('when a county approver tries to approve it finally, then CONFLICT (wrong stage)', () => {
      refused(() => final(fresh), 'CONFLICT', `review ${REVIEW} is at the initial stage, not final`);
    });

    it('when a county approver tries the initial review, then FORBIDDEN', () => {
      refused(() => initial(fresh, county), 'FORBIDDEN', 'initial review is done by a grassroots reviewer');
    });

    it('when the reviewer saw an older version, then CONFLICT', () => {
      refused(() => initial(fresh, township, 0), 'CONFLICT', `review ${REVIEW} is at version 1, not 0: reload it and decide again`);
    });

    it('when the surveyor who submitted it reviews it, then FORBIDDEN (four eyes)', () => {
      refused(() => initial(fresh, { id: 'surveyor-1', role: 'grassroots-reviewer', actor: 'user:surveyor-1' }), 'FORBIDDEN', 'you submitted this item: someone else must review it');
    });

    it('when someone of another role decides, then FORBIDDEN', () => {
      refused(() => initial(fresh, { id: 'w', role: 'window-clerk', actor: 'user:w' }), 'FORBIDDEN', 'role window-clerk does not review');
      refused(() => giveBack(fresh, { id: 'a', role: 'admin', actor: 'user:a' }), 'FORBIDDEN', 'role admin does not review');
    });
  });

  describe('given an item passed by the township', () => {
    it('when the county approves, then review.final-approved carrying the form, and the item is done', () => {
      const events = final(afterInitial);
      expect(events).toMatchObject([
        { eventId: deterministicId('review', 'final-approved', REVIEW, '2'), type: REVIEW_FINAL_APPROVED, actor: 'user:county-1', payload: { reviewId: REVIEW, submissionId: SUBMISSION, reviewerId: 'county-1', countyCode: '440981', form: FORM } },
      ]);
      expect(apply(afterInitial, events)).toMatchObject({ stage: 'done', status: 'approved', finalReviewer: 'county-1', version: 3 });
    });

    it('when the county returns it, then review.returned at the final stage', () => {
      expect(giveBack(afterInitial, county)).toMatchObject([{ type: REVIEW_RETURNED, payload: { stage: 'final' } }]);
    });

    it('when the initial reviewer (now holding a county role) approves it finally, then FORBIDDEN (four eyes)', () => {
      refused(() => final(afterInitial, { id: 'township-1', role: 'county-approver', actor: 'user:township-1' }), 'FORBIDDEN', 'you gave this item its initial review: someone else must give the final approval');
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
