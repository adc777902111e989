import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import type { ClassConstructor } from 'class-transformer';
import { validateSync } from 'class-validator';
import * as fc from 'fast-check';
import { OutcomeDeterminedV1, OutcomeDeterminedV2, upcastOutcomeDeterminedV1 } from './events/outcome-determined.event';
import {
  ReviewChangeSubmittedV1,
  ReviewClosedV1,
  ReviewFinalApprovedV1,
  ReviewFinalApprovedV2,
  ReviewInitialApprovedV1,
  ReviewRebasedV1,
  ReviewRejectedV1,
  ReviewReturnedV1,
  ReviewReturnedV2,
  upcastReviewFinalApprovedV1,
  upcastReviewReturnedV1,
} from './events/review.events';
import { SourceRecordReceivedV1 } from './events/source-record-received.event';
import {
  SurveyFormSubmittedV1,
  SurveyFormSubmittedV2,
  SurveyTaskClosedV1,
  SurveyTaskCreatedV1,
  SurveyTaskReopenedV1,
  SurveyVisitRecordedV1,
  upcastSurveyFormSubmittedV1,
} from './events/survey.events';
import { CardIssuedV1 } from './events/card.events';
import { HouseholdMovedInV1 } from './events/department-notice.events';
import { InsuranceContributionPaidV1, InsuranceEnrolledV1 } from './events/insurance-business.events';
import { ComparisonRecompareDueV1 } from './events/recompare-due.event';
import { RegistryAbsentFromRosterV1, RegistryChangeProposedV1 } from './events/registry-change.events';
import { CALENDAR_DATE_RULE, CALENDAR_DATE_TIME_RULE, CALENDAR_MONTH_RULE } from './calendar-date';
import { surelyValid } from './fast-validate';
import { deterministicId } from './ids';
import { ContractViolationError, EnvelopeShape, decodeEvent, encodeEvent, flattenValidationErrors, parseEvent } from './registry';
import { FACT_KINDS } from './vocabulary';
import type { RegistrationEvent } from './registry';

type Json = Record<string, unknown>;

/** The full path, as registry.ts ran it before the fast path existed. */
function fullyValid(cls: ClassConstructor<object>, plain: unknown): boolean {
  try {
    return validateSync(plainToInstance(cls, plain), { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true }).length === 0;
  } catch {
    // e.g. no payload at all: parseEvent never gets that far (the envelope requires an object).
    return false;
  }
}

const PAYLOADS: Record<string, Record<number, ClassConstructor<object>>> = {
  'source.record-received': { 1: SourceRecordReceivedV1 },
  'comparison.outcome-determined': { 1: OutcomeDeterminedV1, 2: OutcomeDeterminedV2 },
  'survey.task-created': { 1: SurveyTaskCreatedV1 },
  'survey.task-closed': { 1: SurveyTaskClosedV1 },
  'survey.task-reopened': { 1: SurveyTaskReopenedV1 },
  'survey.form-submitted': { 1: SurveyFormSubmittedV1, 2: SurveyFormSubmittedV2 },
  'survey.visit-recorded': { 1: SurveyVisitRecordedV1 },
  'review.change-submitted': { 1: ReviewChangeSubmittedV1 },
  'review.initial-approved': { 1: ReviewInitialApprovedV1 },
  'review.final-approved': { 1: ReviewFinalApprovedV1, 2: ReviewFinalApprovedV2 },
  'review.returned': { 1: ReviewReturnedV1, 2: ReviewReturnedV2 },
  'review.rejected': { 1: ReviewRejectedV1 },
  'review.closed': { 1: ReviewClosedV1 },
  'review.rebased': { 1: ReviewRebasedV1 },
  'insurance.enrolled': { 1: InsuranceEnrolledV1 },
  'insurance.contribution-paid': { 1: InsuranceContributionPaidV1 },
  'card.issued': { 1: CardIssuedV1 },
  'household.moved-in': { 1: HouseholdMovedInV1 },
  'registry.change-proposed': { 1: RegistryChangeProposedV1 },
  'registry.absent-from-roster': { 1: RegistryAbsentFromRosterV1 },
  'comparison.recompare-due': { 1: ComparisonRecompareDueV1 },
};

function violationsOf(cls: ClassConstructor<object>, plain: unknown, prefix: string): string[] {
  return flattenValidationErrors(validateSync(plainToInstance(cls, plain), { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true }), prefix)
    // A date, date-time or month that does not exist is refused in requests, tolerated on the log (calendar-date.ts).
    .filter((v) => v.rule !== CALENDAR_DATE_RULE && v.rule !== CALENDAR_DATE_TIME_RULE && v.rule !== CALENDAR_MONTH_RULE)
    .map((v) => `${v.field}:${v.rule}`);
}

/** parseEvent's acceptance as it was before the fast path: the same steps, class-validator only. */
function fullPathParse(raw: Json): void {
  const env = violationsOf(EnvelopeShape, raw, '');
  const byType = PAYLOADS[String(raw['type'])];
  if (env.length || !byType) throw new Error(env.filter((v) => !v.startsWith('payload.')).join(','));
  const cls = byType[Number(raw['schemaVersion'])];
  if (!cls) throw new Error('schemaVersion:knownVersion');
  const facts = (raw['payload'] as Json)['facts'] as Json | undefined;
  if (raw['type'] === 'source.record-received' && (!facts || typeof facts !== 'object' || !FACT_KINDS.includes(String(facts['kind']) as never))) {
    throw new Error('payload.facts.kind:isIn');
  }
  const p = violationsOf(cls, raw['payload'], 'payload');
  if (p.length) throw new Error(p.join(','));
  // then the copy and the upcast
  const payload: unknown = JSON.parse(JSON.stringify(raw['payload']));
  if (cls === OutcomeDeterminedV1) upcastOutcomeDeterminedV1(payload as OutcomeDeterminedV1);
  if (cls === SurveyFormSubmittedV1) upcastSurveyFormSubmittedV1(payload as SurveyFormSubmittedV1);
  if (cls === ReviewFinalApprovedV1) upcastReviewFinalApprovedV1(payload as ReviewFinalApprovedV1);
  if (cls === ReviewReturnedV1) upcastReviewReturnedV1(payload as ReviewReturnedV1);
}

/** 'ok', or what was thrown: the violations, or the class of a non-contract error. */
function outcomeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof ContractViolationError) return e.violations.map((v) => `${v.field}:${v.rule}`).join(',');
    if (e instanceof Error && e.constructor === Error) return e.message;
    return e instanceof Error ? e.name : String(e);
  }
}

const id = (n: string): string => deterministicId('fast-validate', n);
const form = {
  name: '张三',
  phone: '13800000000',
  employmentStatus: 'farmer',
  residenceAddress: '高州市石仔岭街道',
  residenceDivision: '440981001001',
  insurance: [{ insuranceType: 'pension', scheme: 'resident', status: 'active', region: '440981' }],
  notInsuredReason: 'none yet',
  insuredElsewhere: false,
};
const request = {
  kind: 'registration-form',
  fields: {
    citizenId: '44098119900101001X', name: '张三', sex: 'male', birthDate: '1990-01-01', ethnicity: '汉', hukouType: 'agricultural', phone: '13800000000',
    residenceDivision: '440981001001', residenceAddress: '某村', employmentStatus: 'employed', employer: { name: '某厂', creditCode: '91440981MA4UJ1234X' },
    insurance: [{ insuranceType: 'pension', scheme: 'employee', status: 'active', region: '440981' }], notInsuredReason: null, insuredElsewhere: false,
  },
  evidence: [{ kind: 'id-card', reference: 'ID-1' }],
  unknown: [{ field: 'deathDate', reason: '不适用' }],
  note: '入户核实',
};
const household = { householdNo: 'H-1', members: [{ citizenId: '44098119900101001X', name: '张三', relation: '户主', status: 'present', taskId: id('t') }] };
const facts: Json[] = [
  { kind: 'household', name: '张三', sex: 'male', birthDate: '1990-01-01', ethnicity: '汉', address: '某村', villageCode: '440981001001', hukouType: 'agricultural', status: 'normal', phone: '13800000000' },
  { kind: 'insurance', insuranceType: 'medical', scheme: 'resident', status: 'active', region: '440981', employer: 'x', since: '2020-01-01', receivingBenefit: false, benefitStatus: 'none', name: '张三', sex: 'female', birthDate: '1990-01-01', phone: '13800000000', address: 'y' },
  { kind: 'tax', employed: true, employer: 'x', employerCreditCode: '91440981MA4UJ1234X', lastContributionMonth: '2026-10', monthlyWage: 4200.5, name: '张三' },
  { kind: 'welfare', category: 'extreme-poverty', active: true, since: '2020-01-01', name: '张三' },
  { kind: 'death', deathDate: '2026-01-01', name: '张三' },
  { kind: 'enrolment', enrolled: true, school: 'x', level: 'higher', expectedGraduationYear: 2028, name: '张三', sex: 'male', birthDate: '2004-01-01' },
  { kind: 'custody', inCustody: true, since: '2020-01-01', releaseDate: '2030-01-01', name: '张三' },
];

function envelope(type: string, schemaVersion: number, payload: Json): Json {
  return {
    eventId: id(type + JSON.stringify(payload)),
    type,
    schemaVersion,
    personKey: '44098119900101001X',
    occurredAt: '2026-11-01T00:00:00.000Z',
    recordedAt: '2026-11-01T00:00:01.000Z',
    source: 'dept:public-security',
    actor: 'key:test',
    correlationId: id('c'),
    causationId: null,
    basedOnVersion: 3,
    payload,
  };
}

const TEMPLATES: { cls: ClassConstructor<object>; event: Json }[] = [
  ...facts.map((f) => ({
    cls: SourceRecordReceivedV1,
    event: envelope('source.record-received', 1, {
      department: 'public-security',
      sourceRecordId: 'R-1',
      mode: 'snapshot',
      citizenIdAsSent: '44098119900101001X',
      citizenIdValid: true,
      asOf: '2026-11-01T00:00:00Z',
      facts: f,
    }),
  })),
  { cls: OutcomeDeterminedV1, event: envelope('comparison.outcome-determined', 1, { outcome: 'registered', reasons: ['COMPLETE'] }) },
  {
    cls: OutcomeDeterminedV2,
    event: envelope('comparison.outcome-determined', 2, {
      outcome: 'needs-survey',
      previousOutcome: 'none',
      reasons: [
        { code: 'UNINSURED', rule: 'uninsured', ruleVersion: 1, detail: 'no active pension' },
        { code: 'MISSING_PHONE', rule: 'missing-information', ruleVersion: 1, detail: '' },
      ],
    }),
  },
  { cls: SurveyTaskCreatedV1, event: envelope('survey.task-created', 1, { taskId: id('t'), villageCode: '440981001001', reasons: ['UNINSURED'] }) },
  { cls: SurveyFormSubmittedV1, event: envelope('survey.form-submitted', 1, { taskId: id('t'), submissionId: id('s'), surveyorId: 'u1', form }) },
  { cls: ReviewInitialApprovedV1, event: envelope('review.initial-approved', 1, { reviewId: id('r'), submissionId: id('s'), reviewerId: 'u2', townshipCode: '440981001', comment: '' }) },
  { cls: ReviewFinalApprovedV1, event: envelope('review.final-approved', 1, { reviewId: id('r'), submissionId: id('s'), reviewerId: 'u3', countyCode: '440981', form }) },
  { cls: ReviewReturnedV1, event: envelope('review.returned', 1, { reviewId: id('r'), submissionId: id('s'), stage: 'initial', reviewerId: 'u2', reason: 'phone wrong' }) },
  { cls: SurveyTaskClosedV1, event: envelope('survey.task-closed', 1, { taskId: id('t'), reason: 'OUTCOME_REGISTERED' }) },
  { cls: SurveyTaskReopenedV1, event: envelope('survey.task-reopened', 1, { taskId: id('t'), reasons: ['UNINSURED'] }) },
  { cls: SurveyFormSubmittedV2, event: envelope('survey.form-submitted', 2, { taskId: id('t'), submissionId: id('s'), visitId: id('v'), surveyorId: 'u1', request, household }) },
  {
    cls: SurveyVisitRecordedV1,
    event: envelope('survey.visit-recorded', 1, {
      taskId: id('t'), visitId: id('v'), surveyorId: 'u1', outcome: 'deceased', visitedAt: '2026-11-01T09:00:00Z', reason: '邻居告知', revisitOn: '2026-11-08',
      whereRegion: '440103', whereText: '广州', deathDate: '2026-10-02', evidence: [{ kind: 'death-certificate', reference: 'DC-1', note: '复印件' }],
    }),
  },
  {
    cls: ReviewChangeSubmittedV1,
    event: envelope('review.change-submitted', 1, { reviewId: id('r'), submissionId: id('s'), channel: 'window', submitterId: 'u4', villageCode: '440981001001', skipInitial: false, request }),
  },
  { cls: ReviewFinalApprovedV2, event: envelope('review.final-approved', 2, { reviewId: id('r'), submissionId: id('s'), channel: 'survey', reviewerId: 'u3', countyCode: '440981', request }) },
  { cls: ReviewReturnedV2, event: envelope('review.returned', 2, { reviewId: id('r'), submissionId: id('s'), stage: 'final', reviewerId: 'u3', reason: 'phone wrong', fieldsToFix: ['phone'] }) },
  { cls: ReviewRejectedV1, event: envelope('review.rejected', 1, { reviewId: id('r'), submissionId: id('s'), stage: 'initial', reviewerId: 'u2', reasonCode: 'no-evidence', reason: 'x' }) },
  { cls: ReviewClosedV1, event: envelope('review.closed', 1, { reviewId: id('r'), submissionId: id('s'), reviewerId: 'u2', closeReason: 'duplicate', reason: 'x' }) },
  { cls: ReviewRebasedV1, event: envelope('review.rebased', 1, { reviewId: id('r'), submissionId: id('s'), reviewerId: 'u2' }) },
  {
    cls: InsuranceEnrolledV1,
    event: envelope('insurance.enrolled', 1, {
      department: 'social-insurance', businessId: 'SI-1', insuranceType: 'pension', scheme: 'resident', region: '440981', since: '2026-03-01',
      employer: 'x', employerCreditCode: '91440981MA4UJ1234X', transferredFrom: '440902',
    }),
  },
  {
    cls: InsuranceContributionPaidV1,
    event: envelope('insurance.contribution-paid', 1, { department: 'social-insurance', businessId: 'SI-2', insuranceType: 'medical', scheme: 'resident', region: '440981', month: '2026-04', paidBy: 'government', amount: 320.5 }),
  },
  { cls: CardIssuedV1, event: envelope('card.issued', 1, { department: 'social-security-card', businessId: 'K-1', cardNumber: 'A12345678', issuedOn: '2026-03-10', issuingRegion: '440981' }) },
  {
    cls: HouseholdMovedInV1,
    event: envelope('household.moved-in', 1, {
      department: 'public-security', businessId: 'M-1', movedOn: '2026-05-01', villageCode: '440981001001', fromDivision: '440902', name: '张三', sex: 'male', birthDate: '1990-01-01', address: 'y', hukouType: 'resident',
    }),
  },
  {
    cls: RegistryChangeProposedV1,
    event: envelope('registry.change-proposed', 1, {
      proposalId: id('p'),
      reason: 'region policy',
      change: { type: 'household.moved-out', occurredAt: '2026-05-01T00:00:00Z', source: 'dept:public-security', actor: 'key:ps', eventId: id('m'), payload: { department: 'public-security', businessId: 'M-2', movedOn: '2026-05-01', toDivision: '440902' } },
    }),
  },
  {
    cls: RegistryAbsentFromRosterV1,
    event: envelope('registry.absent-from-roster', 1, { snapshotId: id('snap'), department: 'public-security', kind: 'household', slot: 'household', scope: '440981', rosterAsOf: '2026-12-01T00:00:00Z' }),
  },
  { cls: ComparisonRecompareDueV1, event: envelope('comparison.recompare-due', 1, { dueDate: '2026-03-15', because: ['age 60 (pensionAgeCheck)'] }) },
];

function clone<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => clone(v)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)])) as T;
  }
  return value;
}

/** Every path to a value inside an object, e.g. ['payload', 'facts', 'name'] or ['payload', 'reasons', 0]. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  }
  return out;
}

const ODD_VALUES: unknown[] = [
  undefined, null, '', ' ', 'x', 'X', 'a'.repeat(65), 'a'.repeat(129), 'a'.repeat(513), 0, -1, 1, 1.5, 4200.555, 1e21, Number.NaN, Infinity, true, false,
  [], [1], ['x'], [{}], [null], {}, { kind: 'household' }, { kind: 'nope' }, { code: 'X', rule: 'r', ruleVersion: 1, detail: '' },
  '2026-11-01', '2026-11-01T00:00:00Z', '2026-13-45', '2026-02-30T25:00:00Z', '2026-11', '44098119900101001X', '44098119900101001x',
  'X-0123456789abcdef0123456789abcdef', '13800000000', '23800000000', '440981001001', '440981001', '440981', 'active', 'pension', 'employee',
  'household', 'insurance', 'registered', 'none', 'initial', 'public-security', 'snapshot', id('v'), new Date(0), new Map(), new Set(['x']),
  Object.create(null), Buffer.from('x'), 2029, 1899, '91440981MA4UJ1234X', '91440981MA4UJ1234I',
];
const ODD_KEYS = ['extra', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'kind', 'name', 'payload', 'facts', '0', ''];

type Mutation = { op: 'set'; at: number; value: number } | { op: 'delete'; at: number } | { op: 'add'; at: number; key: number; value: number };

function mutate(event: Json, mutations: Mutation[]): Json {
  const out = clone(event);
  for (const m of mutations) {
    const all = paths(out).filter((p) => p.length > 0);
    const path = all[m.at % all.length];
    if (!path) continue;
    const parent = path.slice(0, -1).reduce<unknown>((o, k) => (o as Json)[k as string], out) as Json;
    const last = path[path.length - 1] as string;
    if (m.op === 'set') parent[last] = clone(ODD_VALUES[m.value % ODD_VALUES.length]);
    else if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else {
      const target = parent[last];
      if (target && typeof target === 'object' && !Array.isArray(target)) {
        Object.defineProperty(target, ODD_KEYS[m.key % ODD_KEYS.length], { value: clone(ODD_VALUES[m.value % ODD_VALUES.length]), enumerable: true, writable: true, configurable: true });
      }
    }
  }
  return out;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.nat() }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fc.nat(), value: fc.nat() }),
);

describe('contract validation fast path', () => {
  it.each(TEMPLATES.map((t) => [t.event['type'] as string, (t.event['payload'] as Json)['facts'] ? ((t.event['payload'] as Json)['facts'] as Json)['kind'] : '', t] as const))(
    'answers for a valid %s %s without the full path',
    (_type, _kind, t) => {
      expect(fullyValid(EnvelopeShape, t.event)).toBe(true);
      expect(fullyValid(t.cls, t.event['payload'])).toBe(true);
      expect(surelyValid(EnvelopeShape, t.event)).toBe(true);
      expect(surelyValid(t.cls, t.event['payload'])).toBe(true);
    },
  );

  it('never calls valid what the full path rejects (mutated payloads of every type and fact kind)', () => {
    let rejected = 0;
    let fastAccepted = 0;
    fc.assert(
      fc.property(fc.nat(TEMPLATES.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (which, mutations) => {
        const t = TEMPLATES[which];
        if (!t) return;
        const payload = mutate(t.event, mutations)['payload'];
        const fast = surelyValid(t.cls, payload);
        const full = fullyValid(t.cls, clone(payload));
        if (!full) rejected += 1;
        if (fast) fastAccepted += 1;
        // The one-sided promise: fast ⇒ full.
        if (fast) expect(full).toBe(true);
      }),
      { numRuns: 6000, seed: 20261123 },
    );
    // The sample exercised both sides.
    expect(rejected).toBeGreaterThan(1000);
    expect(fastAccepted).toBeGreaterThan(500);
  });

  it('parseEvent accepts and refuses exactly what the full path alone did, with the same violations (mutated envelopes)', () => {
    fc.assert(
      fc.property(fc.nat(TEMPLATES.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (which, mutations) => {
        const t = TEMPLATES[which];
        if (!t) return;
        const event = mutate(t.event, mutations);
        expect(outcomeOf(() => parseEvent(clone(event)))).toEqual(outcomeOf(() => fullPathParse(clone(event))));
      }),
      { numRuns: 6000, seed: 20261124 },
    );
  });

  it('parseEvent and decodeEvent still name every violation (the full path reports them)', () => {
    const t = TEMPLATES[0];
    if (!t) throw new Error('no template');
    const bad = mutate(t.event, []);
    ((bad['payload'] as Json)['facts'] as Json)['villageCode'] = '4409';
    (bad['payload'] as Json)['surplus'] = 1;
    expect(() => parseEvent(bad)).toThrow(ContractViolationError);
    try {
      decodeEvent(JSON.stringify(bad));
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(ContractViolationError);
      expect((e as ContractViolationError).violations.map((v) => `${v.field}:${v.rule}`).sort()).toEqual([
        'payload.facts.villageCode:matches',
        'payload.surplus:whitelistValidation',
      ]);
    }
  });

  it('decodeEvent returns what parseEvent returns, and encodeEvent round-trips', () => {
    for (const t of TEMPLATES) {
      const parsed: RegistrationEvent = parseEvent(clone(t.event));
      expect(decodeEvent(JSON.stringify(t.event))).toEqual(parsed);
      expect(decodeEvent(encodeEvent(parsed))).toEqual(parsed);
    }
  });
});
