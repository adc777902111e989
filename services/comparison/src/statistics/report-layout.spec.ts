import ExcelJS from 'exceljs';
import { PassThrough } from 'stream';
import { INSURANCE_TYPES } from '@qmcb/contracts';
import { childrenOf } from '@qmcb/domain';
import type { CountRow } from './figures';
import { reportOf } from './figures';
import { beijingTime, flatColumns, summaryTable } from './report-layout';
import { csvLine, summaryCsv, writeSummaryXlsx } from './report-writers';

const row = (area: string, n: number, pension: CountRow['statuses']['pension']): CountRow => ({
  area,
  outcome: 'registered',
  surveyedReason: null,
  aged: false,
  n,
  statuses: Object.fromEntries(INSURANCE_TYPES.map((t) => [t, t === 'pension' ? pension : { status: 'insured-here', reason: null }])) as CountRow['statuses'],
});
const TOWNSHIP = (childrenOf('440981')[0] as { code: string }).code;
const VILLAGE = (childrenOf(TOWNSHIP)[0] as { code: string }).code;
const report = reportOf(TOWNSHIP, [row(VILLAGE, 9, { status: 'insured-here', reason: null }), row(VILLAGE, 1, { status: 'not-insured', reason: 'LAPSED' })], { coverageTargets: { pension: 0.9 } });
const AS_OF = '2026-11-30T16:00:00.000Z';
const MADE = '2026-12-01T01:30:00.000Z';

describe('the summary report (全民参保登记统计表)', () => {
  const table = summaryTable(report, AS_OF, MADE);

  it('has a title, who and when in Beijing time, groups spanning every column, a row per area and the total last', () => {
    expect(table.title).toBe('全民参保登记统计表');
    expect(table.meta).toEqual([`填报单位:${report.total.name}(${TOWNSHIP})`, '统计时点:2026-12-01 00:00(北京时间)', '制表时间:2026-12-01 09:30', '数据来源:全民参保登记库(信息比对)']);
    expect(table.groups.reduce((s, g) => s + g.span, 0)).toBe(table.columns.length);
    expect(table.columns.slice(0, 13)).toEqual(['地区代码', '地区名称', '户籍人口', '登记人数', '登记率(%)', '应参保人数', '本地参保', '异地参保', '未参保', '参保率(%)', '目标(%)', '差距(百分点)', '距目标人数']);
    expect(table.rows).toHaveLength(report.areas.length + 1);
    const total = table.rows.at(-1) as unknown[];
    expect(report.total.name).toEqual(expect.any(String));
    expect(total.slice(0, 13)).toEqual([TOWNSHIP, `合计(${report.total.name})`, 10, 10, 100, 10, 9, 0, 1, 90, 90, 0, 0]);
    expect(total.at(-1)).toBe(0);
  });

  it('flattens the header for CSV: a type\'s columns under its name', () => {
    expect(flatColumns(table).slice(0, 7)).toEqual(['地区代码', '地区名称', '户籍人口', '登记人数', '登记率(%)', '养老保险-应参保人数', '养老保险-本地参保']);
    expect(new Set(flatColumns(table)).size).toBe(table.columns.length);
  });

  it('writes CSV with a byte order mark, RFC 4180 quoting and CRLF', () => {
    expect(csvLine(['a,b', 'say "hi"', null, 3])).toBe('"a,b","say ""hi""",,3\r\n');
    const csv = summaryCsv(table);
    expect(csv.startsWith('\ufeff全民参保登记统计表\r\n')).toBe(true);
    const lines = csv.slice(1).split('\r\n');
    expect(lines[5]).toBe('');
    expect(lines[6]).toBe(flatColumns(table).join(','));
    expect(lines.at(-2)?.split(',').slice(0, 5)).toEqual([TOWNSHIP, `合计(${report.total.name})`, '10', '10', '100']);
  });

  it('writes XLSX that reads back: title, merged group headers, the rows', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await writeSummaryXlsx(table, out);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(Buffer.concat(chunks));
    const sheet = workbook.getWorksheet('统计表');
    expect(sheet?.getCell('A1').value).toBe('全民参保登记统计表');
    expect(sheet?.getCell('A6').value).toBe('基本情况');
    expect(sheet?.getCell('F6').value).toBe('养老保险');
    expect(sheet?.getCell('G6').isMerged).toBe(true);
    expect(sheet?.getRow(7).values).toEqual([undefined, ...table.columns]);
    expect(sheet?.getRow(7 + table.rows.length).values).toEqual([undefined, ...(table.rows.at(-1) as unknown[]).map((v) => (v === null ? undefined : v))]);
    expect(beijingTime('2026-12-31T16:30:00Z')).toBe('2027-01-01 00:30');
  });
});
