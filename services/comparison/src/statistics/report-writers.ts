import ExcelJS from 'exceljs';
import type { Writable } from 'stream';
import { flatColumns } from './report-layout';
import type { Cell, ReportTable } from './report-layout';

/**
 * CSV and XLSX of the reports (report-layout.ts). CSV: UTF-8 with a byte order mark (so that Excel
 * reads the Chinese headers), RFC 4180 quoting, CRLF. XLSX: exceljs' streaming writer, rows committed
 * as they are written, so a detail list of a million people is never in memory.
 */

export const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;
export type ReportFormat = keyof typeof CONTENT_TYPES;

export const BOM = '\ufeff';

export function csvCell(value: Cell): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: readonly Cell[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** The summary table as CSV: the title and what it is as one-cell lines, a blank line, one header row, the rows. */
export function summaryCsv(table: ReportTable): string {
  return BOM + [table.title, ...table.meta].map((line) => csvLine([line])).join('') + '\r\n' + csvLine(flatColumns(table)) + table.rows.map(csvLine).join('');
}

const BOLD = { bold: true } as const;

/** Writes the summary table as one worksheet: the title, the lines under it, two header rows (groups merged), the rows; the total row bold. */
export async function writeSummaryXlsx(table: ReportTable, stream: Writable): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream, useStyles: true, useSharedStrings: false });
  const sheet = workbook.addWorksheet('统计表', { views: [{ state: 'frozen', xSplit: 2, ySplit: 3 + table.meta.length }] });
  const width = table.columns.length;
  sheet.columns = table.columns.map((_, i) => ({ width: i < 2 ? 16 : 11 }));
  const title = sheet.addRow([table.title]);
  title.font = { bold: true, size: 16 };
  sheet.mergeCells(1, 1, 1, width);
  title.commit();
  for (const line of table.meta) sheet.addRow([line]).commit();
  const groupRow: Cell[] = [];
  for (const g of table.groups) groupRow.push(g.label, ...Array.from({ length: g.span - 1 }, () => null));
  const header1 = sheet.addRow(groupRow);
  header1.font = BOLD;
  let column = 1;
  const first = 2 + table.meta.length;
  for (const g of table.groups) {
    if (g.span > 1) sheet.mergeCells(first, column, first, column + g.span - 1);
    column += g.span;
  }
  header1.commit();
  const header2 = sheet.addRow(table.columns);
  header2.font = BOLD;
  header2.commit();
  table.rows.forEach((cells, i) => {
    const r = sheet.addRow(cells);
    if (i === table.rows.length - 1) r.font = BOLD;
    r.commit();
  });
  sheet.commit();
  await workbook.commit();
}

/** Rows of a detail list, written as they are fetched. */
export interface DetailWriter {
  write(rows: readonly Cell[][], items: readonly unknown[]): Promise<void>;
  end(): Promise<void>;
}

/** A text sink with back-pressure (the response), as the exchange export uses. */
export interface TextSink {
  write(chunk: string): Promise<void>;
  closed(): boolean;
}

export function csvDetailWriter(sink: TextSink, title: string, meta: readonly string[], columns: readonly string[]): DetailWriter {
  let started = false;
  return {
    async write(rows) {
      const head = started ? '' : BOM + [title, ...meta].map((l) => csvLine([l])).join('') + '\r\n' + csvLine(columns);
      started = true;
      await sink.write(head + rows.map(csvLine).join(''));
    },
    async end() {
      if (!started) await this.write([], []);
    },
  };
}

export function ndjsonDetailWriter(sink: TextSink): DetailWriter {
  return {
    async write(_rows, items) {
      if (items.length > 0) await sink.write(items.map((i) => `${JSON.stringify(i)}\n`).join(''));
    },
    async end() {
      // Nothing to close: one JSON object per line.
    },
  };
}

export function xlsxDetailWriter(stream: Writable, title: string, meta: readonly string[], columns: readonly string[]): DetailWriter {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream, useStyles: true, useSharedStrings: false });
  const sheet = workbook.addWorksheet('明细表', { views: [{ state: 'frozen', ySplit: 2 + meta.length }] });
  sheet.columns = columns.map((c) => ({ width: Math.max(8, Math.min(24, c.length * 2)) }));
  const t = sheet.addRow([title]);
  t.font = { bold: true, size: 14 };
  t.commit();
  for (const line of meta) sheet.addRow([line]).commit();
  const header = sheet.addRow([...columns]);
  header.font = BOLD;
  header.commit();
  return {
    async write(rows) {
      for (const cells of rows) sheet.addRow(cells).commit();
    },
    async end() {
      sheet.commit();
      await workbook.commit();
    },
  };
}
