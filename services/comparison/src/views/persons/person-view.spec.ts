import { OUTCOME_DETERMINED, SOURCE_RECORD_RECEIVED, deterministicId } from '@qmcb/contracts';
import type { Department, OutcomeReason, RegistrationEvent, SourceFacts } from '@qmcb/contracts';
import { checkCharacter, foldEvents } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import type { Evaluation, RuleFact } from './evaluation';
import { buildPersonView, comparisonView, isStale, sourcesView } from './person-view';

const ID17 = '44098119850315123';
const ID = `${ID17}${checkCharacter(ID17)}`;
const VILLAGE = '440981002001';

let n = 0;
function envelope(type: string, occurredAt: string): Omit<RegistrationEvent, 'type' | 'payload' | 'schemaVersion'> & { type: string } {
  n += 1;
  return {
    eventId: deterministicId('spec', String(n)),
    type,
    personKey: ID,
    occurredAt,
    recordedAt: occurredAt,
    source: 'spec',
    actor: 'spec',
    correlationId: 'spec',
    causationId: null,
    basedOnVersion: null,
  };
}

function received(department: Department, sourceRecordId: string, asOf: string, facts: SourceFacts): RegistrationEvent {
  return {
    ...envelope(SOURCE_RECORD_RECEIVED, asOf),
    type: SOURCE_RECORD_RECEIVED,
    schemaVersion: 1,
    payload: { department, sourceRecordId, mode: 'snapshot', citizenIdAsSent: ID, citizenIdValid: true, asOf, facts },
  };
}

function outcome(reasons: OutcomeReason[]): RegistrationEvent {
  return {
    ...envelope(OUTCOME_DETERMINED, '2026-11-02T00:00:00.000Z'),
    type: OUTCOME_DETERMINED,
    schemaVersion: 3,
    payload: { outcome: 'needs-survey', previousOutcome: 'none', reasons, coverage: [] },
  };
}

const HOUSEHOLD = received('public-security', 'HJ-1', '2026-11-01T00:00:00.000Z', {
  kind: 'household', name: '李明', sex: 'male', birthDate: '1985-03-15', villageCode: VILLAGE, status: 'normal', phone: '13800138001', address: '南宫居委会1号',
} as SourceFacts);
const PENSION = received('social-insurance', 'SI-P', '2026-10-01T00:00:00.000Z', {
  kind: 'insurance', insuranceType: 'pension', scheme: 'employee', status: 'active', region: '440981', name: '李敏',
} as SourceFacts);
const TAX = received('tax', 'TX-1', '2026-09-01T00:00:00.000Z', { kind: 'tax', employed: true, employer: '高州市第一中学' } as SourceFacts);
const NAME_REASON: OutcomeReason = { code: 'INACCURATE_NAME', rule: 'inaccurate-information', ruleVersion: 1, detail: 'names disagree' };

function fold(...events: RegistrationEvent[]): RegistrationRecord {
  const record = foldEvents(events);
  if (!record) throw new Error('no record');
  return record;
}

describe('sourcesView', () => {
  it('shows each department with its newest record, what it holds by kind, and what it says of the identity', () => {
    const record = fold(HOUSEHOLD, PENSION, TAX);
    const sources = sourcesView(record);
    expect(Object.keys(sources)).toEqual(['public-security', 'social-insurance', 'tax']);
    expect(sources['public-security']).toMatchObject({ sourceRecordId: 'HJ-1', mode: 'snapshot', facts: { household: { name: '李明', villageCode: VILLAGE } }, identity: { name: '李明' } });
    expect(Object.keys(sources['social-insurance']?.facts.insurance ?? {})).toEqual(['pension:employee:440981']);
    expect(sources['social-insurance']?.identity).toMatchObject({ name: '李敏', fieldAsOf: { name: '2026-10-01T00:00:00.000Z' } });
    expect(sources.tax).toMatchObject({ sourceRecordId: 'TX-1', facts: { tax: { employed: true, employer: '高州市第一中学' } } });
  });
});

describe('comparison view', () => {
  const evaluation = (reasons: Evaluation['reasons'], outcomeName: Evaluation['outcome'] = 'needs-survey'): Evaluation => ({ outcome: outcomeName, reasons, hits: reasons, coverage: [] });
  const facts: RuleFact[] = [{ source: 'public-security', field: 'name', value: '李明', asOf: '2026-11-01T00:00:00.000Z' }];

  it('is not stale when the re-evaluation gives the recorded outcome and reasons, and lends each recorded reason its facts', () => {
    const record = fold(HOUSEHOLD, PENSION, outcome([NAME_REASON]));
    const view = comparisonView(record, evaluation([{ ...NAME_REASON, detail: 'now', facts }]), 'T', 'E');
    expect(view).toEqual({
      outcome: 'needs-survey',
      previousOutcome: 'none',
      reasons: [{ ...NAME_REASON, facts }],
      decidedAt: '2026-11-02T00:00:00.000Z',
      eventId: record.comparison?.eventId,
      coverage: [],
      evaluatedAt: 'E',
      stale: false,
      explanation: { asOf: 'T', outcome: 'needs-survey', reasons: [{ ...NAME_REASON, detail: 'now', facts }], hits: [{ ...NAME_REASON, detail: 'now', facts }], coverage: [] },
    });
  });

  it('is stale when the outcome, a code, a rule or a rule version differs', () => {
    const record = fold(HOUSEHOLD, outcome([NAME_REASON]));
    expect(isStale(record.comparison, evaluation([{ ...NAME_REASON, facts }], 'registered'))).toBe(true);
    expect(isStale(record.comparison, evaluation([{ ...NAME_REASON, code: 'UNINSURED', facts }]))).toBe(true);
    expect(isStale(record.comparison, evaluation([{ ...NAME_REASON, ruleVersion: 2, facts }]))).toBe(true);
    expect(isStale(record.comparison, evaluation([{ ...NAME_REASON, facts }, { ...NAME_REASON, code: 'UNINSURED', facts }]))).toBe(true);
    expect(isStale(record.comparison, evaluation([{ ...NAME_REASON, detail: 'other words', facts }]))).toBe(false);
    // A recorded reason the rules no longer give keeps no facts.
    expect(comparisonView(record, evaluation([]), 'T', 'E').reasons).toEqual([{ ...NAME_REASON, facts: [] }]);
  });

  it('lends each recorded status per type the facts of the same status re-evaluated, and is stale when a status differs', () => {
    const pension = { insuranceType: 'pension' as const, status: 'not-insured' as const, reason: 'NEVER_ENROLLED' as const, regions: [], rule: 'coverage-status' as const, ruleVersion: 1, detail: 'd' };
    const decided = fold(HOUSEHOLD, { ...outcome([NAME_REASON]), payload: { outcome: 'needs-survey', previousOutcome: 'none', reasons: [NAME_REASON], coverage: [pension] } } as RegistrationEvent);
    const pensionFacts: RuleFact[] = [{ source: 'social-insurance', field: 'pension', value: 'none active', asOf: null }];
    const same: Evaluation = { outcome: 'needs-survey', reasons: [{ ...NAME_REASON, facts }], hits: [], coverage: [{ ...pension, facts: pensionFacts }] };
    const view = comparisonView(decided, same, 'T', 'E');
    expect(view.coverage).toEqual([{ ...pension, facts: pensionFacts }]);
    expect(view.stale).toBe(false);
    const insured: Evaluation = { ...same, coverage: [{ ...pension, status: 'insured-here', reason: null, regions: ['440981'], facts }] };
    expect(comparisonView(decided, insured, 'T', 'E')).toMatchObject({ stale: true, coverage: [{ ...pension, facts: [] }] });
  });

  it('reads `none` for a person never compared, stale only if the rules would now decide', () => {
    const record = fold(TAX);
    expect(comparisonView(record, evaluation([], 'none'), 'T', 'E')).toMatchObject({ outcome: 'none', previousOutcome: null, reasons: [], decidedAt: null, eventId: null, stale: false });
    expect(isStale(null, evaluation([], 'needs-survey'))).toBe(true);
  });
});

describe('buildPersonView', () => {
  it('masks the citizen ID for display and keeps the record, fields and history', () => {
    const record = fold(HOUSEHOLD, PENSION);
    const view = buildPersonView(record, [], { outcome: 'none', reasons: [], hits: [], coverage: [] }, 'T', 'E');
    expect(view.personKey).toBe(ID);
    expect(view.citizenIdMasked).toBe(`${ID.slice(0, 6)}********${ID.slice(-4)}`);
    expect(view.record).toBe(record);
    expect(view.fields.name).toMatchObject({ value: '李明', source: 'public-security' });
    expect(view.fields.name.candidates.map((c) => [c.source, c.value])).toEqual([['public-security', '李明'], ['social-insurance', '李敏']]);
    expect(view.outcomes).toEqual([]);
  });
});
