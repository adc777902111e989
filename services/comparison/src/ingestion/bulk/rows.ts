import type { Department } from '@qmcb/contracts';
import { CsvRecordParser } from './csv-parser';
import type { CsvItem } from './csv-parser';
import { LineSplitter } from './line-splitter';
import type { Line } from './line-splitter';
import { buildEvent, ROW_RULES, validateSourceRecord } from '../record-admission';
import type { Violation } from '../record-admission';
import { CsvHeader, CsvHeaderError } from './row-conversion';
import type { ConvertedRow } from './row-conversion';
import type { EventContext, SourceRecordEvent } from '../source-record-event';

export const LOAD_FORMATS = ['csv', 'ndjson'] as const;
export type LoadFormat = (typeof LOAD_FORMATS)[number];

/** What one data row of a file became: an event to append, or a refusal with every reason. */
export type Row =
  | { ok: true; line: number; raw: string; event: SourceRecordEvent }
  | { ok: false; line: number; raw: string; violations: Violation[] };

/** The raw text of a refused row is kept up to this many characters. */
export const MAX_RAW_CHARS = 8 * 1024;

/** The upload itself failed (client went away, read error): not a problem of any row. */
export class InputStreamError extends Error {
  constructor(cause: unknown) {
    super(`reading the file failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'InputStreamError';
  }
}

export interface RowsOptions {
  format: LoadFormat;
  department: Department;
  /** The envelope fields of the events built (recordedAt is set per chunk of input). */
  context: Omit<EventContext, 'recordedAt' | 'department'>;
  maxLineChars?: number;
}

const cap = (raw: string): string => (raw.length > MAX_RAW_CHARS ? raw.slice(0, MAX_RAW_CHARS) : raw);

function refused(line: number, raw: string, violations: Violation[]): Row {
  return { ok: false, line, raw: cap(raw), violations };
}

/**
 * A byte stream to rows, one array per chunk of input: pulled on demand, so a slow consumer holds
 * the producer back (back-pressure) and memory stays at one chunk plus one record in progress.
 * CSV: the first record is the header (a bad header throws CsvHeaderError). NDJSON: one record of
 * `POST /records` per line. Blank lines are not rows.
 */
export async function* parseRows(source: AsyncIterable<Buffer | string>, options: RowsOptions): AsyncGenerator<Row[]> {
  const splitter = new LineSplitter(options.maxLineChars);
  const toRows = options.format === 'csv' ? csvRows(options) : ndjsonRows(options);
  const lines: Line[] = [];
  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<Buffer | string>;
      try {
        next = await iterator.next();
      } catch (e) {
        throw new InputStreamError(e);
      }
      lines.length = 0;
      if (next.done) splitter.end(lines);
      else splitter.push(next.value, lines);
      const rows = toRows(lines, next.done === true, new Date().toISOString());
      if (rows.length) yield rows;
      if (next.done) return;
    }
  } finally {
    // Stops the source (destroys a stream) when the consumer stops early.
    await iterator.return?.();
  }
}

type ToRows = (lines: readonly Line[], atEnd: boolean, recordedAt: string) => Row[];

function recordToRow(plain: unknown, line: number, raw: string, options: RowsOptions, recordedAt: string): Row {
  const checked = validateSourceRecord(plain, options.department);
  if (!checked.ok) return refused(line, raw, checked.violations);
  const built = buildEvent(checked.record, { ...options.context, department: options.department, recordedAt });
  return built.ok ? { ok: true, line, raw: cap(raw), event: built.event } : refused(line, raw, built.violations);
}

function csvRows(options: RowsOptions): ToRows {
  const parser = new CsvRecordParser();
  let header: CsvHeader | undefined;
  const items: CsvItem[] = [];
  return (lines, atEnd, recordedAt) => {
    items.length = 0;
    for (const line of lines) parser.push(line, items);
    if (atEnd) parser.end(items);
    const rows: Row[] = [];
    for (const item of items) {
      if (!header) {
        if (!item.ok) throw new CsvHeaderError(`the header row (line ${item.line}) does not parse: ${item.message}`);
        header = new CsvHeader(item.fields);
        continue;
      }
      if (!item.ok) {
        rows.push(refused(item.line, item.raw, [{ field: '(row)', rule: item.rule, message: item.message }]));
        continue;
      }
      const converted: ConvertedRow = header.toRecord(item.fields);
      rows.push(converted.ok ? recordToRow(converted.record, item.line, item.raw, options, recordedAt) : refused(item.line, item.raw, converted.violations));
    }
    if (atEnd && !header) throw new CsvHeaderError('the file is empty: a CSV file starts with a header row');
    return rows;
  };
}

function ndjsonRows(options: RowsOptions): ToRows {
  return (lines, _atEnd, recordedAt) => {
    const rows: Row[] = [];
    for (const l of lines) {
      if (l.truncated) {
        rows.push(refused(l.line, l.text, [{ field: '(row)', rule: 'lineTooLong', message: 'the line is longer than the limit of one record' }]));
        continue;
      }
      if (l.text.trim().length === 0) continue;
      if (l.text.includes('\uFFFD')) {
        rows.push(refused(l.line, l.text, [{ field: '(row)', rule: 'invalidUtf8', message: 'the line is not valid UTF-8' }]));
        continue;
      }
      let plain: unknown;
      try {
        plain = JSON.parse(l.text);
      } catch (e) {
        rows.push(refused(l.line, l.text, [{ field: '(row)', rule: ROW_RULES.json, message: `the line is not JSON: ${(e as Error).message}` }]));
        continue;
      }
      rows.push(recordToRow(plain, l.line, l.text, options, recordedAt));
    }
    return rows;
  };
}
