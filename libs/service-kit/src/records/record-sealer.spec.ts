import { SOURCE_RECORD_RECEIVED, deterministicId, newEvent } from '@qmcb/contracts';
import { evolve } from '@qmcb/domain';
import { canonicalJson, openValue, sealCompression, sealValue } from './record-sealer';

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

describe('sealed values at rest: deflated from 1,024 bytes of JSON on (ADR 0012)', () => {
  const dek = Buffer.alloc(32, 1);
  const big = Buffer.from(JSON.stringify({ name: '欧阳明远', note: 'x'.repeat(300) }), 'utf8');
  const bigger = Buffer.from(JSON.stringify({ name: '欧阳明远', notes: Array.from({ length: 40 }, (_, i) => ({ at: `2026-11-${10 + (i % 20)}`, text: `第${i}次走访` })) }), 'utf8');
  /** Sealed by the version before ADR 0012 (format 1, no deflate): rows at rest hold such values. */
  const BEFORE =
    'AXmvcyKNQCXcSWCgbch12PUb1ZFdd08XcI3ZhVMZxVKuNgZ6WuLcFNprr8X0Mv6J0VOKM63ZkdfkWHj9Ac5YVzdlb67o1fa56PvD+UU7bAOVV2OoMD0esDfZv/LrmKE8aYaOohPhWi2yLMhWC5EcYrZnDVUcXE5YuRjzOl6EoTxJXY3PwRN55V30SFNMx3r0QZyUFmlU8tXyrS9g6KdnTmqr1YUpoP6VjlVbBEMpRnCa+EtcMIf+yS+qNGRZ/4O98dm6U4OBQMNZLV8unwBPnG4+sDiZq9efqU+aKeJ7x5A+BXl7VhUV85pfKh89doB2oybKa4m9qDosXqrn9EpMehyQEH9PTlAjzyPJ/kX0UYf7/RMcs13GsjjQ4d3BdOREDSeOMdg2//I5KQSI5GSsH6E7S6f+sPqvowk48IpHs4X9CCxrUG1KeyRNp7O8bSEG91r/2zKPDkhaSZ63czbuILliKRd0njJWoQg=';

  it('deflates a large value: format 2, much shorter than its JSON, the same bytes every time, opened back exactly', () => {
    const sealed = sealValue(dek, 'person_record', 'ref-1', bigger, true);
    expect(sealed[0]).toBe(2);
    expect(sealed.length).toBeLessThan(bigger.length / 2);
    expect(sealValue(dek, 'person_record', 'ref-1', bigger, true).equals(sealed)).toBe(true);
    expect(openValue(dek, 'person_record', 'ref-1', sealed).equals(bigger)).toBe(true);
    // Nothing of the value readable in the sealed bytes.
    expect(sealed.includes(Buffer.from('欧阳明远', 'utf8'))).toBe(false);
  });

  it('seals a small value, or any value with SEAL_COMPRESSION=off, as before (format 1), byte for byte', () => {
    expect(sealValue(dek, 'person_record', 'ref-1', big, true)[0]).toBe(1);
    expect(bigger.length).toBeGreaterThanOrEqual(1024);
    expect(sealValue(dek, 'person_record', 'ref-1', bigger, false)[0]).toBe(1);
    expect(sealValue(dek, 'person_record', 'ref-1', big, false).toString('base64')).toBe(BEFORE);
  });

  it('opens a value sealed before ADR 0012', () => {
    expect(openValue(dek, 'person_record', 'ref-1', Buffer.from(BEFORE, 'base64')).equals(big)).toBe(true);
  });

  it('refuses a deflated value whose format byte was changed, or opened for another person or place', () => {
    const sealed = sealValue(dek, 'person_record', 'ref-1', bigger, true);
    const relabelled = Buffer.from(sealed);
    relabelled[0] = 1;
    expect(() => openValue(dek, 'person_record', 'ref-1', relabelled)).toThrow(/unable to authenticate/);
    expect(() => openValue(dek, 'person_record', 'ref-2', sealed)).toThrow(/unable to authenticate/);
    expect(() => openValue(dek, 'review_item.form', 'ref-1', sealed)).toThrow(/unable to authenticate/);
    const unknown = Buffer.from(sealed);
    unknown[0] = 3;
    expect(() => openValue(dek, 'person_record', 'ref-1', unknown)).toThrow('person_record: a sealed value of an unknown format (3)');
  });

  it('reads SEAL_COMPRESSION: on unless off, and names the variable for anything else', () => {
    expect(sealCompression({})).toBe(true);
    expect(sealCompression({ SEAL_COMPRESSION: 'on' })).toBe(true);
    expect(sealCompression({ SEAL_COMPRESSION: 'off' })).toBe(false);
    expect(() => sealCompression({ SEAL_COMPRESSION: 'no' })).toThrow('SEAL_COMPRESSION: must be on or off (got "no")');
  });
});
