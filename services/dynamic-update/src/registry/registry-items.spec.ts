import { INSURANCE_ENROLLED, INSURANCE_SUSPENDED, SOURCE_RECORD_RECEIVED, currentVersion, deterministicId, parseEvent } from '@qmcb/contracts';
import type { EventPayloads, EventType, RegistrationEvent } from '@qmcb/contracts';
import { evolve, foldEvents } from '@qmcb/domain';
import { itemChanges, registryItems } from './registry-items';

const ID = '440981199001010017';
let n = 0;
function event<K extends EventType>(type: K, payload: EventPayloads[K], at: string): RegistrationEvent {
  n += 1;
  return parseEvent({
    eventId: deterministicId('items', String(n)),
    type,
    schemaVersion: currentVersion(type),
    personKey: ID,
    occurredAt: at,
    recordedAt: at,
    source: 'dept:x',
    actor: 'key:x',
    correlationId: 'c',
    causationId: null,
    basedOnVersion: null,
    payload,
  });
}
const household = event(
  SOURCE_RECORD_RECEIVED,
  {
    department: 'public-security',
    sourceRecordId: 'H-1',
    mode: 'snapshot',
    citizenIdAsSent: ID,
    citizenIdValid: true,
    asOf: '2026-01-01T00:00:00Z',
    facts: { kind: 'household', name: '张三', villageCode: '440981002201', status: 'normal', phone: '13900000000' },
  },
  '2026-01-01T00:00:00Z',
);
const entry = { department: 'social-insurance' as const, insuranceType: 'pension' as const, scheme: 'resident' as const, region: '440981' };

describe('registry items', () => {
  it('given a household record, then the items are the §7 items it gives, by name', () => {
    const record = foldEvents([household]);
    if (!record) throw new Error('no record');
    expect(registryItems(record)).toEqual({
      name: '张三',
      citizenId: ID,
      citizenIdValid: true,
      sex: 'male',
      birthDate: '1990-01-01',
      phone: '13900000000',
      hukouDivision: '440981002201',
      hukouStatus: 'normal',
      'flags.needsSurvey': false,
      'flags.duplicate': false,
      'flags.inaccurate': false,
    });
  });

  it('given an enrolment then a suspension, then each event changes exactly the items it moved', () => {
    const first = foldEvents([household]);
    const enrolled = event(INSURANCE_ENROLLED, { ...entry, businessId: 'E-1', since: '2026-03-01' }, '2026-03-01T00:00:00Z');
    const second = evolve(first, enrolled);
    expect(itemChanges(first, second)).toEqual([
      { item: 'insurance.pension:resident:440981.heldBy', from: null, to: 'social-insurance' },
      { item: 'insurance.pension:resident:440981.since', from: null, to: '2026-03-01' },
      { item: 'insurance.pension:resident:440981.status', from: null, to: 'active' },
    ]);
    const third = evolve(second, event(INSURANCE_SUSPENDED, { ...entry, businessId: 'S-1', effectiveDate: '2026-06-01', reason: 'contributions-interrupted' }, '2026-06-01T00:00:00Z'));
    expect(itemChanges(second, third)).toEqual([{ item: 'insurance.pension:resident:440981.status', from: 'active', to: 'suspended' }]);
    // The same event again changes nothing.
    expect(itemChanges(third, third)).toEqual([]);
  });

  it('given no record before, then every item is new', () => {
    const record = foldEvents([household]);
    if (!record) throw new Error('no record');
    expect(itemChanges(null, record).map((c) => c.from)).toEqual(Array(11).fill(null));
  });
});
