import {
  CARD_ISSUED,
  CARD_LOST,
  CARD_REPLACED,
  COMPARISON_RECOMPARE_DUE,
  DEATH_REGISTERED,
  EMPLOYER_CLOSED,
  EMPLOYER_OPENED,
  HOUSEHOLD_MOVED_IN,
  HOUSEHOLD_MOVED_OUT,
  INSURANCE_BENEFIT_APPROVED,
  INSURANCE_CONTRIBUTION_PAID,
  INSURANCE_ENDED,
  INSURANCE_ENROLLED,
  INSURANCE_PAYMENT_STARTED,
  INSURANCE_PAYMENT_STOPPED,
  INSURANCE_SUSPENDED,
  REGISTRY_ABSENT_FROM_ROSTER,
  REGISTRY_CHANGE_APPROVED,
  REGISTRY_CHANGE_PROPOSED,
  REGISTRY_CHANGE_REJECTED,
  REVIEW_FINAL_APPROVED,
  SOURCE_RECORD_RECEIVED,
  currentVersion,
  deterministicId,
  parseEvent,
} from '@qmcb/contracts';
import type { Department, EventOf, EventPayloads, EventType, InsuranceFacts, RegistrationEvent, SourceFacts } from '@qmcb/contracts';
import { evolve, foldEvents } from './evolve';
import type { RegistrationRecord } from './registration-record';

const ID = '440981199001010017';
const VILLAGE = '440981002201';
const OTHER_VILLAGE = '440902001001';

let clock = 0;
/** An event as the log delivers it (validated and upcast); business time `at` unless given. */
function event<K extends EventType>(type: K, payload: EventPayloads[K], at?: string): EventOf<K> {
  clock += 1;
  const occurredAt = at ?? new Date(Date.parse('2026-03-01T00:00:00Z') + clock * 60_000).toISOString();
  return parseEvent({
    eventId: deterministicId('business-spec', String(clock)),
    type,
    schemaVersion: currentVersion(type),
    personKey: ID,
    occurredAt,
    recordedAt: occurredAt,
    source: 'dept:test',
    actor: 'key:test',
    correlationId: 'test',
    causationId: null,
    basedOnVersion: null,
    payload,
  }) as EventOf<K>;
}

function record(department: Department, facts: SourceFacts, asOf: string): EventOf<typeof SOURCE_RECORD_RECEIVED> {
  return event(SOURCE_RECORD_RECEIVED, { department, sourceRecordId: `${facts.kind}-${asOf}-${clock}`, mode: 'snapshot', citizenIdAsSent: ID, citizenIdValid: true, asOf, facts }, asOf);
}

const household = (asOf = '2026-01-01T00:00:00Z') =>
  record('public-security', { kind: 'household', name: '张三', sex: 'male', birthDate: '1990-01-01', villageCode: VILLAGE, status: 'normal', phone: '13900000000', address: '茂岭村 12 号' }, asOf);
const insurance = (department: Department, facts: Partial<InsuranceFacts>, asOf: string) =>
  record(department, { kind: 'insurance', insuranceType: 'pension', scheme: 'resident', status: 'active', region: '440981', ...facts }, asOf);

const entry = { department: 'social-insurance' as const, insuranceType: 'pension' as const, scheme: 'resident' as const, region: '440981' };
const enrolled = (at: string, extra: Partial<EventPayloads[typeof INSURANCE_ENROLLED]> = {}) =>
  event(INSURANCE_ENROLLED, { ...entry, businessId: `E-${at}`, since: at.slice(0, 10), ...extra }, at);
const suspended = (at: string) => event(INSURANCE_SUSPENDED, { ...entry, businessId: `S-${at}`, effectiveDate: at.slice(0, 10), reason: 'contributions-interrupted' }, at);
const ended = (at: string) => event(INSURANCE_ENDED, { ...entry, businessId: `X-${at}`, effectiveDate: at.slice(0, 10), reason: 'deceased' }, at);

function given(...events: RegistrationEvent[]): RegistrationRecord {
  const r = foldEvents(events);
  if (!r) throw new Error('given needs events');
  return r;
}

describe('evolve: business events (procedure §20-§24)', () => {
  describe('insurance business system', () => {
    it('given nothing, when a person is enrolled, then the entry is active since the enrolment, held by the business system', () => {
      const e = enrolled('2026-03-01T00:00:00Z', { employer: '高州市某公司' });
      const r = given(household(), e);
      expect(r.insurance['pension:resident:440981']).toEqual({
        insuranceType: 'pension',
        scheme: 'resident',
        status: 'active',
        region: '440981',
        employer: '高州市某公司',
        since: '2026-03-01',
        receivingBenefit: null,
        benefitStatus: null,
        name: null,
        sex: null,
        birthDate: null,
        phone: null,
        address: null,
        source: 'department',
        department: 'social-insurance',
        asOf: '2026-03-01T00:00:00Z',
        eventId: e.eventId,
      });
    });

    it('given an enrolment, when it is suspended, then ended, then the status follows; an older suspension arriving late changes nothing', () => {
      const r = given(household(), enrolled('2026-03-01T00:00:00Z'), suspended('2026-05-01T00:00:00Z'));
      expect(r.insurance['pension:resident:440981']).toMatchObject({ status: 'suspended', since: '2026-03-01', asOf: '2026-05-01T00:00:00Z' });
      const done = evolve(r, ended('2026-07-01T00:00:00Z'));
      expect(done.insurance['pension:resident:440981']).toMatchObject({ status: 'ended', since: '2026-03-01' });
      const late = evolve(done, suspended('2026-06-01T00:00:00Z'));
      expect(late.insurance).toEqual(done.insurance);
    });

    it('given an entry the business system holds, when an older "ended" echo of the higher registry arrives, then the entry stays active', () => {
      const r = given(household(), enrolled('2026-03-01T00:00:00Z'), insurance('higher-registry', { status: 'ended' }, '2026-10-01T00:00:00Z'));
      expect(r.insurance['pension:resident:440981']).toMatchObject({ status: 'active', department: 'social-insurance' });
    });

    it('given an entry only the higher registry relayed, when the business system reports it, then the business system holds it whatever the times', () => {
      const r = given(household(), insurance('higher-registry', { status: 'active', name: '张三' }, '2026-10-01T00:00:00Z'), suspended('2026-03-01T00:00:00Z'));
      expect(r.insurance['pension:resident:440981']).toMatchObject({ status: 'suspended', department: 'social-insurance', name: null, asOf: '2026-03-01T00:00:00Z' });
    });

    it('given a relay and an approved form of the same entry, then the newer of the two wins', () => {
      const relayed = insurance('higher-registry', { status: 'ended', region: '440902' }, '2026-01-01T00:00:00Z');
      const approved = event(REVIEW_FINAL_APPROVED, {
        reviewId: deterministicId('r'),
        submissionId: deterministicId('s'),
        channel: 'survey',
        reviewerId: 'approver',
        countyCode: '440981',
        request: {
          kind: 'correction',
          fields: { insurance: [{ insuranceType: 'pension', scheme: 'resident', status: 'active', region: '440902' }], insuredElsewhere: true },
          evidence: [],
          unknown: [],
        },
      }, '2026-02-01T00:00:00Z');
      expect(given(household(), relayed, approved).insurance['pension:resident:440902']).toMatchObject({ status: 'active', source: 'survey' });
      const newerRelay = insurance('higher-registry', { status: 'ended', region: '440902' }, '2026-03-01T00:00:00Z');
      expect(given(household(), relayed, approved, newerRelay).insurance['pension:resident:440902']).toMatchObject({ status: 'ended', department: 'higher-registry' });
    });

    it('given an entry in another county, when the person is enrolled here by transfer, then the old entry ends with it (no duplicate)', () => {
      const r = given(household(), insurance('higher-registry', { region: '440902' }, '2026-01-01T00:00:00Z'), enrolled('2026-03-01T00:00:00Z', { transferredFrom: '440902' }));
      expect(r.insurance['pension:resident:440902']).toMatchObject({ status: 'ended', department: 'social-insurance' });
      expect(r.insurance['pension:resident:440981']).toMatchObject({ status: 'active' });
    });

    it('given contributions, then the latest month is kept; an earlier month arriving late does not move it back', () => {
      const paid = (month: string) => event(INSURANCE_CONTRIBUTION_PAID, { ...entry, businessId: `C-${month}`, month, paidBy: 'government', amount: 200 });
      const r = given(household(), enrolled('2026-03-01T00:00:00Z'), paid('2026-04'), paid('2026-05'), paid('2026-03'));
      expect(r.contributions['pension:resident:440981']).toMatchObject({ lastMonth: '2026-05', paidBy: 'government', amount: 200 });
    });

    it('given no entry, when a contribution arrives, then the entry exists as active', () => {
      const r = given(household(), event(INSURANCE_CONTRIBUTION_PAID, { ...entry, insuranceType: 'medical', businessId: 'C-1', month: '2026-04', paidBy: 'self' }));
      expect(r.insurance['medical:resident:440981']).toMatchObject({ status: 'active', since: null });
    });

    it('given a pension, when the benefit is approved, paid and stopped, then the benefit and the entry say so', () => {
      const pension = { ...entry, benefit: 'basic-pension' as const };
      const r = given(
        household(),
        enrolled('2026-01-01T00:00:00Z'),
        event(INSURANCE_BENEFIT_APPROVED, { ...pension, businessId: 'B-1', effectiveDate: '2026-04-01' }),
        event(INSURANCE_PAYMENT_STARTED, { ...pension, businessId: 'B-2', effectiveDate: '2026-05-01' }),
      );
      expect(r.benefits['pension:resident:440981']).toMatchObject({ benefit: 'basic-pension', status: 'paying', approvedOn: '2026-04-01', paymentStartedOn: '2026-05-01' });
      expect(r.insurance['pension:resident:440981']).toMatchObject({ receivingBenefit: true, benefitStatus: 'receiving' });
      const stopped = evolve(r, event(INSURANCE_PAYMENT_STOPPED, { ...pension, businessId: 'B-3', effectiveDate: '2026-09-01', reason: 'deceased' }));
      expect(stopped.benefits['pension:resident:440981']).toMatchObject({ status: 'stopped', approvedOn: '2026-04-01', paymentStartedOn: '2026-05-01', paymentStoppedOn: '2026-09-01', stopReason: 'deceased' });
      expect(stopped.insurance['pension:resident:440981']).toMatchObject({ receivingBenefit: false, benefitStatus: 'stopped' });
    });
  });

  describe('card system', () => {
    const card = { department: 'social-security-card' as const };
    it('given nothing, when a card is issued, lost and replaced, then the card follows', () => {
      const issued = event(CARD_ISSUED, { ...card, businessId: 'K-1', cardNumber: 'A12345678', issuedOn: '2026-03-10', issuingRegion: '440981' });
      const r1 = given(household(), issued);
      expect(r1.card).toEqual({ status: 'active', cardNumber: 'A12345678', issuedOn: '2026-03-10', issuingRegion: '440981', lostOn: null, asOf: issued.occurredAt, eventId: issued.eventId });
      const r2 = evolve(r1, event(CARD_LOST, { ...card, businessId: 'K-2', cardNumber: 'A12345678', reportedOn: '2026-06-01' }));
      expect(r2.card).toMatchObject({ status: 'lost', cardNumber: 'A12345678', issuedOn: '2026-03-10', lostOn: '2026-06-01' });
      const r3 = evolve(r2, event(CARD_REPLACED, { ...card, businessId: 'K-3', previousCardNumber: 'A12345678', cardNumber: 'B87654321', issuedOn: '2026-06-15', reason: 'lost' }));
      expect(r3.card).toMatchObject({ status: 'active', cardNumber: 'B87654321', issuedOn: '2026-06-15', issuingRegion: '440981', lostOn: null });
    });
  });

  describe('departments', () => {
    it('given a household, when civil affairs registers the death, then the record holds it', () => {
      const e = event(DEATH_REGISTERED, { department: 'civil-affairs', businessId: 'D-1', deathDate: '2026-04-02' });
      expect(given(household(), e).death).toEqual({ deathDate: '2026-04-02', name: null, department: 'civil-affairs', asOf: e.occurredAt, eventId: e.eventId });
    });

    it('given a household here, when it moves out, then the person stays, filed where they were, marked moved out with the destination', () => {
      const e = event(HOUSEHOLD_MOVED_OUT, { department: 'public-security', businessId: 'M-1', movedOn: '2026-05-01', toDivision: '440902' });
      const r = given(household(), e);
      expect(r).toMatchObject({ hukouStatus: 'moved-out', hukouDivision: VILLAGE, name: '张三', household: { status: 'moved-out', villageCode: VILLAGE, phone: '13900000000' } });
      expect(r.migration).toEqual({ movedOutOn: '2026-05-01', movedOutTo: '440902', movedOutFrom: VILLAGE, movedInOn: null, movedInFrom: null, asOf: e.occurredAt, eventId: e.eventId });
    });

    it('given a household that moved out, when it moves in to another village, then the registration is there, normal, with the identity public security gives', () => {
      const r = given(
        household(),
        event(HOUSEHOLD_MOVED_OUT, { department: 'public-security', businessId: 'M-1', movedOn: '2026-05-01' }),
        event(HOUSEHOLD_MOVED_IN, { department: 'public-security', businessId: 'M-2', movedOn: '2026-05-03', villageCode: OTHER_VILLAGE, name: '张三', address: '新村 1 号' }),
      );
      expect(r).toMatchObject({ hukouStatus: 'normal', hukouDivision: OTHER_VILLAGE, hukouAddress: '新村 1 号', sex: 'male', birthDate: '1990-01-01', phone: '13900000000' });
      expect(r.migration).toMatchObject({ movedOutOn: '2026-05-01', movedOutFrom: VILLAGE, movedInOn: '2026-05-03', movedInFrom: VILLAGE });
    });

    it('given an employer, when it closes, then the record says so with its name kept', () => {
      const opened = event(EMPLOYER_OPENED, { department: 'market-regulation', businessId: 'O-1', employerCreditCode: '91440981MA4UJ1234X', employerName: '某公司', effectiveDate: '2026-01-05' });
      const closed = event(EMPLOYER_CLOSED, { department: 'tax', businessId: 'O-2', employerCreditCode: '91440981MA4UJ1234X', effectiveDate: '2026-08-31' });
      expect(given(household(), opened, closed).employer).toEqual({
        creditCode: '91440981MA4UJ1234X',
        name: '某公司',
        status: 'closed',
        effectiveDate: '2026-08-31',
        department: 'tax',
        asOf: closed.occurredAt,
        eventId: closed.eventId,
      });
    });
  });

  describe('review of routed changes', () => {
    const proposalId = deterministicId('proposal', '1');
    const moveOut = { department: 'public-security' as const, businessId: 'M-9', movedOn: '2026-05-01', toDivision: '440902' };
    const proposed = () =>
      event(REGISTRY_CHANGE_PROPOSED, {
        proposalId,
        reason: 'region policy 440981: household.moved-out is reviewed',
        change: { type: HOUSEHOLD_MOVED_OUT, occurredAt: '2026-05-01T08:00:00.000Z', source: 'dept:public-security', actor: 'key:ps-1', eventId: deterministicId('m9'), payload: moveOut },
      });

    it('given a proposed change, then it waits and changes nothing else', () => {
      const p = proposed();
      const r = given(household(), p);
      expect(r.hukouStatus).toBe('normal');
      expect(r.pendingChanges).toEqual({
        [proposalId]: {
          proposalId,
          type: HOUSEHOLD_MOVED_OUT,
          occurredAt: '2026-05-01T08:00:00.000Z',
          source: 'dept:public-security',
          actor: 'key:ps-1',
          changeEventId: deterministicId('m9'),
          payload: moveOut,
          reason: 'region policy 440981: household.moved-out is reviewed',
          proposedAt: p.occurredAt,
          eventId: p.eventId,
        },
      });
    });

    it('given a proposed change, when the county approves it, then it applies at its own business time, marked by the approval', () => {
      const approval = event(REGISTRY_CHANGE_APPROVED, { proposalId, reviewerId: 'approver-1', countyCode: '440981', comment: '' });
      const r = given(household(), proposed(), approval);
      expect(r.pendingChanges).toEqual({});
      expect(r).toMatchObject({ hukouStatus: 'moved-out', household: { asOf: '2026-05-01T08:00:00.000Z', eventId: approval.eventId }, migration: { movedOutTo: '440902' } });
      // Approving again (a second county approver) changes nothing.
      expect(evolve(r, event(REGISTRY_CHANGE_APPROVED, { proposalId, reviewerId: 'approver-2', countyCode: '440981', comment: '' }))).toMatchObject({ hukouStatus: 'moved-out', household: { eventId: approval.eventId } });
    });

    it('given a proposed change, when the county rejects it, then the registry stays as it was', () => {
      const r = given(household(), proposed(), event(REGISTRY_CHANGE_REJECTED, { proposalId, reviewerId: 'approver-1', countyCode: '440981', reason: '未迁出' }));
      expect(r).toMatchObject({ hukouStatus: 'normal', pendingChanges: {}, migration: null });
    });
  });

  describe('roster absences', () => {
    const absent = (rosterAsOf: string) =>
      event(REGISTRY_ABSENT_FROM_ROSTER, { snapshotId: deterministicId('snap'), department: 'public-security', kind: 'household', slot: 'household', scope: '440981', rosterAsOf });

    it('given a household, when a roster leaves it out, then it is flagged and its facts stay', () => {
      const before = given(household());
      const e = absent('2026-12-01T00:00:00Z');
      const r = evolve(before, e);
      expect(r.household).toEqual(before.household);
      expect(r.rosterAbsences).toEqual({
        'public-security:household': { snapshotId: deterministicId('snap'), department: 'public-security', kind: 'household', slot: 'household', scope: '440981', rosterAsOf: '2026-12-01T00:00:00Z', eventId: e.eventId },
      });
    });

    it('given a flagged absence, when an older record of the slot arrives, then the flag stays; a newer one lifts it', () => {
      const r = given(household('2026-01-01T00:00:00Z'), absent('2026-12-01T00:00:00Z'), household('2026-06-01T00:00:00Z'));
      expect(Object.keys(r.rosterAbsences)).toEqual(['public-security:household']);
      expect(evolve(r, household('2026-12-02T00:00:00Z')).rosterAbsences).toEqual({});
    });

    it('given a flagged absence, when the department reports the person moved out after the roster, then the flag is lifted', () => {
      const r = given(household(), absent('2026-12-01T00:00:00Z'), event(HOUSEHOLD_MOVED_OUT, { department: 'public-security', businessId: 'M-1', movedOn: '2026-12-02' }, '2026-12-02T00:00:00Z'));
      expect(r.rosterAbsences).toEqual({});
    });
  });

  it('given a record, when a recompare day comes, then only the version moves', () => {
    const before = given(household());
    const e = event(COMPARISON_RECOMPARE_DUE, { dueDate: '2026-03-15', because: ['age 60 (pensionAgeCheck)'] });
    const r = evolve(before, e);
    const { version, lastEventId, updatedAt, ...rest } = r;
    const { version: v0, lastEventId: _l, updatedAt: _u, ...restBefore } = before;
    expect(rest).toEqual(restBefore);
    expect([version, lastEventId, updatedAt]).toEqual([v0 + 1, e.eventId, e.occurredAt]);
  });
});
