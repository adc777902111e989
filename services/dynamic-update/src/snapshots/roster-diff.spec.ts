import { SOURCE_RECORD_RECEIVED, currentVersion, deterministicId, parseEvent } from '@qmcb/contracts';
import type { Department, SourceFacts } from '@qmcb/contracts';
import { foldEvents } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { factFields, rosterDiff } from './roster-diff';

const ID = '440981199001010017';
const ROSTER = '2026-12-01T00:00:00.000Z';
let n = 0;
function held(department: Department, facts: SourceFacts, asOf = '2026-06-01T00:00:00.000Z'): RegistrationRecord {
  n += 1;
  const record = foldEvents([
    parseEvent({
      eventId: deterministicId('diff', String(n)),
      type: SOURCE_RECORD_RECEIVED,
      schemaVersion: currentVersion(SOURCE_RECORD_RECEIVED),
      personKey: ID,
      occurredAt: asOf,
      recordedAt: asOf,
      source: `dept:${department}`,
      actor: 'key:x',
      correlationId: 'c',
      causationId: null,
      basedOnVersion: null,
      payload: { department, sourceRecordId: `r${n}`, mode: 'snapshot', citizenIdAsSent: ID, citizenIdValid: true, asOf, facts },
    }),
  ]);
  if (!record) throw new Error('no record');
  return record;
}

const household: SourceFacts = { kind: 'household', name: '张三', villageCode: '440981002201', status: 'normal', phone: '13900000000' };

describe('rosterDiff: a roster row against what we hold from the department', () => {
  it('given nothing held, then the row is added with the facts it gives', () => {
    expect(rosterDiff(null, 'public-security', household, ROSTER)).toEqual({ change: 'added', slot: 'household', fields: ['name', 'phone', 'status', 'villageCode'] });
  });

  it('given the same facts held, then unchanged; an absent optional fact equals a held null', () => {
    expect(rosterDiff(held('public-security', household), 'public-security', household, ROSTER)).toEqual({ change: 'unchanged', slot: 'household', fields: [] });
  });

  it('given other facts held, then updated, naming the facts that differ (a fact left out counts as cleared)', () => {
    const { phone: _p, ...withoutPhone } = household as Extract<SourceFacts, { kind: 'household' }>;
    expect(rosterDiff(held('public-security', household), 'public-security', { ...withoutPhone, address: '新地址' }, ROSTER)).toEqual({ change: 'updated', slot: 'household', fields: ['address', 'phone'] });
  });

  it('given something newer held, then the roster changes nothing', () => {
    expect(rosterDiff(held('public-security', household, '2026-12-05T00:00:00.000Z'), 'public-security', { ...household, name: '旧名' }, ROSTER).change).toBe('older');
  });

  it('given an insurance entry held by the higher registry, then a social-insurance roster row adds it as its own', () => {
    const entry: SourceFacts = { kind: 'insurance', insuranceType: 'pension', scheme: 'resident', status: 'active', region: '440981' };
    expect(rosterDiff(held('higher-registry', entry), 'social-insurance', entry, ROSTER)).toMatchObject({ change: 'added', slot: 'insurance:pension:resident:440981' });
    expect(rosterDiff(held('social-insurance', entry), 'social-insurance', entry, ROSTER)).toMatchObject({ change: 'unchanged' });
  });

  it('compares every field of the contract (a field added to it is compared too)', () => {
    expect(factFields('household')).toEqual(['address', 'birthDate', 'ethnicity', 'householdNo', 'hukouType', 'name', 'phone', 'relationToHead', 'sex', 'status', 'villageCode']);
    expect(factFields('welfare')).toEqual(['active', 'name', 'since']);
  });
});
