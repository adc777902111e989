import { DEPARTMENTS_BY_KIND, FACT_KINDS } from '@qmcb/contracts';
import type { FactKind } from '@qmcb/contracts';
import { closeSync, mkdirSync, openSync, writeSync } from 'fs';
import { dirname, join } from 'path';
import { CONTENT_TYPES, ENVELOPE_COLUMNS, FACT_FIELDS } from './model';
import type { BadRow, BadRowReason, Facts, FileReport, FileSpec, SourceRecord } from './model';
import type { Rng } from './prng';

/** CSV header of a file: the envelope, then the fact fields of its kinds by their contract names. */
export function csvColumns(kinds: readonly FactKind[]): string[] {
  const columns: string[] = [...ENVELOPE_COLUMNS];
  for (const kind of kinds) for (const field of FACT_FIELDS[kind]) if (!columns.includes(field)) columns.push(field);
  return columns;
}

/** RFC 4180: quoted when it holds a comma, quote, line break or leading/trailing white space. */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const s = typeof value === 'string' ? value : String(value);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function envelope(record: SourceRecord): Record<string, unknown> {
  return { sourceRecordId: record.sourceRecordId, citizenId: record.citizenId, mode: record.mode, asOf: record.asOf, ...record.facts };
}

export function csvLine(columns: readonly string[], record: SourceRecord): string {
  const values = envelope(record);
  return columns.map((c) => csvCell(values[c])).join(',');
}

/** Exactly a record of `POST /records` (the department comes from the API key). */
export function ndjsonLine(record: SourceRecord): string {
  return JSON.stringify({ sourceRecordId: record.sourceRecordId, citizenId: record.citizenId, mode: record.mode, asOf: record.asOf, facts: record.facts });
}

const BUFFER_LIMIT = 1 << 20;

export interface BadRowSource {
  /** A fresh valid citizen ID that no person of the population has. */
  ghostCitizenId(): string;
  /** A real village code of the county, and one of the right shape that is no village. */
  realVillage(): string;
  unknownVillage(): string;
  county: string;
  asOf: string;
}

/**
 * One department file, written as records arrive (never held whole): good rows, some of them again
 * later in the file (exact repeats: duplicates), and bad rows in between that the loader must
 * quarantine. Counts everything for the manifest.
 */
export class DepartmentFile {
  private readonly fd: number;
  private readonly columns: string[];
  private buffer: string[] = [];
  private buffered = 0;
  private lines = 0;
  private good = 0;
  private duplicates = 0;
  private readonly badRows: BadRow[] = [];
  private readonly repeats: { due: number; line: string }[] = [];

  constructor(
    readonly spec: FileSpec,
    outDir: string,
    private readonly rng: Rng,
    private readonly rates: { repeatedRow: number; badRow: number; minBadRows: number },
    private readonly bad: BadRowSource,
  ) {
    const path = join(outDir, spec.path);
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'w');
    this.columns = csvColumns(spec.kinds);
    if (spec.format === 'csv') {
      this.buffer.push(`${this.columns.join(',')}\n`);
      this.lines += 1;
    }
  }

  private raw(line: string): void {
    this.buffer.push(`${line}\n`);
    this.buffered += line.length + 1;
    this.lines += 1;
    if (this.buffered >= BUFFER_LIMIT) this.flush();
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    writeSync(this.fd, this.buffer.join(''));
    this.buffer = [];
    this.buffered = 0;
  }

  write(record: SourceRecord): void {
    if (this.rng.chance(this.rates.badRow)) this.writeBad();
    const line = this.spec.format === 'csv' ? csvLine(this.columns, record) : ndjsonLine(record);
    this.raw(line);
    this.good += 1;
    if (this.rng.chance(this.rates.repeatedRow)) this.repeats.push({ due: this.good + this.rng.int(0, 200), line });
    this.releaseRepeats(false);
  }

  private releaseRepeats(all: boolean): void {
    for (let i = 0; i < this.repeats.length; ) {
      if (all || this.repeats[i].due <= this.good) {
        this.raw(this.repeats[i].line);
        this.duplicates += 1;
        this.repeats.splice(i, 1);
      } else {
        i += 1;
      }
    }
  }

  private reasonsHere(): BadRowReason[] {
    if (this.spec.kinds.includes('household')) return ['invalid-field', 'unknown-village', 'malformed-line'];
    if (this.spec.format === 'csv') return ['malformed-line', 'invalid-field'];
    return ['malformed-line', 'invalid-field', 'kind-not-allowed'];
  }

  private writeBad(): void {
    const reasons = this.reasonsHere();
    const reason = reasons[this.badRows.length % reasons.length];
    const n = this.badRows.length + 1;
    const kind = this.spec.kinds[0];
    const citizenId = this.bad.ghostCitizenId();
    const record: SourceRecord = {
      department: this.spec.department,
      sourceRecordId: `BAD-${this.spec.id}-${n}`,
      citizenId,
      mode: 'snapshot',
      asOf: this.bad.asOf,
      facts: this.template(kind, citizenId),
    };
    let line: string;
    let detail: string;
    let rule: string | null;
    switch (reason) {
      case 'malformed-line': {
        if (this.spec.format === 'csv') {
          line = csvLine(this.columns, record).split(',').slice(0, 5).join(',');
          detail = `5 fields where the header has ${this.columns.length}`;
          rule = 'columnCount';
        } else {
          const full = ndjsonLine(record);
          line = full.slice(0, Math.floor(full.length / 2));
          detail = 'JSON cut off in the middle';
          rule = 'json';
        }
        break;
      }
      case 'invalid-field': {
        const broken = this.broken(record.facts);
        record.facts = broken.facts;
        detail = broken.detail;
        rule = broken.rule;
        line = this.spec.format === 'csv' ? csvLine(this.columns, record) : ndjsonLine(record);
        break;
      }
      case 'unknown-village': {
        const code = this.bad.unknownVillage();
        record.facts = { ...(record.facts as Facts & { kind: 'household' }), villageCode: code };
        detail = `villageCode ${code} has 12 digits but is no village of the county`;
        rule = null;
        line = csvLine(this.columns, record);
        break;
      }
      case 'kind-not-allowed': {
        const other = FACT_KINDS.find((k) => !DEPARTMENTS_BY_KIND[k].includes(this.spec.department)) as FactKind;
        record.facts = this.template(other, citizenId);
        detail = `kind ${other} may not be sent by ${this.spec.department}`;
        rule = 'kindNotAllowed';
        line = ndjsonLine(record);
        break;
      }
    }
    this.raw(line);
    this.badRows.push({ line: this.lines, reason, rule, detail });
  }

  /** A valid fact of `kind` for a ghost person (then broken, or sent by the wrong department). */
  private template(kind: FactKind, citizenId: string): Facts {
    switch (kind) {
      case 'household': {
        // As the ghost's ID says: were the row accepted, only its missing insurance would show.
        const birthDate = `${citizenId.slice(6, 10)}-${citizenId.slice(10, 12)}-${citizenId.slice(12, 14)}`;
        const sex = Number(citizenId[16]) % 2 === 1 ? 'male' : 'female';
        return { kind, name: '林测试', sex, birthDate, villageCode: this.bad.realVillage(), status: 'normal', phone: '13900000000', address: `${this.bad.county}无此地址` };
      }
      case 'insurance': {
        const type = this.spec.id.startsWith('medical') ? 'medical' : this.spec.id === 'unemployment' ? 'unemployment' : this.spec.id === 'work-injury' ? 'work-injury' : this.spec.id === 'maternity' ? 'maternity' : 'pension';
        const scheme = this.spec.id.endsWith('resident') ? 'resident' : type === 'pension' || type === 'medical' ? 'employee' : 'single';
        return { kind, insuranceType: type, scheme, status: 'active', region: this.spec.department === 'higher-registry' ? '440106' : this.bad.county, since: '2020-01-01' };
      }
      case 'tax':
        return { kind, employed: true, employer: '测试有限公司', lastContributionMonth: '2026-10', monthlyWage: 3000 };
      case 'welfare':
        return { kind, category: 'minimum-living-allowance', active: true, since: '2020-01-01' };
      case 'death':
        return { kind, deathDate: '2026-01-01' };
      case 'enrolment':
        return { kind, enrolled: true, school: '测试学校', level: 'primary' };
      case 'custody':
        return { kind, inCustody: true, since: '2025-01-01' };
    }
  }

  /** The fact with one field its contract refuses. */
  private broken(facts: Facts): { facts: Facts; detail: string; rule: string } {
    // Deliberately off-contract values: typed loosely, as a department's export would be.
    const out: Record<string, unknown> = { ...facts };
    let detail: string;
    let rule = 'matches';
    switch (facts.kind) {
      case 'household':
        out.villageCode = facts.villageCode.slice(0, 11);
        detail = `villageCode ${String(out.villageCode)} has 11 digits`;
        break;
      case 'insurance':
        out.status = 'paused';
        detail = 'status paused is no insurance status';
        rule = 'isIn';
        break;
      case 'tax':
        out.lastContributionMonth = '2026/10';
        detail = 'lastContributionMonth 2026/10 is not YYYY-MM';
        break;
      case 'welfare':
        out.category = 'disabled';
        detail = 'category disabled is no welfare category';
        rule = 'isIn';
        break;
      case 'death':
        out.deathDate = '2026/01/01';
        detail = 'deathDate 2026/01/01 is not YYYY-MM-DD';
        break;
      case 'enrolment':
        out.level = 'kindergarten';
        detail = 'level kindergarten is no education level';
        rule = 'isIn';
        break;
      case 'custody':
        out.since = '2025.01.01';
        detail = 'since 2025.01.01 is not YYYY-MM-DD';
        break;
    }
    return { facts: out as unknown as Facts, detail, rule };
  }

  close(): FileReport {
    while (this.badRows.length < this.rates.minBadRows) this.writeBad();
    this.releaseRepeats(true);
    this.flush();
    closeSync(this.fd);
    const quarantinedByReason: Partial<Record<BadRowReason, number>> = {};
    const quarantinedByRule: Record<string, number> = {};
    for (const b of this.badRows) {
      quarantinedByReason[b.reason] = (quarantinedByReason[b.reason] ?? 0) + 1;
      if (b.rule !== null) quarantinedByRule[b.rule] = (quarantinedByRule[b.rule] ?? 0) + 1;
    }
    return {
      path: this.spec.path,
      department: this.spec.department,
      format: this.spec.format,
      contentType: CONTENT_TYPES[this.spec.format],
      kinds: this.spec.kinds,
      rows: this.lines - (this.spec.format === 'csv' ? 1 : 0),
      expected: { accepted: this.good, duplicates: this.duplicates, quarantined: this.badRows.length, quarantinedByReason, quarantinedByRule },
      badRows: this.badRows,
    };
  }
}

/** RFC 4180 for one physical line (the generator never puts a line break inside a field). */
export function parseCsvLine(line: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i += 1;
      for (;;) {
        if (i >= line.length) return null;
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        field += line[i];
        i += 1;
      }
      if (i < line.length && line[i] !== ',') return null;
    } else {
      while (i < line.length && line[i] !== ',') {
        if (line[i] === '"') return null;
        field += line[i];
        i += 1;
      }
    }
    fields.push(field);
    if (i >= line.length) return fields;
    i += 1;
  }
}
