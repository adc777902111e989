import type { SequencedEntry } from './feed-entry.repository';
import { asSeenBy } from './feed-view';

const entry = (before: string | null, after: string | null): SequencedEntry => ({
  seq: 7,
  eventId: 'e',
  personKey: '440981199001010017',
  version: 3,
  type: 'household.moved-in',
  divisionBefore: before,
  divisionAfter: after,
  occurredAt: '2026-05-03T00:00:00.000Z',
  recordedAt: '2026-05-03T00:00:01.000Z',
  source: 'dept:public-security',
  actor: 'key:ps-1',
  changes: [{ item: 'hukouDivision', from: before, to: after }],
});

const idOf = (personKey: string): string => `id-of-${personKey}`;

describe('what a subscriber sees of a feed entry', () => {
  it('given the person filed in its division after the change, then all of it', () => {
    expect(asSeenBy(entry('440981002001', '440981002002'), { division: '440981', kinds: [] }, idOf)).toMatchObject({ division: '440981002002', leftScope: false, changes: [{ item: 'hukouDivision' }] });
  });

  it('given the person moved out of its division with the change, then only that they left, nothing of where to', () => {
    const seen = asSeenBy(entry('440981002001', '440902001001'), { division: '440981', kinds: [] }, idOf);
    expect(seen).toEqual({
      seq: 7,
      eventId: 'e',
      type: 'household.moved-in',
      personId: 'id-of-440981199001010017',
      citizenId: '440981199001010017',
      version: 3,
      occurredAt: '2026-05-03T00:00:00.000Z',
      recordedAt: '2026-05-03T00:00:01.000Z',
      source: 'dept:public-security',
      actor: 'key:ps-1',
      division: null,
      leftScope: true,
      changes: [],
    });
  });

  it('given the destination subscriber, then it sees the arrival whole', () => {
    expect(asSeenBy(entry('440981002001', '440902001001'), { division: '440902', kinds: [] }, idOf).changes).toEqual([{ item: 'hukouDivision', from: '440981002001', to: '440902001001' }]);
  });

  it('given a person known without a valid citizen ID, then the person ID and no citizen ID', () => {
    expect(asSeenBy({ ...entry(null, '440981002001'), personKey: 'X-0123456789abcdef0123456789abcdef' }, { division: '440981', kinds: [] }, idOf)).toMatchObject({
      personId: 'id-of-X-0123456789abcdef0123456789abcdef',
      citizenId: null,
    });
  });
});
