import { LINK_CONFIRMED, LINK_INITIAL_APPROVED, LINK_PROPOSED, LINK_REJECTED, deterministicId, newEvent } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { DomainError } from '@qmcb/platform';
import type { Reviewer } from '../items/review-item.decider';
import { decide, evolve } from './link-review.decider';
import type { LinkDecision, LinkEvent, LinkReview } from './link-review.decider';

const PERSON = '440981198503151234';
const RECORD = `X-${'ab'.repeat(16)}`;
const VILLAGE = '440981002001';
const LINK = deterministicId('link', RECORD, PERSON);
const AT = '2026-11-30T08:00:00.000Z';
const NOW = '2026-12-01T08:00:00.000Z';
const CRITERIA = [
  { criterion: 'CITIZEN_ID_CHECK_CHARACTER' as const, points: 60, detail: 'check character differs' },
  { criterion: 'NAME' as const, points: 20, detail: 'same name' },
];
const proposed = newEvent(
  LINK_PROPOSED,
  deterministicId('comparison', 'link', LINK),
  PERSON,
  { linkId: LINK, recordKey: RECORD, citizenIdAsSent: '440981198503151235', sources: [{ department: 'social-insurance', sourceRecordId: 'SI-1' }], scoring: 'id-link', scoringVersion: 1, score: 80, threshold: 80, criteria: CRITERIA },
  { source: 'svc:comparison', actor: 'svc:comparison', occurredAt: AT, correlationId: 'c0' },
);
const fresh = evolve(null, proposed, VILLAGE) as LinkReview;

const township: Reviewer = { id: 'township-1', role: 'grassroots-reviewer', division: '440981002', actor: 'user:township-1' };
const county: Reviewer = { id: 'county-1', role: 'county-approver', division: '440981', actor: 'user:county-1' };
const base = { recordVersion: 7, correlationId: 'c1', now: NOW };

type Asked = LinkDecision extends infer D ? (D extends LinkDecision ? Omit<D, 'recordVersion' | 'correlationId' | 'now'> : never) : never;
const run = (c: Asked, review: LinkReview): LinkEvent[] => decide({ ...base, ...c } as LinkDecision, review);
const initial = (review: LinkReview, reviewer = township, expectedVersion = review.version): LinkEvent[] => run({ kind: 'initial-approval', reviewer, expectedVersion, comment: '本人持证核实' }, review);
const final = (review: LinkReview, reviewer = county, expectedVersion = review.version): LinkEvent[] => run({ kind: 'final-approval', reviewer, expectedVersion, comment: '同意' }, review);
const reject = (review: LinkReview, reviewer: Reviewer): LinkEvent[] => run({ kind: 'reject', reviewer, expectedVersion: review.version, reason: '不是同一人' }, review);
const apply = (review: LinkReview, events: RegistrationEvent[]): LinkReview => (events as LinkEvent[]).reduce<LinkReview>((r, e) => evolve(r, e, null) as LinkReview, review);
const afterInitial = apply(fresh, initial(fresh));

function refused(decision: () => unknown, code: string, message: string): void {
  let thrown: unknown;
  try {
    decision();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(DomainError);
  expect(thrown).toMatchObject({ code, message });
}

describe('link review decider', () => {
  it('a proposal opens a review at the initial stage in the village of the person, with the scoring', () => {
    expect(fresh).toEqual({
      linkId: LINK, personKey: PERSON, recordKey: RECORD, citizenIdAsSent: '440981198503151235', sources: [{ department: 'social-insurance', sourceRecordId: 'SI-1' }],
      score: 80, threshold: 80, criteria: CRITERIA, villageCode: VILLAGE, townshipCode: '440981002', countyCode: '440981', stage: 'initial', status: 'pending',
      proposedAt: AT, initialReviewer: null, initialComment: null, decidedBy: null, decisionNote: null, decidedAt: null, updatedAt: AT, version: 1,
    });
    // Proposed again (a later batch), or for a person with no village here: nothing new.
    expect(evolve(fresh, proposed, VILLAGE)).toBe(fresh);
    expect(evolve(null, proposed, null)).toBeNull();
  });

  it('the township passes it on, then a county approver confirms it: review.link-initial-approved, then review.link-confirmed, keyed by the person', () => {
    const [first] = initial(fresh);
    expect(first).toMatchObject({
      type: LINK_INITIAL_APPROVED, personKey: PERSON, actor: 'user:township-1', source: 'svc:review', basedOnVersion: 7, occurredAt: NOW,
      payload: { linkId: LINK, recordKey: RECORD, reviewerId: 'township-1', townshipCode: '440981002', comment: '本人持证核实' },
    });
    expect(afterInitial).toMatchObject({ stage: 'final', status: 'pending', initialReviewer: 'township-1', initialComment: '本人持证核实', version: 2 });
    const [confirmed] = final(afterInitial);
    expect(confirmed).toMatchObject({ type: LINK_CONFIRMED, personKey: PERSON, actor: 'user:county-1', payload: { linkId: LINK, recordKey: RECORD, reviewerId: 'county-1', comment: '同意' } });
    expect(apply(afterInitial, [confirmed as LinkEvent])).toMatchObject({ stage: 'done', status: 'confirmed', decidedBy: 'county-1', decisionNote: '同意', decidedAt: NOW, version: 3 });
    // The same decision taken twice is the same event (a retried request).
    expect(final(afterInitial)[0]?.eventId).toBe(confirmed?.eventId);
  });

  it('four eyes: the one who gave the initial review cannot give the final approval, nor reject at the final stage', () => {
    const sameAsTownship: Reviewer = { ...county, id: 'township-1', actor: 'user:township-1' };
    refused(() => final(afterInitial, sameAsTownship), 'FORBIDDEN', 'you gave this item its initial review: someone else must give the final approval');
    refused(() => reject(afterInitial, sameAsTownship), 'FORBIDDEN', 'you gave this item its initial review: someone else must give the final approval');
  });

  it('each stage is its role at its level: no final approval before the initial review, no initial review by the county, none outside the division', () => {
    refused(() => final(fresh), 'CONFLICT', `link ${LINK} is at the initial stage, not final`);
    refused(() => initial(fresh, { ...township, role: 'county-approver' }), 'FORBIDDEN', 'initial review is done by a grassroots reviewer');
    refused(() => final(afterInitial, { ...county, role: 'grassroots-reviewer' }), 'FORBIDDEN', 'final approval is done by a county approver');
    refused(() => initial(fresh, { ...township, division: '440981003' }), 'FORBIDDEN', 'initial review is done at the township of the person');
    refused(() => initial(fresh, { ...township, division: '440981' }), 'FORBIDDEN', 'initial review is done at the township of the person');
    refused(() => final(afterInitial, { ...county, division: '440982' }), 'FORBIDDEN', 'final approval is done at the county of the person');
    refused(() => initial(fresh, { ...township, role: 'window-clerk' }), 'FORBIDDEN', 'role window-clerk does not review');
  });

  it('a decision names the version it saw: another one, or a link already decided, is a conflict', () => {
    refused(() => initial(fresh, township, 2), 'CONFLICT', `link ${LINK} is at version 1, not 2: reload it and decide again`);
    const confirmed = apply(afterInitial, final(afterInitial));
    refused(() => final(confirmed, { ...county, id: 'county-2' }), 'CONFLICT', `link ${LINK} is confirmed, not pending`);
  });

  it('either stage rejects: review.link-rejected with the reason, and the review is done', () => {
    const [atTownship] = reject(fresh, township);
    expect(atTownship).toMatchObject({ type: LINK_REJECTED, personKey: PERSON, payload: { linkId: LINK, recordKey: RECORD, reviewerId: 'township-1', reason: '不是同一人' } });
    expect(apply(fresh, [atTownship as LinkEvent])).toMatchObject({ stage: 'done', status: 'rejected', decidedBy: 'township-1', decisionNote: '不是同一人', version: 2 });
    const [atCounty] = reject(afterInitial, county);
    expect(apply(afterInitial, [atCounty as LinkEvent])).toMatchObject({ stage: 'done', status: 'rejected', decidedBy: 'county-1', initialReviewer: 'township-1', version: 3 });
  });

  it('a decision that reached the log another way (or twice) applies to a pending review only', () => {
    const other = newEvent(LINK_CONFIRMED, 'elsewhere', PERSON, { linkId: LINK, recordKey: RECORD, reviewerId: 'survey-1', comment: '' }, { source: 'svc:survey-tasking', actor: 'user:survey-1', occurredAt: NOW, correlationId: 'c2' });
    const confirmed = evolve(fresh, other, null) as LinkReview;
    expect(confirmed).toMatchObject({ stage: 'done', status: 'confirmed', decidedBy: 'survey-1', version: 2 });
    const rejectedLater = newEvent(LINK_REJECTED, 'later', PERSON, { linkId: LINK, recordKey: RECORD, reviewerId: 'x', reason: 'late' }, { source: 'svc:review', actor: 'user:x', occurredAt: NOW, correlationId: 'c3' });
    expect(evolve(confirmed, rejectedLater, null)).toBe(confirmed);
    expect(evolve(confirmed, initial(fresh)[0] as LinkEvent, null)).toBe(confirmed);
  });
});
