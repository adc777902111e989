import type { SurveyStatus } from '@qmcb/domain';
import type { EmploymentStatus, InsuranceStatus, Scheme, VisitOutcome } from '@qmcb/contracts';

/** The Chinese words the ledgers print (the codes stay the API's). */
export const STATUS_LABELS: Readonly<Record<SurveyStatus, string>> = {
  open: '待调查',
  revisit: '待回访',
  submitted: '待初审',
  'initial-approved': '待审定',
  approved: '已审定入库',
  returned: '退回待补正',
  refused: '拒绝登记',
  away: '外出',
  'moved-out': '已迁出',
  'not-found': '查无此人',
  'death-claimed': '死亡待核实',
  deceased: '已死亡',
  closed: '已销号',
};

export const OUTCOME_LABELS: Readonly<Record<VisitOutcome, string>> = {
  collected: '已采集',
  refused: '拒绝',
  'nobody-home': '无人在家',
  away: '外出务工或居住',
  'moved-out': '已迁出',
  deceased: '已死亡',
  'not-found': '查无此人',
};

export const CLOSED_REASON_LABELS: Readonly<Record<string, string>> = {
  OUTCOME_REGISTERED: '已通过其他渠道登记',
  OUTCOME_EXEMPT: '不属于应参保人员',
  OUTCOME_DUPLICATE: '转重复参保处理',
};

export const SEX_LABELS: Readonly<Record<string, string>> = { male: '男', female: '女' };

export const EMPLOYMENT_LABELS: Readonly<Record<EmploymentStatus, string>> = {
  employed: '单位就业',
  'self-employed': '个体经营',
  flexible: '灵活就业',
  farmer: '务农',
  unemployed: '未就业',
  student: '在校学生',
  retired: '退休',
  other: '其他',
};

export const SCHEME_LABELS: Readonly<Record<Scheme, string>> = { employee: '职工', resident: '城乡居民', single: '' };
export const INSURANCE_STATUS_LABELS: Readonly<Record<InsuranceStatus, string>> = { active: '参保缴费', suspended: '暂停缴费', ended: '终止' };

/** Why a target was closed out (销号原因). */
export function closedOutReason(status: SurveyStatus, closedReason: string | null): string {
  if (status === 'approved') return '调查信息审定入库';
  if (status === 'deceased') return '死亡已核实';
  if (status === 'closed') return CLOSED_REASON_LABELS[closedReason ?? ''] ?? closedReason ?? '';
  return '';
}
