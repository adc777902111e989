import { LineSplitter } from './line-splitter';
import type { Line } from './line-splitter';

function split(chunks: (Buffer | string)[], max?: number): Line[] {
  const splitter = new LineSplitter(max);
  const out: Line[] = [];
  for (const c of chunks) splitter.push(typeof c === 'string' ? Buffer.from(c) : c, out);
  splitter.end(out);
  return out;
}

/** Every way of cutting `bytes` in two. */
function everyCut(bytes: Buffer): Buffer[][] {
  const cuts: Buffer[][] = [];
  for (let i = 0; i <= bytes.length; i += 1) cuts.push([bytes.subarray(0, i), bytes.subarray(i)]);
  return cuts;
}

describe('LineSplitter', () => {
  it('splits on LF and CRLF, numbering lines from 1 and remembering each terminator', () => {
    expect(split(['a,b\r\nc,d\ne,f'])).toEqual([
      { line: 1, text: 'a,b', terminator: '\r\n', truncated: false },
      { line: 2, text: 'c,d', terminator: '\n', truncated: false },
      { line: 3, text: 'e,f', terminator: '', truncated: false },
    ]);
  });

  it('gives no extra line after a final newline, and keeps empty lines as lines', () => {
    expect(split(['a\n\nb\n']).map((l) => [l.line, l.text])).toEqual([
      [1, 'a'],
      [2, ''],
      [3, 'b'],
    ]);
  });

  it('drops a UTF-8 byte-order mark at the start only, even when its bytes arrive in pieces', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('名,x\n\uFEFFy\n')]);
    for (const chunks of everyCut(bytes)) {
      expect(split(chunks).map((l) => l.text)).toEqual(['名,x', '\uFEFFy']);
    }
  });

  it('keeps multibyte characters whole when a chunk ends inside one', () => {
    const text = '李明,广东省高州市\r\n王芳,𠀋字\n';
    const bytes = Buffer.from(text);
    for (const chunks of everyCut(bytes)) {
      expect(split(chunks).map((l) => l.text)).toEqual(['李明,广东省高州市', '王芳,𠀋字']);
    }
    // One byte at a time.
    const single = [...bytes].map((b) => Buffer.from([b]));
    expect(split(single).map((l) => [l.text, l.terminator])).toEqual([
      ['李明,广东省高州市', '\r\n'],
      ['王芳,𠀋字', '\n'],
    ]);
  });

  it('recognises CRLF split across chunks', () => {
    expect(split(['a\r', '\nb']).map((l) => [l.text, l.terminator])).toEqual([
      ['a', '\r\n'],
      ['b', ''],
    ]);
  });

  it('turns invalid UTF-8 into U+FFFD (for the parsers to refuse the row)', () => {
    expect(split([Buffer.from([0x61, 0xff, 0x62, 0x0a])])[0].text).toBe('a\uFFFDb');
  });

  it('cuts a line longer than the limit, flags it, and skips the rest of it up to its newline', () => {
    const long = 'x'.repeat(50);
    const lines = split([`ok\n${long.slice(0, 20)}`, `${long.slice(20)}\r`, '\nnext\n'], 10);
    expect(lines).toEqual([
      { line: 1, text: 'ok', terminator: '\n', truncated: false },
      { line: 2, text: 'x'.repeat(10), terminator: '\r\n', truncated: true },
      { line: 3, text: 'next', terminator: '\n', truncated: false },
    ]);
    expect(split([long], 10)).toEqual([{ line: 1, text: 'x'.repeat(10), terminator: '', truncated: true }]);
  });
});
