import { FACT_KINDS, SOURCE_FACT_SUBTYPES } from '@qmcb/contracts';
import type { FactKind } from '@qmcb/contracts';
import { getMetadataStorage } from 'class-validator';
import type { Violation } from '../record-admission';

/** The record columns of a CSV file, in any order; every other column is a fact field (design page). */
export const RECORD_COLUMNS = ['sourceRecordId', 'citizenId', 'mode', 'asOf', 'kind'] as const;

interface FieldTypes {
  booleans: ReadonlySet<string>;
  numbers: ReadonlySet<string>;
}

/** Which fact fields of each kind are booleans and numbers, read from the contracts' validators. */
function fieldTypesByKind(): Record<FactKind, FieldTypes> {
  const out = {} as Record<FactKind, FieldTypes>;
  for (const { value, name } of SOURCE_FACT_SUBTYPES) {
    const booleans = new Set<string>();
    const numbers = new Set<string>();
    for (const m of getMetadataStorage().getTargetValidationMetadatas(value, '', true, false)) {
      if (m.name === 'isBoolean') booleans.add(m.propertyName);
      if (m.name === 'isNumber' || m.name === 'isInt') numbers.add(m.propertyName);
    }
    out[name as FactKind] = { booleans, numbers };
  }
  return out;
}

/** Every fact field name of any kind (the columns a CSV file may carry besides RECORD_COLUMNS). */
function factFieldNames(): ReadonlySet<string> {
  const names = new Set<string>();
  for (const { value } of SOURCE_FACT_SUBTYPES) {
    for (const m of getMetadataStorage().getTargetValidationMetadatas(value, '', true, false)) names.add(m.propertyName);
  }
  names.delete('kind');
  return names;
}

export const FIELD_TYPES: Readonly<Record<FactKind, FieldTypes>> = fieldTypesByKind();
export const FACT_FIELDS: ReadonlySet<string> = factFieldNames();

const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A cell as the contract types it: `true`/`false` for a boolean field, a number for a numeric one.
 * Anything else stays the string it was, so validation names the field and the rule it breaks.
 */
export function typedCell(kind: string, field: string, cell: string): string | number | boolean {
  const types = (FACT_KINDS as readonly string[]).includes(kind) ? FIELD_TYPES[kind as FactKind] : undefined;
  if (!types) return cell;
  if (types.booleans.has(field)) return cell === 'true' ? true : cell === 'false' ? false : cell;
  if (types.numbers.has(field) && NUMBER.test(cell)) return Number(cell);
  return cell;
}

export class CsvHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvHeaderError';
  }
}

export type ConvertedRow = { ok: true; record: Record<string, unknown> } | { ok: false; violations: Violation[] };

/**
 * The header row of a CSV file, and the conversion of each following row into a record of
 * `POST /records`: an empty cell is absent, booleans and numbers typed, fact fields under `facts`.
 */
export class CsvHeader {
  readonly columns: readonly string[];
  private readonly recordIndex: Record<(typeof RECORD_COLUMNS)[number], number>;
  private readonly factColumns: readonly { index: number; name: string }[];

  /** Throws CsvHeaderError when a record column is missing, a column is unknown, empty or repeated. */
  constructor(fields: readonly string[]) {
    this.columns = fields.map((f) => f.trim());
    const seen = new Set<string>();
    for (const [i, name] of this.columns.entries()) {
      if (!name) throw new CsvHeaderError(`header column ${i + 1} is empty`);
      if (seen.has(name)) throw new CsvHeaderError(`header column '${name}' appears twice`);
      if (!(RECORD_COLUMNS as readonly string[]).includes(name) && !FACT_FIELDS.has(name)) {
        throw new CsvHeaderError(`header column '${name}' is neither a record column (${RECORD_COLUMNS.join(', ')}) nor a fact field of any kind`);
      }
      seen.add(name);
    }
    const missing = RECORD_COLUMNS.filter((c) => !seen.has(c));
    if (missing.length) throw new CsvHeaderError(`the header lacks the column(s) ${missing.join(', ')}`);
    this.recordIndex = Object.fromEntries(RECORD_COLUMNS.map((c) => [c, this.columns.indexOf(c)])) as CsvHeader['recordIndex'];
    this.factColumns = this.columns.flatMap((name, index) => ((RECORD_COLUMNS as readonly string[]).includes(name) ? [] : [{ index, name }]));
  }

  toRecord(fields: readonly string[]): ConvertedRow {
    if (fields.length !== this.columns.length) {
      return {
        ok: false,
        violations: [{ field: '(row)', rule: 'columnCount', message: `the row has ${fields.length} columns, the header ${this.columns.length}` }],
      };
    }
    const record: Record<string, unknown> = {};
    for (const name of ['sourceRecordId', 'citizenId', 'mode', 'asOf'] as const) {
      const cell = fields[this.recordIndex[name]];
      if (cell !== '') record[name] = cell;
    }
    const kind = fields[this.recordIndex.kind];
    const facts: Record<string, unknown> = {};
    if (kind !== '') facts['kind'] = kind;
    for (const { index, name } of this.factColumns) {
      const cell = fields[index];
      if (cell !== '') facts[name] = typedCell(kind, name, cell);
    }
    record['facts'] = facts;
    return { ok: true, record };
  }
}
