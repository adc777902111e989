import { Injectable } from '@nestjs/common';
import type { Principal } from '@qmcb/auth';
import { INSURANCE_TYPES } from '@qmcb/contracts';
import type { ChangeFields, InsuranceType, UnknownField } from '@qmcb/contracts';
import { NOT_INSURED_REASON_LABELS, findDivision, reasonLabel } from '@qmcb/domain';
import { AuditService } from '@qmcb/platform';
import ExcelJS from 'exceljs';
import { once } from 'events';
import type { Writable } from 'stream';
import { DataSource } from 'typeorm';
import { CampaignsService, chinaToday } from '../campaigns/campaigns.service';
import type { LedgerFormat } from '../campaigns/campaigns.dto';
import { TeamRepository } from '../campaigns/team.repository';
import { SurveyTaskRepository } from '../targets/survey-task.repository';
import type { CampaignScope, TaskRow } from '../targets/survey-task.repository';
import type { TargetPerson } from '../targets/target-person';
import { SurveyVisitRepository } from '../visits/survey-visit.repository';
import { EMPLOYMENT_LABELS, INSURANCE_STATUS_LABELS, OUTCOME_LABELS, SCHEME_LABELS, SEX_LABELS, STATUS_LABELS, closedOutReason } from './ledger-labels';

/**
 * The two ledgers of a survey campaign, streamed page by page (never held whole) as CSV (UTF-8 with a
 * byte-order mark, so spreadsheet programs read the Chinese) or XLSX (exceljs' streaming writer):
 * - 个人信息汇总表 (procedure §19, 附件2): per village, one row per target with the registration form's
 *   items as collected (or as the record holds them before the visit), used as the working ledger;
 * - 整改台账 (seed 003: 逐一销号): one row per target with who is responsible, the visits, where it
 *   stands and whether, when and why it was closed out.
 */
export const LEDGER_KINDS = ['summary', 'rectification'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

export const LEDGER_TITLES: Record<LedgerKind, string> = { summary: '全民参保登记个人信息汇总表', rectification: '全民参保登记整改台账' };

interface LedgerInput {
  index: number;
  task: TaskRow;
  person: Partial<TargetPerson>;
  fields: ChangeFields;
  unknown: Map<string, string>;
  team: { name: string; members: Map<string, string> } | null;
}

type Column = [header: string, value: (r: LedgerInput) => string];

const PAGE = 1000;

const divisionName = (code: string | null | undefined): string => (code ? (findDivision(code)?.name ?? code) : '');
const day = (iso: string | null): string => (iso ? chinaToday(new Date(iso)) : '');

/** A form's item, or `不详（reason）` where the surveyor marked it unknown, else what the record holds. */
function item(r: LedgerInput, field: keyof ChangeFields, fromForm: (f: ChangeFields) => string | null, fromRecord: (p: Partial<TargetPerson>) => string | null = () => null): string {
  const why = r.unknown.get(field);
  if (why !== undefined) return `不详（${why}）`;
  if (r.fields[field] !== undefined) return fromForm(r.fields) ?? '';
  return fromRecord(r.person) ?? '';
}

function insuranceOf(r: LedgerInput, type: InsuranceType): string {
  if (r.unknown.has('insurance')) return `不详（${r.unknown.get('insurance')}）`;
  const entries = (r.fields.insurance ?? r.person.insurance ?? []).filter((i) => i.insuranceType === type);
  if (entries.length === 0) return '未参保';
  return entries.map((i) => `${SCHEME_LABELS[i.scheme as keyof typeof SCHEME_LABELS] ?? ''}${INSURANCE_STATUS_LABELS[i.status as keyof typeof INSURANCE_STATUS_LABELS] ?? i.status}（${i.region}）`).join('；');
}

const TYPE_LABELS: Record<InsuranceType, string> = { pension: '养老保险', medical: '医疗保险', unemployment: '失业保险', 'work-injury': '工伤保险', maternity: '生育保险' };

const surveyor = (r: LedgerInput): string => (r.task.responsibleId ? (r.team?.members.get(r.task.responsibleId) ?? r.task.responsibleId) : '未分配');
const reasons = (r: LedgerInput): string => r.task.reasons.map((c) => reasonLabel(c).label).join('、');
const lastOutcome = (r: LedgerInput): string => (r.task.lastOutcome ? OUTCOME_LABELS[r.task.lastOutcome] : '未走访');

const SUMMARY: Column[] = [
  ['序号', (r) => String(r.index)],
  ['乡镇（街道）', (r) => divisionName(r.task.townshipCode)],
  ['村（居）委会', (r) => divisionName(r.task.villageCode)],
  ['户号', (r) => r.person.householdNo ?? ''],
  ['姓名', (r) => item(r, 'name', (f) => f.name ?? null, (p) => p.name ?? null)],
  ['公民身份号码', (r) => item(r, 'citizenId', (f) => f.citizenId?.toUpperCase() ?? null, (p) => p.citizenId ?? null)],
  ['性别', (r) => item(r, 'sex', (f) => SEX_LABELS[f.sex ?? ''] ?? null, (p) => SEX_LABELS[p.sex ?? ''] ?? null)],
  ['出生日期', (r) => item(r, 'birthDate', (f) => f.birthDate ?? null, (p) => p.birthDate ?? null)],
  ['与户主关系', (r) => r.person.relation ?? ''],
  ['户口所在地', (r) => divisionName(r.person.hukouDivision)],
  ['常住所在地', (r) => item(r, 'residenceDivision', (f) => divisionName(f.residenceDivision), (p) => divisionName(p.residenceDivision))],
  ['常住地址', (r) => item(r, 'residenceAddress', (f) => f.residenceAddress ?? null, (p) => p.residenceAddress ?? p.hukouAddress ?? null)],
  ['联系电话', (r) => item(r, 'phone', (f) => f.phone ?? null, (p) => p.phone ?? null)],
  ['就业状态', (r) => item(r, 'employmentStatus', (f) => (f.employmentStatus ? EMPLOYMENT_LABELS[f.employmentStatus] : null))],
  ['工作单位', (r) => item(r, 'employer', (f) => f.employer?.name ?? null)],
  ...INSURANCE_TYPES.map((t): Column => [TYPE_LABELS[t], (r) => insuranceOf(r, t)]),
  ['未参保原因', (r) => item(r, 'notInsuredReason', (f) => (f.notInsuredReason ? NOT_INSURED_REASON_LABELS[f.notInsuredReason] : null))],
  ['异地参保', (r) => item(r, 'insuredElsewhere', (f) => (f.insuredElsewhere === undefined ? null : f.insuredElsewhere ? '是' : '否'))],
  ['调查原因', reasons],
  ['调查结果', lastOutcome],
  ['状态', (r) => STATUS_LABELS[r.task.status]],
  ['责任调查员', surveyor],
  ['调查组', (r) => r.team?.name ?? ''],
];

const RECTIFICATION: Column[] = [
  ['序号', (r) => String(r.index)],
  ['乡镇（街道）', (r) => divisionName(r.task.townshipCode)],
  ['村（居）委会', (r) => divisionName(r.task.villageCode)],
  ['姓名', (r) => r.fields.name ?? r.person.name ?? ''],
  ['公民身份号码', (r) => r.fields.citizenId?.toUpperCase() ?? r.person.citizenId ?? ''],
  ['存在问题', reasons],
  ['责任调查员', surveyor],
  ['调查组', (r) => r.team?.name ?? ''],
  ['走访次数', (r) => String(r.task.visits)],
  ['最近走访日期', (r) => day(r.task.lastVisitAt)],
  ['调查结果', lastOutcome],
  ['整改情况', (r) => STATUS_LABELS[r.task.status]],
  ['是否销号', (r) => (r.task.finishedAt ? '是' : '否')],
  ['销号日期', (r) => day(r.task.finishedAt)],
  ['销号原因', (r) => closedOutReason(r.task.status, r.task.closedReason)],
];

export const LEDGER_COLUMNS: Record<LedgerKind, readonly Column[]> = { summary: SUMMARY, rectification: RECTIFICATION };

/** One CSV field: quoted when it holds a comma, quote or line break (RFC 4180). */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

@Injectable()
export class LedgersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly campaigns: CampaignsService,
    private readonly tasks: SurveyTaskRepository,
    private readonly visits: SurveyVisitRepository,
    private readonly teams: TeamRepository,
    private readonly audit: AuditService,
  ) {}

  /**
   * Checks the caller may read the ledger (404 otherwise) before anything is sent; then the file name and
   * the rows to stream. A surveyor's ledger lists the targets assigned to them only (docs/security.md):
   * never their colleagues' or the unassigned ones of the division they ask about.
   */
  async open(principal: Principal, campaignId: string, kind: LedgerKind, division: string | undefined): Promise<{ fileName: string; rows: AsyncGenerator<string[]> }> {
    const scoped = await this.campaigns.scoped(principal, campaignId, division);
    const fileName = `${LEDGER_TITLES[kind]}-${divisionName(scoped.within)}-${chinaToday()}`;
    const responsibleId = principal.kind === 'person' && principal.role === 'surveyor' ? principal.sub : null;
    return { fileName, rows: this.rows(kind, scoped.campaign, scoped.within, responsibleId) };
  }

  private async *rows(kind: LedgerKind, campaign: CampaignScope, within: string, responsibleId: string | null): AsyncGenerator<string[]> {
    const columns = LEDGER_COLUMNS[kind];
    yield columns.map(([header]) => header);
    const manager = this.dataSource.manager;
    const teams = new Map((await this.teams.ofCampaign(manager, campaign.campaignId)).map((t) => [t.teamId, { name: t.name, members: new Map(t.members.map((m) => [m.surveyorId, m.name])) }]));
    let after: { villageCode: string; householdKey: string; taskId: string } | null = null;
    let index = 0;
    for (;;) {
      const page = await this.tasks.ledgerPage(manager, campaign, within, after, PAGE, responsibleId);
      if (page.length === 0) return;
      const forms = await this.visits.latestForms(manager, page.map((t) => t.taskId));
      // Audited before the page leaves: the export stops if its entry cannot be written.
      await this.audit.disclose(page.map((t) => t.personKey));
      for (const task of page) {
        const form = forms.get(task.taskId) as { request?: { fields?: ChangeFields; unknown?: UnknownField[] } } | undefined;
        index += 1;
        const input: LedgerInput = {
          index,
          task,
          person: task.person as Partial<TargetPerson>,
          fields: form?.request?.fields ?? {},
          unknown: new Map((form?.request?.unknown ?? []).map((u) => [u.field, u.reason])),
          team: task.teamId ? (teams.get(task.teamId) ?? null) : null,
        };
        yield columns.map(([, value]) => value(input));
      }
      const last = page[page.length - 1] as TaskRow;
      after = { villageCode: last.villageCode, householdKey: last.householdKey, taskId: last.taskId };
      if (page.length < PAGE) return;
    }
  }

  /** Writes the rows to `out` in the format, waiting whenever the client reads slower than we write. */
  async write(rows: AsyncGenerator<string[]>, format: LedgerFormat, sheetName: string, out: Writable): Promise<void> {
    if (format === 'csv') {
      let chunk = '\uFEFF';
      for await (const row of rows) {
        chunk += `${row.map(csvField).join(',')}\r\n`;
        if (chunk.length >= 64 * 1024) {
          if (!out.write(chunk)) await once(out, 'drain');
          chunk = '';
        }
      }
      out.end(chunk);
      return;
    }
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: false, useSharedStrings: false });
    const sheet = workbook.addWorksheet(sheetName.slice(0, 31));
    let n = 0;
    for await (const row of rows) {
      sheet.addRow(row).commit();
      n += 1;
      if (n % PAGE === 0 && out.writableNeedDrain) await once(out, 'drain');
    }
    sheet.commit();
    await workbook.commit();
  }
}
