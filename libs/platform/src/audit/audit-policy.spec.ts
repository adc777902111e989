import type { PersonalDataPolicy, Principal } from '@qmcb/auth';
import type { Request } from 'express';
import { PersonIds } from '../person-ids/person-ids';
import { peopleIn, purposeOf, unmaskedFor, withoutPersonKeys } from './audit.interceptor';
import { resultOfStatus } from './audit-recorder';

const reviewer: Principal = { kind: 'person', sub: 'r', name: 'r', role: 'grassroots-reviewer', division: '440981002' };
const analyst: Principal = { kind: 'person', sub: 'a', name: 'a', role: 'analyst', division: '440981' };
const registry: Principal = { kind: 'system', department: 'higher-registry', keyId: 'hr' };
const req = (purpose?: string): Request => ({ headers: purpose === undefined ? {} : { 'x-purpose': purpose } }) as unknown as Request;
const list: PersonalDataPolicy = { access: 'list', purposes: ['review', 'statistics'], unmasked: [{ roles: ['grassroots-reviewer'], purposes: ['review'] }] };

describe('purposes', () => {
  it('requires a person reading a route of several purposes to state one it serves', () => {
    expect(purposeOf(req('review'), list, reviewer)).toBe('review');
    expect(() => purposeOf(req(), list, reviewer)).toThrow('X-Purpose is required: state why you read this personal data, one of review, statistics');
    expect(() => purposeOf(req('survey'), list, reviewer)).toThrow('X-Purpose must be one of review, statistics on this route');
    expect(() => purposeOf(req('nonsense'), list, reviewer)).toThrow('X-Purpose must be one of review, statistics on this route');
  });

  it("implies the purpose of a one-purpose route, of a write, and of a department system's call", () => {
    expect(purposeOf(req(), { access: 'read', purposes: ['self-service'] }, reviewer)).toBe('self-service');
    expect(purposeOf(req(), { access: 'write', purposes: ['review', 'registry-maintenance'] }, reviewer)).toBe('review');
    expect(purposeOf(req(), list, registry)).toBe('review');
  });
});

describe('masking', () => {
  it('shows lists and exports whole only to the roles and purposes the route names; reads whole unless it names some', () => {
    expect(unmaskedFor(list, reviewer, 'review')).toBe(true);
    expect(unmaskedFor(list, reviewer, 'statistics')).toBe(false);
    expect(unmaskedFor(list, analyst, 'review')).toBe(false);
    expect(unmaskedFor({ access: 'list', purposes: ['review'] }, reviewer, 'review')).toBe(false);
    expect(unmaskedFor({ access: 'read', purposes: ['review'] }, analyst, 'review')).toBe(true);
    expect(unmaskedFor({ access: 'export', purposes: ['cross-region-exchange'], unmasked: [{ departments: ['higher-registry'], purposes: ['cross-region-exchange'] }] }, registry, 'cross-region-exchange')).toBe(true);
  });
});

describe('peopleIn', () => {
  it('finds person keys and the person IDs this deployment made anywhere in an answer, and nothing else', () => {
    const ids = new PersonIds('people-in-secret-0123456789abcdefghij');
    const body = { items: [{ personId: ids.idOf('44098119850315123X'), name: '李明' }, { nested: { personKey: 'X-0123456789abcdef0123456789abcdef' } }], personKey: 'not-a-key', personId: 'forged' };
    expect([...peopleIn(body, ids)].sort()).toEqual(['44098119850315123X', 'X-0123456789abcdef0123456789abcdef']);
  });
});

describe('withoutPersonKeys', () => {
  const ids = new PersonIds('people-in-secret-0123456789abcdefghij');

  it('takes every person key out of an answer, giving its object the personId instead, and leaves the rest (and the original) as it was', () => {
    const at = new Date('2026-12-01T00:00:00Z');
    const body = {
      personId: ids.idOf('44098119850315123X'),
      personKey: '44098119850315123X',
      citizenIdMasked: '440981********123X',
      record: { personKey: '44098119850315123X', citizenId: '44098119850315123X', name: '李明', at },
      links: { linked: [{ recordKey: 'X-0123456789abcdef0123456789abcdef', personId: 'given' }] },
      items: [{ personKey: 'X-0123456789abcdef0123456789abcdef', change: 'added' }, { personKey: '44098119850315123X', change: 'absent' }],
      campaign: { personKey: 'O-00000000000000000000000000000001' },
    };
    const copy = JSON.parse(JSON.stringify(body)) as unknown;
    expect(withoutPersonKeys(body, ids)).toEqual({
      personId: ids.idOf('44098119850315123X'),
      citizenIdMasked: '440981********123X',
      record: { personId: ids.idOf('44098119850315123X'), citizenId: '44098119850315123X', name: '李明', at },
      links: { linked: [{ personId: 'given' }] },
      // A citizen ID shown nowhere else becomes the item's citizenId (then masked in a list unless the route unmasks it).
      items: [
        { personId: ids.idOf('X-0123456789abcdef0123456789abcdef'), change: 'added' },
        { personId: ids.idOf('44098119850315123X'), citizenId: '44098119850315123X', change: 'absent' },
      ],
      campaign: { personKey: 'O-00000000000000000000000000000001' },
    });
    expect(JSON.parse(JSON.stringify(body))).toEqual(copy);
    expect([...peopleIn(body, ids)].sort()).toEqual(['44098119850315123X', 'X-0123456789abcdef0123456789abcdef']);
  });
});

describe('resultOfStatus', () => {
  it('names what became of a request by its status', () => {
    expect([200, 201, 401, 403, 404, 429, 400, 409, 413, 500, 503].map(resultOfStatus)).toEqual([
      'ok', 'ok', 'refused', 'refused', 'refused', 'refused', 'invalid', 'invalid', 'invalid', 'failed', 'failed',
    ]);
  });
});
