import type { Sex } from '@qmcb/contracts';
import type { Rng } from './prng';

/**
 * Names, places and employers for a county in western Guangdong (高州 and its neighbours). Surname
 * weights follow the common surnames of Maoming; given-name characters are split by sex as they
 * mostly are in practice.
 */

export const SURNAMES: readonly (readonly [string, number])[] = [
  ['陈', 12], ['李', 9], ['黄', 8], ['梁', 7], ['张', 6], ['林', 6], ['刘', 5], ['吴', 4], ['杨', 4], ['何', 4],
  ['罗', 4], ['邓', 3], ['冯', 3], ['谢', 3], ['周', 3], ['钟', 3], ['叶', 3], ['莫', 3], ['庞', 2], ['曾', 2],
  ['朱', 2], ['赖', 2], ['潘', 2], ['劳', 1], ['谭', 1], ['彭', 1], ['麦', 1], ['卢', 1], ['蔡', 1], ['揭', 1],
  ['欧阳', 1], ['司徒', 0.3],
];

const MALE_CHARS = '伟强军杰勇明华建国志文斌峰波辉俊磊海涛鹏飞超亮宇浩晖锋家荣德康永健坤耀';
const FEMALE_CHARS = '芳丽娟敏静艳霞玲婷燕红萍丹秀英慧梅琳雪婉珍凤玉兰桂琴颖佩美嘉';

/** Homophones and look-alikes a clerk types instead (the typo of "inaccurate name"). */
const TYPO_PAIRS: readonly (readonly [string, string])[] = [
  ['伟', '玮'], ['明', '铭'], ['华', '桦'], ['军', '君'], ['杰', '洁'], ['勇', '永'], ['峰', '锋'], ['波', '博'],
  ['辉', '晖'], ['俊', '骏'], ['磊', '垒'], ['海', '凯'], ['涛', '滔'], ['鹏', '朋'], ['超', '潮'], ['亮', '良'],
  ['芳', '芬'], ['丽', '莉'], ['娟', '鹃'], ['敏', '民'], ['静', '靖'], ['艳', '燕'], ['霞', '侠'], ['玲', '琳'],
  ['婷', '亭'], ['萍', '苹'], ['秀', '绣'], ['英', '瑛'], ['慧', '惠'], ['梅', '玫'], ['雪', '血'], ['珍', '真'],
  ['陈', '程'], ['李', '黎'], ['黄', '王'], ['梁', '良'], ['张', '章'], ['林', '琳'], ['刘', '柳'], ['吴', '伍'],
];
const TYPO: ReadonlyMap<string, string> = new Map(TYPO_PAIRS.flatMap(([a, b]) => [[a, b], [b, a]] as const));

export function givenName(rng: Rng, sex: Sex): string {
  const pool = sex === 'male' ? MALE_CHARS : FEMALE_CHARS;
  const first = pool[rng.int(0, pool.length - 1)];
  if (rng.chance(0.18)) return first;
  return first + pool[rng.int(0, pool.length - 1)];
}

/**
 * The name as mistyped by one department: one character replaced by a homophone or look-alike
 * (or, when none is known, by another name character). Always differs from `name`, also after
 * trimming and full-width→half-width folding.
 */
export function typoOf(rng: Rng, name: string): string {
  const chars = [...name];
  const candidates = chars.map((c, i) => (TYPO.has(c) ? i : -1)).filter((i) => i >= 0);
  if (candidates.length > 0) {
    const i = rng.pick(candidates);
    chars[i] = TYPO.get(chars[i]) as string;
    return chars.join('');
  }
  const i = chars.length - 1;
  const pool = [...MALE_CHARS + FEMALE_CHARS].filter((c) => c !== chars[i]);
  chars[i] = rng.pick(pool);
  return chars.join('');
}

/** The same name as a system that pads or uses full-width spaces keeps it: must compare equal. */
export function paddedName(rng: Rng, name: string): string {
  return rng.weighted<string>([
    [`${name} `, 3],
    [` ${name}`, 1],
    [`${name}\u3000`, 3],
    [`\u3000${name}`, 1],
  ]);
}

export const ETHNICITIES: readonly (readonly [string, number])[] = [
  ['汉族', 97.5],
  ['壮族', 1],
  ['瑶族', 1],
  ['苗族', 0.5],
];

/** Counties outside 高州 where its people are insured (higher registry) or come from (citizen IDs). */
export const ELSEWHERE_REGIONS: readonly string[] = ['440106', '440305', '440604', '441302', '440902'];
/** Where the citizen IDs of people born outside 高州 were first issued: Maoming neighbours first. */
export const BIRTH_DIVISIONS_NEARBY: readonly (readonly [string, number])[] = [
  ['440982', 4], ['440983', 3], ['440902', 2], ['440904', 1],
];
/** Where non-local workers insured in 高州 come from. */
export const BIRTH_DIVISIONS_FAR: readonly string[] = ['450881', '451102', '450921', '450923', '431003', '510722', '360726'];

const BRANDS = '茂高南华信达源丰盛兴泰宏鑫隆昌富荣旺德佳恒升';
const TRADES = ['农产品加工', '荔枝贸易', '建材', '电子', '服装', '物流', '食品', '家具', '五金', '水泥', '陶瓷', '电器', '医药', '建筑工程'];
const CREDIT_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** GB 32100 check character of the first 17 characters of a unified social credit code. */
export function creditCodeCheck(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += CREDIT_CHARSET.indexOf(first17[i]) * CREDIT_WEIGHTS[i];
  return CREDIT_CHARSET[(31 - (sum % 31)) % 31];
}

export interface Employer {
  name: string;
  creditCode: string;
  region: string;
}

/** Employer number `n` of a county: the same name and credit code for the same (seed, county, n). */
export function employer(seed: number, county: string, n: number): Employer {
  const brand = BRANDS[(n * 7 + seed) % BRANDS.length] + BRANDS[(n * 13 + (seed >>> 3)) % BRANDS.length];
  const trade = TRADES[(n * 5 + (seed >>> 5)) % TRADES.length];
  // 91 (enterprise), the registering county, MA and a 7-digit number: 17 characters, then the check.
  const first17 = `91${county}MA${String(n % 10_000_000).padStart(7, '0')}`;
  return { name: `${county === '440981' ? '高州市' : ''}${brand}${trade}有限公司${n}`, creditCode: first17 + creditCodeCheck(first17), region: county };
}

export function mobilePhone(rng: Rng): string {
  return `1${rng.pick(['3', '5', '7', '8', '9'])}${rng.digits(9)}`;
}

/** A village name as people write it in an address: 村委会 → 村, 居委会 → 社区. */
export function shortVillageName(name: string): string {
  return name.replace(/村民委员会$|村委会$/, '村').replace(/居民委员会$|居委会$/, '社区');
}
