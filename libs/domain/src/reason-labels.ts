import type { ChangeField, NotInsuredReason } from '@qmcb/contracts';

/** A reason code in words a window clerk or surveyor reads to the person, and what to collect for it. */
export interface ReasonLabel {
  /** Short Chinese label (ledgers, lists). */
  label: string;
  /** One sentence a clerk can read out (procedure §13: the window pops up what is missing or inaccurate). */
  explanation: string;
  /** The record items to collect or check for it. */
  collect: ChangeField[];
}

/**
 * Every comparison reason code (docs/design/comparison-model.md) in Chinese. A code not listed
 * (a newer rule) falls back to the code itself, so nothing is hidden.
 */
export const REASON_LABELS: Readonly<Record<string, ReasonLabel>> = {
  BENEFIT_AFTER_DEATH: { label: '死亡后仍领取待遇', explanation: '登记为已死亡，但仍有待遇发放记录，需核实。', collect: ['deathDate'] },
  LINKED_TO_PERSON: { label: '身份号码误录(已关联本人)', explanation: '这些记录的身份号码录错，已关联到本人名下，由本人核实更正。', collect: [] },
  EXEMPT_DECEASED: { label: '已死亡', explanation: '登记为已死亡，不再作为参保对象。', collect: [] },
  EXEMPT_MOVED_OUT: { label: '户籍已迁出', explanation: '户籍已迁出本地，由迁入地登记。', collect: [] },
  EXEMPT_MILITARY: { label: '服兵役', explanation: '正在服兵役，暂不计入应参保人员。', collect: [] },
  EXEMPT_PRISONER: { label: '服刑', explanation: '正在服刑，暂不计入应参保人员。', collect: [] },
  EXEMPT_STUDENT: { label: '在校学生', explanation: '在校学生，养老保险暂不计入应参保。', collect: [] },
  DUPLICATE_PENSION: { label: '重复参加养老保险', explanation: '同时参加了两种养老保险，需保留一种。', collect: ['insurance'] },
  DUPLICATE_MEDICAL: { label: '重复参加医疗保险', explanation: '同时参加了两种医疗保险，需保留一种。', collect: ['insurance'] },
  DUPLICATE_REGION: { label: '多地重复参保', explanation: '在两个地区参加了同一险种，需核实并保留一处。', collect: ['insurance', 'insuredElsewhere'] },
  INACCURATE_CITIZEN_ID: { label: '身份号码有误', explanation: '登记的公民身份号码校验不通过（或有部门以录错的号码登记了本人），请核对身份证或户口簿。', collect: ['citizenId'] },
  INACCURATE_NAME: { label: '姓名不一致', explanation: '各部门登记的姓名不一致，请核对身份证。', collect: ['name'] },
  INACCURATE_SEX: { label: '性别不一致', explanation: '登记的性别与身份号码或其他部门不一致，请核对身份证。', collect: ['sex'] },
  INACCURATE_BIRTH_DATE: { label: '出生日期不一致', explanation: '登记的出生日期与身份号码或其他部门不一致，请核对身份证。', collect: ['birthDate'] },
  MISSING_PHONE: { label: '缺少联系电话', explanation: '没有手机号码，请登记本人常用手机号。', collect: ['phone'] },
  MISSING_ADDRESS: { label: '缺少常住地址', explanation: '没有常住地址，请登记现居住地址。', collect: ['residenceAddress', 'residenceDivision'] },
  UNINSURED: { label: '未参保', explanation: '没有任何参保记录，请了解未参保原因并动员参保。', collect: ['insurance', 'notInsuredReason', 'employmentStatus'] },
  PARTLY_INSURED_EMPLOYEE: { label: '职工未参全', explanation: '有工作单位但未参加全部职工险种，请核实就业和单位情况。', collect: ['insurance', 'employmentStatus', 'employer'] },
  PARTLY_INSURED_NO_PENSION: { label: '未参加养老保险', explanation: '有医疗保险但没有养老保险，请了解原因并动员参保。', collect: ['insurance', 'notInsuredReason'] },
  AGE_60_NO_PENSION: { label: '60岁以上无养老待遇', explanation: '已满60周岁但没有养老保险，需跟进。', collect: ['insurance', 'notInsuredReason'] },
  COMPLETE: { label: '信息完整', explanation: '信息完整准确，已直接确认参保登记。', collect: [] },
};

/** Reasons a survey target has that no comparison rule gives: a person found at a household visit (§18). */
export const SURVEY_REASON_LABELS: Readonly<Record<string, ReasonLabel>> = {
  FOUND_ON_SITE: {
    label: '入户新发现',
    explanation: '入户调查时新发现、不在调查名单上的人员，需填写全民参保登记表。',
    collect: ['citizenId', 'name', 'sex', 'birthDate', 'phone', 'residenceDivision', 'residenceAddress', 'employmentStatus', 'insurance', 'notInsuredReason', 'insuredElsewhere'],
  },
};

export function reasonLabel(code: string): ReasonLabel {
  return REASON_LABELS[code] ?? SURVEY_REASON_LABELS[code] ?? { label: code, explanation: code, collect: [] };
}

/** Coded reasons for not being insured (未参保原因) in Chinese. */
export const NOT_INSURED_REASON_LABELS: Readonly<Record<NotInsuredReason, string>> = {
  unwilling: '不愿参保',
  'cannot-afford': '经济困难',
  'insured-elsewhere': '已在外地参保',
  'not-aware': '不了解政策',
  'employer-not-enrolled': '单位未参保',
  student: '在校学生',
  military: '服兵役',
  'in-prison': '服刑',
  'too-old': '超龄',
  other: '其他',
};

/** The registration record's items (procedure §7) in Chinese, as the registration form names them. */
export const FIELD_LABELS: Readonly<Record<ChangeField, string>> = {
  citizenId: '公民身份号码',
  name: '姓名',
  sex: '性别',
  birthDate: '出生日期',
  ethnicity: '民族',
  hukouType: '户口性质',
  phone: '联系电话',
  residenceDivision: '常住所在地',
  residenceAddress: '常住地址',
  employmentStatus: '就业状态',
  employer: '工作单位',
  insurance: '现参保情况',
  notInsuredReason: '未参保原因',
  insuredElsewhere: '异地参保',
  deathDate: '死亡日期',
};
