import { CsvRecordParser, parseCsvFields } from './csv-parser';
import type { CsvItem, CsvParserOptions } from './csv-parser';
import { LineSplitter } from './line-splitter';
import type { Line } from './line-splitter';

function parse(text: string | Buffer[], options?: CsvParserOptions): CsvItem[] {
  const splitter = new LineSplitter();
  const parser = new CsvRecordParser(options);
  const lines: Line[] = [];
  for (const chunk of typeof text === 'string' ? [Buffer.from(text)] : text) splitter.push(chunk, lines);
  splitter.end(lines);
  const out: CsvItem[] = [];
  for (const l of lines) parser.push(l, out);
  parser.end(out);
  return out;
}

const records = (items: CsvItem[]): [number, string[]][] => items.map((i) => (i.ok ? [i.line, i.fields] : [i.line, [`!${i.rule}`]]));

describe('parseCsvFields (RFC 4180)', () => {
  it('splits plain, quoted and empty fields', () => {
    expect(parseCsvFields('a,,c')).toEqual({ kind: 'fields', fields: ['a', '', 'c'] });
    expect(parseCsvFields('"a,b","",c,')).toEqual({ kind: 'fields', fields: ['a,b', '', 'c', ''] });
    expect(parseCsvFields(',')).toEqual({ kind: 'fields', fields: ['', ''] });
  });

  it('reads "" inside a quoted field as one quote', () => {
    expect(parseCsvFields('"say ""hi""",""""')).toEqual({ kind: 'fields', fields: ['say "hi"', '"'] });
  });

  it('says open when a quoted field runs past the end', () => {
    expect(parseCsvFields('a,"bc')).toEqual({ kind: 'open' });
    expect(parseCsvFields('a,"b""')).toEqual({ kind: 'open' });
  });

  it('refuses a quote inside an unquoted field and text after a closing quote', () => {
    expect(parseCsvFields('a,b"c').kind).toBe('error');
    expect(parseCsvFields('a,"b"c,d').kind).toBe('error');
    expect(parseCsvFields('"b" ,d').kind).toBe('error');
  });
});

describe('CsvRecordParser', () => {
  it('reads records with quotes, escaped quotes, commas, CRLF and empty cells, and skips blank lines', () => {
    const text = '\uFEFFid,name,note\r\n1,"Li, Ming","said ""ok"""\r\n\r\n2,,\r\n3,王芳,"多行\r\n备注"\r\n';
    expect(records(parse(text))).toEqual([
      [1, ['id', 'name', 'note']],
      [2, ['1', 'Li, Ming', 'said "ok"']],
      [4, ['2', '', '']],
      [5, ['3', '王芳', '多行\r\n备注']],
    ]);
  });

  it('keeps the raw text of each record, with a multi-line record joined by its own line breaks', () => {
    const items = parse('a,"x\ny",b\nc,d\n');
    expect(items.map((i) => i.raw)).toEqual(['a,"x\ny",b', 'c,d']);
  });

  it('gives the same records however the bytes are cut into chunks', () => {
    const text = 'k,v\n1,"李明, ""老李"""\r\n2,"跨\n行"\n3,王\n';
    const whole = parse(text);
    const bytes = Buffer.from(text);
    for (let i = 0; i <= bytes.length; i += 1) {
      expect(parse([bytes.subarray(0, i), bytes.subarray(i)])).toEqual(whole);
    }
  });

  it('refuses a line with a stray quote and carries on with the next line', () => {
    expect(records(parse('h1,h2\n8,"bad"x\n10,11\n12,ab"c\n13,14\n'))).toEqual([
      [1, ['h1', 'h2']],
      [2, ['!csvSyntax']],
      [3, ['10', '11']],
      [4, ['!csvSyntax']],
      [5, ['13', '14']],
    ]);
  });

  it('refuses only the first line of a never-closed quote, then parses the lines below it again', () => {
    expect(records(parse('h1,h2\n"unterminated,1\n10,11\n12,13\n'))).toEqual([
      [1, ['h1', 'h2']],
      [2, ['!csvUnclosedQuote']],
      [3, ['10', '11']],
      [4, ['12', '13']],
    ]);
  });

  it('bounds a record: a quote still open after maxRecordLines lines is refused by its first line', () => {
    const lines = ['h', '"open', ...Array.from({ length: 10 }, (_, i) => `r${i}`)];
    const items = parse(`${lines.join('\n')}\n`, { maxRecordLines: 3 });
    expect(records(items)).toEqual([
      [1, ['h']],
      [2, ['!csvUnclosedQuote']],
      ...Array.from({ length: 10 }, (_, i): [number, string[]] => [i + 3, [`r${i}`]]),
    ]);
  });

  it('refuses a closing quote followed by text on a continuation line, keeping the lines after it', () => {
    expect(records(parse('h,h\n1,"a\nb"x,2\n3,4\n'))).toEqual([
      [1, ['h', 'h']],
      [2, ['!csvSyntax']],
      [3, ['!csvSyntax']],
      [4, ['3', '4']],
    ]);
  });

  it('refuses lines too long and lines that are not UTF-8', () => {
    const splitter = new LineSplitter(8);
    const lines: Line[] = [];
    splitter.push(Buffer.concat([Buffer.from('h\n0123456789abc\nok\n'), Buffer.from([0xc3, 0x28, 0x0a])]), lines);
    splitter.end(lines);
    const parser = new CsvRecordParser();
    const out: CsvItem[] = [];
    for (const l of lines) parser.push(l, out);
    parser.end(out);
    expect(records(out)).toEqual([
      [1, ['h']],
      [2, ['!lineTooLong']],
      [3, ['ok']],
      [4, ['!invalidUtf8']],
    ]);
  });
});
