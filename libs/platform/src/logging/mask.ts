/*
 * Personal data never reaches a log line unmasked (docs/security.md, Masking). Two nets:
 * patterns in any string (citizen IDs, mobile numbers), and keys that name personal fields.
 */

import { FIELD_LABELS, NOT_INSURED_REASON_LABELS, REASON_LABELS, SURVEY_REASON_LABELS } from '@qmcb/domain';

const CITIZEN_ID_18 = /(?<!\d)(\d{6})(\d{8})(\d{3}[\dXx])(?![\dXx])/g;
const CITIZEN_ID_15 = /(?<!\d)(\d{6})(\d{5})(\d{4})(?!\d)/g;
const MOBILE = /(?<!\d)(\+?86[- ]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)/g;

const stars = (n: number): string => '*'.repeat(Math.max(n, 1));

/** Masks citizen IDs (first 6 + last 4 kept) and mobile numbers (first 3 + last 4 kept) in free text. */
export function maskText(text: string): string {
  return text
    .replace(CITIZEN_ID_18, (_m, head: string, mid: string, tail: string) => `${head}${stars(mid.length)}${tail}`)
    .replace(CITIZEN_ID_15, (_m, head: string, mid: string, tail: string) => `${head}${stars(mid.length)}${tail}`)
    .replace(MOBILE, (_m, prefix: string | undefined, head: string, _mid: string, tail: string) => `${prefix ?? ''}${head}****${tail}`);
}

// Runs of Chinese characters (CJK unified ideographs, extension A, compatibility).
const HAN_RUN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/gu;

/**
 * Common Chinese surnames (the single-character ones covering nearly everyone, and the compound
 * ones): a run of two to four characters starting with one is taken for a name.
 */
const SURNAMES = new Set(
  [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文施洪辛柯庄甘牛祝包宁尚符舒阮聂柴单纪俞鲁欧季葛米岳左翟窦游蓝伍谷储尤麦樊殷齐焦涂苗温凌安蒙贝卓管鲍耿刁关裴靳景屈邢车应凤滕时詹缪宫项喻房洛池童匡盛霍晏丛饶佟连宗华殳容卞谈伏昌'].concat(
    ['欧阳', '司马', '上官', '诸葛', '东方', '皇甫', '尉迟', '公孙', '慕容', '长孙', '令狐', '宇文', '司徒', '夏侯', '轩辕', '端木', '独孤', '南宫', '西门', '申屠'],
  ),
);

/** Characters of an address: a run of five or more holding one is masked as an address is. */
const ADDRESS_MARK = /[省市县区旗镇乡村街道路巷弄号栋幢楼室组苑院]/u;
/** A division's or a place's own name (高州市, 石鼓镇, 新塘村): not personal by itself. */
const PLACE_NAME = /^[\u3400-\u9fff]{1,4}[省市县区旗镇乡村]$/u;

/**
 * Ordinary words the services themselves put into messages: relations in a household, statuses,
 * the labels of record items, reasons and not-insured reasons (`@qmcb/domain`), split into runs.
 */
const VOCABULARY: ReadonlySet<string> = new Set([
  ...'户主 配偶 丈夫 妻子 子 女 儿子 女儿 长子 次子 长女 次女 孙子 孙女 外孙 外孙子 外孙女 父亲 母亲 父母 祖父 祖母 外祖父 外祖母 兄弟 姐妹 哥哥 弟弟 姐姐 妹妹 儿媳 女婿 公公 婆婆 岳父 岳母 侄子 侄女 孙媳 曾孙 其他 亲属 非亲属'.split(' '),
  ...'正常 迁出 迁入 死亡 注销 停保 参保 在职 退休 失业 暂停 终止 待遇 缴费 本户 本人 户籍 户口 户内 成员 已 未 男 女 是 否 汉族'.split(' '),
  ...[...Object.values(REASON_LABELS), ...Object.values(SURVEY_REASON_LABELS)].flatMap((l) => [l.label, l.explanation]).flatMap(hanRuns),
  ...Object.values(NOT_INSURED_REASON_LABELS).flatMap(hanRuns),
  ...Object.values(FIELD_LABELS).flatMap(hanRuns),
]);

function hanRuns(text: string): string[] {
  return text.match(HAN_RUN) ?? [];
}

function surnameOf(run: string): boolean {
  const chars = [...run];
  return SURNAMES.has(chars[0] ?? '') || SURNAMES.has(chars.slice(0, 2).join(''));
}

/** One run of Chinese characters in free text: a name or an address masked, anything else kept. */
function maskHanRun(run: string): string {
  const length = [...run].length;
  if (length < 2 || VOCABULARY.has(run)) return run;
  if (PLACE_NAME.test(run)) return run;
  if (length >= 5 && ADDRESS_MARK.test(run)) return maskAddressValue(run);
  if (surnameOf(run)) return maskNameValue(run);
  return run;
}

/**
 * maskText, and the names and addresses in Chinese in it: for free text kept for a long time (the
 * audit trail's `detail`), where a name or an address may have been put into a message. A run of
 * two or more Chinese characters that starts with a surname is masked as a name (`李小宝` → `李**`),
 * one of five or more with an address character as an address (`广东省茂名市****`); ordinary words
 * (the relations, statuses and labels the services use, a place's own name like `高州市`) are kept:
 * `李** is already a member of this household (孙女)`.
 */
export function maskFreeText(text: string): string {
  return maskText(text).replace(HAN_RUN, (run) => maskHanRun(run));
}

type KeyRule = (value: string) => string;

function maskCitizenIdValue(value: string): string {
  return value.length > 10 ? `${value.slice(0, 6)}${stars(value.length - 10)}${value.slice(-4)}` : stars(value.length);
}

function maskPhoneValue(value: string): string {
  const digits = value.replace(/\D/g, '');
  if (/^1[3-9]\d{9}$/.test(digits.slice(-11)) && digits.length <= 13) return `${digits.slice(-11, -8)}****${digits.slice(-4)}`;
  return value.length > 4 ? `${stars(value.length - 4)}${value.slice(-4)}` : stars(value.length);
}

function maskNameValue(value: string): string {
  // A fixed-width mask: the length of a name is itself a clue.
  const chars = [...value];
  return chars.length > 1 ? `${chars[0]}**` : '*';
}

function maskBirthDateValue(value: string): string {
  // The year alone: with the division, a full birth date narrows a person down to a handful.
  return /^\d{4}/.test(value) ? `${value.slice(0, 4)}-**-**` : '****';
}

function maskAddressValue(value: string): string {
  // Province and city (the first 6 characters) are kept only for a long address.
  const chars = [...value];
  return chars.length > 10 ? `${chars.slice(0, 6).join('')}****` : '****';
}

/** Keys whose values are personal whatever they look like. */
function ruleForKey(key: string): KeyRule | undefined {
  const k = key.toLowerCase();
  if (k.startsWith('citizenid') || k === 'idnumber' || k === 'idcard') return maskCitizenIdValue;
  if (k === 'name' || k === 'fullname' || k === 'realname') return maskNameValue;
  if (k.endsWith('address')) return maskAddressValue;
  if (k.endsWith('phone') || k === 'mobile') return maskPhoneValue;
  if (k === 'birthdate' || k === 'dateofbirth') return maskBirthDateValue;
  return undefined;
}

const MAX_DEPTH = 10;

function walk(value: unknown, rule: KeyRule | undefined, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'string') return rule ? rule(value) : maskText(value);
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (rule) return rule(String(value));
    const text = String(value);
    const masked = maskText(text);
    return masked === text ? value : masked;
  }
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `[Buffer ${value.length} bytes]`;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => walk(v, rule, seen, depth + 1));
    if (value instanceof Error) {
      return { name: value.name, message: walk(value.message, rule, seen, depth + 1), stack: walk(value.stack ?? '', rule, seen, depth + 1) };
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, rule ?? ruleForKey(k), seen, depth + 1);
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * A copy of `value` safe to log: citizen IDs (18 and 15 digits) keep their first 6 and last 4
 * characters, mobile numbers their first 3 and last 4, and every value under a key named
 * name / address / phone / citizenId* (recursively, whatever its shape) is masked by its kind.
 */
export function maskPersonalData(value: unknown): unknown {
  return walk(value, undefined, new WeakSet(), 0);
}
