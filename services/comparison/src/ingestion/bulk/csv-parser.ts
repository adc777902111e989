import type { Line } from './line-splitter';

/** A bad row: where it starts, its text, and why it was refused. */
export interface RowError {
  ok: false;
  line: number;
  raw: string;
  rule: string;
  message: string;
}

export interface CsvRecord {
  ok: true;
  /** The physical line the record starts on (a quoted field may span lines). */
  line: number;
  fields: string[];
  /** The record's text as it was in the file (lines joined by their own terminators). */
  raw: string;
}

export type CsvItem = CsvRecord | RowError;

export const CSV_RULES = {
  syntax: 'csvSyntax',
  unclosedQuote: 'csvUnclosedQuote',
  lineTooLong: 'lineTooLong',
  invalidUtf8: 'invalidUtf8',
} as const;

export interface CsvParserOptions {
  /** A record whose quoted field is still open after this many lines or characters is refused. */
  maxRecordLines?: number;
  maxRecordChars?: number;
}

type FieldsResult = { kind: 'fields'; fields: string[] } | { kind: 'open' } | { kind: 'error'; message: string };

/**
 * The fields of one record (RFC 4180: comma, `"` quoting, `""` for a quote inside a quoted field).
 * `open` when a quoted field is not closed by the end of the text (it continues on the next line).
 * A quote inside an unquoted field, or anything but a comma after a closing quote, is an error.
 */
export function parseCsvFields(text: string): FieldsResult {
  const fields: string[] = [];
  const n = text.length;
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === 34 /* " */) {
      let value = '';
      i += 1;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return { kind: 'open' };
        value += text.slice(i, q);
        if (text.charCodeAt(q + 1) === 34) {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === n) return { kind: 'fields', fields };
      if (text.charCodeAt(i) !== 44 /* , */) {
        return { kind: 'error', message: `unexpected character after a closing quote in field ${fields.length}` };
      }
      i += 1;
    } else {
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? n : comma;
      const value = text.slice(i, end);
      if (value.includes('"')) {
        return { kind: 'error', message: `a quote inside unquoted field ${fields.length + 1}: a field with quotes must be quoted, with "" for each quote` };
      }
      fields.push(value);
      if (comma < 0) return { kind: 'fields', fields };
      i = comma + 1;
    }
    if (i === n) {
      fields.push('');
      return { kind: 'fields', fields };
    }
  }
}

/**
 * Lines to CSV records, incrementally. Blank lines between records are skipped. A record that does
 * not parse costs only its first physical line: that line is refused (with its reason) and the lines
 * after it are parsed again as records, so an unbalanced quote never swallows the good rows below it.
 * Memory: one record in progress, at most `maxRecordLines` lines / `maxRecordChars` characters.
 */
export class CsvRecordParser {
  private pending: Line[] = [];
  private pendingChars = 0;
  private readonly maxRecordLines: number;
  private readonly maxRecordChars: number;

  constructor(options: CsvParserOptions = {}) {
    this.maxRecordLines = options.maxRecordLines ?? 100;
    this.maxRecordChars = options.maxRecordChars ?? 64 * 1024;
  }

  push(line: Line, out: CsvItem[]): void {
    if (this.pending.length > 0) {
      this.continueRecord(line, out);
      return;
    }
    if (line.truncated) {
      out.push(lineError(line, CSV_RULES.lineTooLong, 'the line is longer than the limit of one record'));
      return;
    }
    if (line.text.length === 0) return;
    if (line.text.includes('\uFFFD')) {
      out.push(lineError(line, CSV_RULES.invalidUtf8, 'the line is not valid UTF-8'));
      return;
    }
    if (!line.text.includes('"')) {
      out.push({ ok: true, line: line.line, fields: line.text.split(','), raw: line.text });
      return;
    }
    const result = parseCsvFields(line.text);
    if (result.kind === 'fields') out.push({ ok: true, line: line.line, fields: result.fields, raw: line.text });
    else if (result.kind === 'error') out.push(lineError(line, CSV_RULES.syntax, result.message));
    else {
      this.pending = [line];
      this.pendingChars = line.text.length;
    }
  }

  /** At the end of the input: a record still open is refused by its first line, the rest parsed again. */
  end(out: CsvItem[]): void {
    while (this.pending.length > 0) this.refuseFirstPendingLine(out, CSV_RULES.unclosedQuote, 'a quoted field is not closed');
  }

  private continueRecord(line: Line, out: CsvItem[]): void {
    this.pending.push(line);
    this.pendingChars += line.text.length + 2;
    if (line.truncated || line.text.includes('\uFFFD')) {
      this.refuseFirstPendingLine(out, CSV_RULES.unclosedQuote, 'a quoted field is not closed on this line');
      return;
    }
    const text = this.pending.map((l, i) => (i < this.pending.length - 1 ? l.text + l.terminator : l.text)).join('');
    const result = parseCsvFields(text);
    if (result.kind === 'fields') {
      const first = this.pending[0];
      this.pending = [];
      this.pendingChars = 0;
      out.push({ ok: true, line: first.line, fields: result.fields, raw: text });
    } else if (result.kind === 'error') {
      this.refuseFirstPendingLine(out, CSV_RULES.syntax, result.message);
    } else if (this.pending.length >= this.maxRecordLines || this.pendingChars > this.maxRecordChars) {
      this.refuseFirstPendingLine(out, CSV_RULES.unclosedQuote, 'a quoted field is not closed within the limits of one record');
    }
  }

  private refuseFirstPendingLine(out: CsvItem[], rule: string, message: string): void {
    const [first, ...rest] = this.pending;
    this.pending = [];
    this.pendingChars = 0;
    out.push(lineError(first, rule, message));
    for (const l of rest) this.push(l, out);
  }
}

function lineError(line: Line, rule: string, message: string): RowError {
  return { ok: false, line: line.line, raw: line.text, rule, message };
}
