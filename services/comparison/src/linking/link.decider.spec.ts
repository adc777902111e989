import { LINK_CONFIRMED, LINK_PROPOSED, LINK_REJECTED, deterministicId, newEvent } from '@qmcb/contracts';
import type { EventOrigin } from '@qmcb/contracts';
import { decide, evolve, linkIdOf } from './link.decider';
import type { LinkEvent, LinkState, ProposeLink } from './link.decider';

const RECORD = 'X-0123456789abcdef0123456789abcdef';
const PERSON = '440981198503151237';
const OTHER = '440981198503151245';
const origin: EventOrigin = { source: 'svc:comparison', actor: 'svc:comparison', occurredAt: '2026-11-01T00:00:00.000Z', correlationId: 'c1', causationId: 'e1' };
const empty: LinkState = { recordKey: RECORD, links: [] };
const propose = (personKey = PERSON, score = 80): ProposeLink => ({
  type: 'propose',
  citizenIdAsSent: '440981198503151230',
  sources: [{ department: 'social-insurance', sourceRecordId: 'YL-1' }],
  candidate: { personKey, relation: 'CHECK_CHARACTER', score, criteria: [{ criterion: 'CITIZEN_ID_CHECK_CHARACTER', points: 50, detail: 'x' }, { criterion: 'NAME', points: 30, detail: 'the same' }] },
  origin,
});
const review = (type: typeof LINK_CONFIRMED | typeof LINK_REJECTED, personKey = PERSON): LinkEvent =>
  type === LINK_CONFIRMED
    ? newEvent(LINK_CONFIRMED, deterministicId('c', personKey), personKey, { linkId: linkIdOf(RECORD, personKey), recordKey: RECORD, reviewerId: 'a1', comment: '' }, origin)
    : newEvent(LINK_REJECTED, deterministicId('r', personKey), personKey, { linkId: linkIdOf(RECORD, personKey), recordKey: RECORD, reviewerId: 'a1', reason: 'not them' }, origin);

describe('link decider', () => {
  it('given records with no link, when a strong candidate is proposed, then one link-proposed on the person, with a stable ID', () => {
    const [event, ...rest] = decide(propose(), empty);
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      type: LINK_PROPOSED,
      schemaVersion: 1,
      personKey: PERSON,
      eventId: deterministicId('comparison', 'link-proposed', linkIdOf(RECORD, PERSON)),
      causationId: 'e1',
      payload: { linkId: linkIdOf(RECORD, PERSON), recordKey: RECORD, citizenIdAsSent: '440981198503151230', scoring: 'id-link', scoringVersion: 1, score: 80, threshold: 80 },
    });
    expect(decide(propose(), empty)).toEqual([event]);
  });

  it('given a weak candidate, then nothing', () => expect(decide(propose(PERSON, 79), empty)).toEqual([]));

  it('given a proposed or confirmed link, when another candidate comes, then nothing', () => {
    const proposed = evolve(empty, decide(propose(), empty)[0] as LinkEvent);
    expect(proposed.links).toEqual([{ recordKey: RECORD, personKey: PERSON, linkId: linkIdOf(RECORD, PERSON), status: 'proposed', score: 80, citizenIdAsSent: '440981198503151230' }]);
    expect(decide(propose(OTHER, 95), proposed)).toEqual([]);
    expect(decide(propose(OTHER, 95), evolve(proposed, review(LINK_CONFIRMED)))).toEqual([]);
  });

  it('given a rejected link, when the same person comes again, then nothing; another strong candidate may be proposed', () => {
    const rejected = evolve(evolve(empty, decide(propose(), empty)[0] as LinkEvent), review(LINK_REJECTED));
    expect(rejected.links.map((l) => l.status)).toEqual(['rejected']);
    expect(decide(propose(), rejected)).toEqual([]);
    expect(decide(propose(OTHER, 90), rejected).map((e) => e.personKey)).toEqual([OTHER]);
  });

  it('given a decided link, when its proposal comes back, then it stays decided', () => {
    const proposal = decide(propose(), empty)[0] as LinkEvent;
    const confirmed = evolve(evolve(empty, proposal), review(LINK_CONFIRMED));
    expect(evolve(confirmed, proposal)).toEqual(confirmed);
    expect(confirmed.links[0]).toMatchObject({ status: 'confirmed', score: 80 });
  });
});
