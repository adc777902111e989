import { SOURCE_RECORD_RECEIVED, deterministicId, newEvent } from '@qmcb/contracts';
import { evolve } from '@qmcb/domain';
import { canonicalJson } from './record-sealer';

/**
 * canonicalJson as it was first written (recursive, parts joined): the sealed bytes of every record
 * at rest are the text it gave, so a faster one must give exactly the same text, or a projection
 * would no longer equal its own rebuild (and every record would be rewritten by the next fold).
 */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return reference(withJson.toJSON());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : reference(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined || typeof v === 'function') continue;
    parts.push(`${JSON.stringify(key)}:${reference(v)}`);
  }
  return `{${parts.join(',')}}`;
}

const household = (n: number) =>
  newEvent(
    SOURCE_RECORD_RECEIVED,
    deterministicId('canonical', String(n)),
    '440981198503072011',
    {
      department: 'public-security', sourceRecordId: `HJ-${n}`, mode: 'snapshot', asOf: '2026-11-01T00:00:00.000Z', citizenIdAsSent: '440981198503072011', citizenIdValid: true,
      facts: { kind: 'household', name: '欧阳明远', villageCode: '440981002001', status: 'normal', phone: '13912345678', address: '南宫居委会幸福路 18 号\n"二楼"' },
    },
    { source: 'dept:public-security', actor: 'key:test', occurredAt: `2026-11-0${n}T00:00:00.000Z`, correlationId: deterministicId('corr', String(n)) },
  );

describe('canonicalJson', () => {
  it('gives a folded record exactly the text it always gave, keys sorted at every level', () => {
    const record = evolve(evolve(null, household(1)), household(2));
    const text = canonicalJson(record);
    expect(text).toBe(reference(record));
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(record)));
    expect(text.indexOf('"comparison"')).toBeLessThan(text.indexOf('"personKey"'));
    // Built in another key order, the same text.
    const reversed = Object.fromEntries(Object.entries(JSON.parse(text) as Record<string, unknown>).reverse());
    expect(canonicalJson(reversed)).toBe(text);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['undefined at the top', undefined],
    ['a function at the top', () => 1],
    ['a symbol at the top', Symbol('s')],
    ['a string with quotes, a backslash, a newline and a lone surrogate', 'a"b\\c\nd\ud800'],
    ['numbers', [0, -0, 1.5, -2e-7, 1e21, NaN, Infinity]],
    ['booleans', [true, false]],
    ['undefined, functions and symbols in an array', [undefined, () => 1, Symbol('s'), 2]],
    ['undefined and functions left out of an object, a symbol written as null', { a: undefined, b: () => 1, c: Symbol('s'), d: 1 }],
    ['keys that need escaping or are not names', { 'a"b': 1, 'a\\b': 2, 'line\nbreak': 3, 名字: 4, '': 5, 'a b': 6, 'x-y.z:w$_9': 7, 10: 8, 2: 9 }],
    ['a Date and an object with toJSON', { at: new Date('2026-12-01T00:00:00.000Z'), custom: { toJSON: () => ({ z: 1, a: [2, { y: 3, b: 4 }] }) } }],
    ['toJSON giving undefined', { gone: { toJSON: () => undefined }, list: [{ toJSON: () => undefined }] }],
    ['nested empties', { a: {}, b: [], c: [[], [{}]], d: { e: { f: {} } } }],
    ['a function with toJSON: at the top, in an object, in an array, and given by a toJSON', [Object.assign(() => 1, { toJSON: () => ({ b: 1, a: 2 }) })].flatMap((fn) => [fn, { fn }, [fn], { x: { toJSON: () => fn } }, [{ toJSON: () => fn }]])],
    ['keys named like Object.prototype, numbers, and unicode line separators', JSON.parse('{"__proto__":{"b":1,"a":2},"constructor":1,"01":2,"-1":3,"\\u2028":4}')],
    ['an object without a prototype', Object.assign(Object.create(null) as object, { b: 1, a: 2 })],
  ])('gives what it always gave for %s', (_what, value) => {
    expect(canonicalJson(value)).toBe(reference(value));
  });

  it('writes a hole of a sparse array as null, where the first version wrote invalid JSON that no sealed value could be opened from', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(canonicalJson([, 1, , ])).toBe('[null,1,null]');
    expect(reference(new Array(2))).toBe('[,]');
  });

  it('throws on a BigInt as JSON.stringify does', () => {
    expect(() => canonicalJson({ a: BigInt(1) })).toThrow(TypeError);
    expect(() => reference({ a: BigInt(1) })).toThrow(TypeError);
  });
});
