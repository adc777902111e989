import { INSURANCE_TYPES } from '@qmcb/contracts';
import { NOT_INSURED_REASONS } from '@qmcb/contracts';
import type { CoverageReason, CoverageStatus, InsuranceType, NotInsuredReason, Outcome } from '@qmcb/contracts';
import { NOT_INSURED_REASON_LABELS } from '@qmcb/domain';
import type { AreaFigures, Figure } from './figures';

/**
 * The layout of the reports a county statistics officer files (procedure §30: 报表及对应人员明细数据表),
 * with Chinese headers: the summary table (全民参保登记统计表) by area with a total row, and the
 * detail list (人员明细表) behind any figure. Pure: the writers (report-writers.ts) put it into CSV
 * and XLSX.
 */

export const TYPE_LABEL: Record<InsuranceType, string> = {
  pension: '养老保险',
  medical: '医疗保险',
  unemployment: '失业保险',
  'work-injury': '工伤保险',
  maternity: '生育保险',
};

export const STATUS_LABEL: Record<CoverageStatus, string> = {
  'insured-here': '本地参保',
  'insured-elsewhere': '异地参保',
  'not-insured': '未参保',
  'not-due': '不应参保',
  exempt: '不计入',
};

export const REASON_LABEL: Record<CoverageReason, string> = {
  NEVER_ENROLLED: '从未参保',
  LAPSED: '中断参保',
  UNDER_AGE: '未到参保年龄',
  NOT_EMPLOYED: '未就业',
  NOT_ASSESSED: '本地区不统计',
  DECEASED: '死亡',
  MOVED_OUT: '户籍迁出',
  MILITARY: '服兵役',
  PRISONER: '服刑',
  STUDENT: '在校学生',
  LINKED: '身份号码误录(已关联)',
};

/** 未参保原因 as the registration form names them: the domain's labels. */
export const SURVEYED_LABEL: Readonly<Record<NotInsuredReason, string>> = NOT_INSURED_REASON_LABELS;

export const OUTCOME_LABEL: Record<Outcome | 'none', string> = {
  registered: '直接确认登记',
  duplicate: '重复参保',
  'needs-survey': '需调查登记',
  exempt: '不计入(免于登记)',
  none: '未比对',
};

export type Cell = string | number | null;

export interface ReportTable {
  title: string;
  /** Lines above the table: who files it, as of when. */
  meta: string[];
  /** The first header row: groups of columns and how many each spans. */
  groups: { label: string; span: number }[];
  /** The second header row. */
  columns: string[];
  /** One row per area, then the total (合计). */
  rows: Cell[][];
}

const percent = (rate: number | null): Cell => (rate === null ? null : Math.round(rate * 10000) / 100);

const TYPE_COLUMNS = ['应参保人数', '本地参保', '异地参保', '未参保', '参保率(%)', '目标(%)', '差距(百分点)', '距目标人数'];
const NOT_INSURED_COLUMNS: [string, 'NEVER_ENROLLED' | 'LAPSED'][] = [['从未参保', 'NEVER_ENROLLED'], ['中断参保', 'LAPSED']];
const SURVEYED_COLUMNS: [string, NotInsuredReason | 'not-surveyed'][] = [...NOT_INSURED_REASONS.map((r): [string, NotInsuredReason] => [SURVEYED_LABEL[r], r]), ['原因未调查', 'not-surveyed']];
const PENSION_APART: [string, (a: AreaFigures) => number][] = [
  ['在校学生', (a) => a.types.pension.exemptByReason.STUDENT],
  ['服兵役', (a) => a.types.pension.exemptByReason.MILITARY],
  ['服刑', (a) => a.types.pension.exemptByReason.PRISONER],
  ['未到参保年龄', (a) => a.types.pension.notDueByReason.UNDER_AGE],
];

function row(area: AreaFigures, code: string, name: string): Cell[] {
  const cells: Cell[] = [code, name, area.population, area.registered, percent(area.registration.rate)];
  for (const type of INSURANCE_TYPES) {
    const t = area.types[type];
    cells.push(t.due, t.insuredHere, t.insuredElsewhere, t.notInsured, percent(t.coverage.rate), percent(t.target), t.gap === null ? null : Math.round(t.gap * 10000) / 100, t.shortOfTarget);
  }
  for (const type of INSURANCE_TYPES) for (const [, reason] of NOT_INSURED_COLUMNS) cells.push(area.types[type].notInsuredByReason[reason]);
  for (const [, reason] of SURVEYED_COLUMNS) cells.push(area.types.pension.notInsuredBySurveyedReason[reason]);
  for (const [, value] of PENSION_APART) cells.push(value(area));
  cells.push(area.agedWithoutPension);
  return cells;
}

/** 北京时间, minutes: how a date is written on a Chinese form. */
export function beijingTime(iso: string): string {
  const t = new Date(Date.parse(iso) + 8 * 3600_000).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 16)}`;
}

/** The summary table of a division as of a time (`areas` empty for a village: the total only). */
export function summaryTable(report: { total: AreaFigures; areas: AreaFigures[] }, asOf: string, madeAt: string): ReportTable {
  const { total } = report;
  const groups = [
    { label: '基本情况', span: 5 },
    ...INSURANCE_TYPES.map((t) => ({ label: TYPE_LABEL[t], span: TYPE_COLUMNS.length })),
    { label: '未参保原因', span: INSURANCE_TYPES.length * NOT_INSURED_COLUMNS.length },
    { label: '养老保险未参保原因(本人陈述)', span: SURVEYED_COLUMNS.length },
    { label: '不计入养老保险应参保人员', span: PENSION_APART.length },
    { label: '重点人员', span: 1 },
  ];
  const columns = [
    '地区代码',
    '地区名称',
    '户籍人口',
    '登记人数',
    '登记率(%)',
    ...INSURANCE_TYPES.flatMap(() => TYPE_COLUMNS),
    ...INSURANCE_TYPES.flatMap((t) => NOT_INSURED_COLUMNS.map(([label]) => `${TYPE_LABEL[t]}${label}`)),
    ...SURVEYED_COLUMNS.map(([label]) => `养老保险未参保:${label}`),
    ...PENSION_APART.map(([label]) => label),
    '60岁及以上未参加养老保险',
  ];
  return {
    title: '全民参保登记统计表',
    meta: [`填报单位:${total.name ?? ''}(${total.division})`, `统计时点:${beijingTime(asOf)}(北京时间)`, `制表时间:${beijingTime(madeAt)}`, '数据来源:全民参保登记库(信息比对)'],
    groups,
    columns,
    rows: [...report.areas.map((a) => row(a, a.division, a.name ?? '')), row(total, total.division, `合计(${total.name ?? total.division})`)],
  };
}

/** The flat header of a CSV: each column under its group (`养老保险-参保率(%)`). */
export function flatColumns(table: Pick<ReportTable, 'groups' | 'columns'>): string[] {
  const out: string[] = [];
  let i = 0;
  for (const group of table.groups) {
    for (let k = 0; k < group.span; k += 1, i += 1) {
      const column = table.columns[i] as string;
      out.push(group.label === '基本情况' || group.label === '重点人员' || group.label === '未参保原因' || group.label === '养老保险未参保原因(本人陈述)' || group.label === '不计入养老保险应参保人员' ? column : `${group.label}-${column}`);
    }
  }
  return out;
}

// ---- the detail list behind a figure

export interface DetailItem {
  /** The person ID of `GET /persons/:personId` (opaque, never the citizen ID); not a column of the CSV/XLSX report. */
  personId: string;
  /** The citizen ID masked (first 6 and last 4 kept): the person key, or the ID as sent for one keyed by a surrogate. */
  citizenIdMasked: string;
  /** First character kept. */
  nameMasked: string | null;
  village: string | null;
  villageName: string | null;
  /** Age on the date asked. */
  age: number | null;
  outcome: Outcome | 'none';
  /** 未参保原因 as the person gave it; null when never collected. */
  surveyedReason: NotInsuredReason | null;
  coverage: Record<InsuranceType, { status: CoverageStatus | null; reason: CoverageReason | null; regions: string[] }>;
  /** For newly covered or uncovered: the type's status at the start of the period. */
  statusBefore?: CoverageStatus | null;
}

export const DETAIL_COLUMNS = [
  '序号',
  '公民身份号码(脱敏)',
  '姓名(脱敏)',
  '户籍地村(社区)代码',
  '户籍地村(社区)',
  '年龄',
  '比对结果',
  '未参保原因(本人陈述)',
  ...INSURANCE_TYPES.flatMap((t) => [`${TYPE_LABEL[t]}状态`, `${TYPE_LABEL[t]}原因`, `${TYPE_LABEL[t]}参保地`]),
];

export function detailColumns(figure: Figure): string[] {
  return figure.kind === 'change' ? [...DETAIL_COLUMNS, `${TYPE_LABEL[figure.type]}期初状态`] : DETAIL_COLUMNS;
}

export function detailCells(item: DetailItem, index: number, figure: Figure): Cell[] {
  const cells: Cell[] = [index, item.citizenIdMasked, item.nameMasked, item.village, item.villageName, item.age, OUTCOME_LABEL[item.outcome], item.surveyedReason ? SURVEYED_LABEL[item.surveyedReason] : null];
  for (const t of INSURANCE_TYPES) {
    const c = item.coverage[t];
    cells.push(c.status ? STATUS_LABEL[c.status] : null, c.reason ? REASON_LABEL[c.reason] : null, c.regions.length > 0 ? c.regions.join(',') : null);
  }
  if (figure.kind === 'change') cells.push(item.statusBefore ? STATUS_LABEL[item.statusBefore] : null);
  return cells;
}

/** The title of a detail list: the figure in words. */
export function detailTitle(figure: Figure): string {
  switch (figure.kind) {
    case 'population':
      return '户籍人口明细表';
    case 'registered':
      return '已登记人员明细表';
    case 'not-registered':
      return '未登记人员明细表';
    case 'aged-without-pension':
      return '60岁及以上未参加养老保险人员明细表';
    case 'change':
      return `${TYPE_LABEL[figure.type]}${figure.direction === 'newly-covered' ? '新增参保' : '新增未参保'}人员明细表`;
    case 'surveyed':
      return `${TYPE_LABEL[figure.type]}未参保(${figure.reason === 'not-surveyed' ? '原因未调查' : `本人陈述:${SURVEYED_LABEL[figure.reason]}`})人员明细表`;
    case 'type': {
      const status = figure.status === 'due' ? '应参保' : figure.status === 'insured' ? '已参保' : STATUS_LABEL[figure.status];
      return `${TYPE_LABEL[figure.type]}${status}${figure.reason ? `(${REASON_LABEL[figure.reason]})` : ''}人员明细表`;
    }
  }
}
