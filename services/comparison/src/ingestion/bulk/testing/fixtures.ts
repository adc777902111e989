import { checkCharacter } from '@qmcb/domain';

/** Test data for the bulk loader's tests: records of POST /records and their CSV / NDJSON files. */

export type PlainRecord = {
  sourceRecordId: string;
  citizenId: string;
  mode: 'snapshot' | 'change';
  asOf: string;
  facts: Record<string, string | number | boolean>;
};

export const VILLAGE = '440981002001';
const COUNTY = VILLAGE.slice(0, 6);

/** A valid 18-digit citizen ID for person n (born 1950-1999, county 440981). */
export function citizenIdOf(n: number): string {
  const year = 1950 + (n % 50);
  const month = String(1 + (n % 12)).padStart(2, '0');
  const day = String(1 + (n % 28)).padStart(2, '0');
  const seq = String(n % 1000).padStart(3, '0');
  const first17 = `${COUNTY}${year}${month}${day}${seq}`;
  return `${first17}${checkCharacter(first17)}`;
}

const SURNAMES = ['李', '王', '张', '刘', '陈', '杨', '黄', '赵'];
const GIVEN = ['明', '芳', '伟', '秀英', '娜', '强', '磊', '静'];

/** A household record (public security) of person n. */
export function householdRecord(n: number, overrides: Partial<PlainRecord> = {}): PlainRecord {
  return {
    sourceRecordId: `HJ-${String(n).padStart(8, '0')}`,
    citizenId: citizenIdOf(n),
    mode: 'snapshot',
    asOf: '2026-11-01T00:00:00Z',
    facts: {
      kind: 'household',
      name: `${SURNAMES[n % SURNAMES.length]}${GIVEN[(n >> 3) % GIVEN.length]}`,
      sex: n % 2 === 0 ? 'female' : 'male',
      villageCode: VILLAGE,
      address: `广东省高州市石仔岭街道南宫居委会 ${n % 500} 号, "东区"`,
      hukouType: 'agricultural',
      status: 'normal',
      ...(n % 3 === 0 ? { phone: `138${String(n % 100_000_000).padStart(8, '0')}` } : {}),
    },
    ...overrides,
  };
}

/** A death record (public security may send it too) of person n. */
export function deathRecord(n: number): PlainRecord {
  return { sourceRecordId: `SW-${n}`, citizenId: citizenIdOf(n), mode: 'snapshot', asOf: '2026-11-02T00:00:00Z', facts: { kind: 'death', deathDate: '2026-10-30' } };
}

export const CSV_COLUMNS = ['sourceRecordId', 'citizenId', 'mode', 'asOf', 'kind', 'name', 'sex', 'villageCode', 'address', 'hukouType', 'status', 'phone', 'deathDate', 'employed'];

/** One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break. */
export function csvCell(value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(record: PlainRecord, columns: readonly string[] = CSV_COLUMNS): string {
  return columns
    .map((c) => {
      if (c === 'kind') return csvCell(record.facts['kind']);
      if (c === 'sourceRecordId' || c === 'citizenId' || c === 'mode' || c === 'asOf') return csvCell(record[c]);
      return csvCell(record.facts[c]);
    })
    .join(',');
}

export function csvHeader(columns: readonly string[] = CSV_COLUMNS): string {
  return columns.join(',');
}

/** NDJSON line with the facts' keys in reverse order: event IDs must not depend on key order. */
export function ndjsonLine(record: PlainRecord): string {
  const facts = Object.fromEntries(Object.entries(record.facts).reverse());
  return JSON.stringify({ facts, asOf: record.asOf, mode: record.mode, citizenId: record.citizenId, sourceRecordId: record.sourceRecordId });
}
