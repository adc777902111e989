import { DEPARTMENTS_BY_KIND, SOURCE_FACT_SUBTYPES } from '@qmcb/contracts';
import type { Department, FactKind } from '@qmcb/contracts';
import { personKeyFor, validateCitizenId, villagesOf } from '@qmcb/domain';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { ValidationError } from 'class-validator';
import { createHash } from 'crypto';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parseCsvLine } from './files';
import { MANIFEST_FILE, TRUTH_FILE, generate } from './generate';
import { FILES } from './model';
import type { Manifest, TruthRow } from './model';
import { DEFAULT_OPTIONS, DEFAULT_RATES } from './options';
import type { SynthRates } from './options';

const dirs: string[] = [];
function run(people: number, seed: number): { dir: string; manifest: Manifest } {
  const dir = mkdtempSync(join(tmpdir(), 'qmcb-synth-'));
  dirs.push(dir);
  return { dir, manifest: generate({ ...DEFAULT_OPTIONS, people, seed, out: dir }) };
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const has = (t: TruthRow, prefix: string): boolean => t.injected.some((i) => i === prefix || i.startsWith(`${prefix}:`));
const lines = (path: string): string[] => readFileSync(path, 'utf8').split('\n').slice(0, -1);
const truthOf = (dir: string): TruthRow[] => lines(join(dir, TRUTH_FILE)).map((l) => JSON.parse(l) as TruthRow);
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

const BOOLEAN_FIELDS = new Set(['receivingBenefit', 'employed', 'active', 'enrolled', 'inCustody']);
const NUMBER_FIELDS = new Set(['monthlyWage', 'expectedGraduationYear']);

/** A CSV row as the record of POST /records it stands for (empty cell = absent). */
function csvRecord(header: string[], fields: string[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  const facts: Record<string, unknown> = {};
  header.forEach((column, i) => {
    const cell = fields[i];
    if (cell === '') return;
    if (['sourceRecordId', 'citizenId', 'mode', 'asOf'].includes(column)) record[column] = cell;
    else if (BOOLEAN_FIELDS.has(column)) facts[column] = cell === 'true' ? true : cell === 'false' ? false : cell;
    else if (NUMBER_FIELDS.has(column)) facts[column] = Number(cell);
    else facts[column] = cell;
  });
  facts.kind = fields[header.indexOf('kind')];
  record.facts = facts;
  return record;
}

function rulesOf(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => [...Object.keys(e.constraints ?? {}), ...rulesOf(e.children ?? [])]);
}

/** The contract's verdict on a record: [] when valid, else the rules it breaks. */
function contractRules(record: Record<string, unknown>, department: Department): string[] {
  const facts = record.facts as { kind?: string };
  const subtype = SOURCE_FACT_SUBTYPES.find((s) => s.name === facts.kind);
  if (!subtype) return ['isIn'];
  const cls: new () => object = subtype.value;
  const rules = rulesOf(validateSync(plainToInstance(cls, facts), { whitelist: true, forbidNonWhitelisted: true }));
  if (typeof record.sourceRecordId !== 'string' || typeof record.citizenId !== 'string') rules.push('isString');
  if (record.mode !== 'snapshot' && record.mode !== 'change') rules.push('isIn');
  if (typeof record.asOf !== 'string' || Number.isNaN(Date.parse(record.asOf))) rules.push('isISO8601');
  if (rules.length === 0 && !DEPARTMENTS_BY_KIND[facts.kind as FactKind].includes(department)) rules.push('kindNotAllowed');
  return rules;
}

describe('synthetic population generator', () => {
  const small = run(3000, 7);
  const big = run(20_000, 11);

  it('is deterministic from the seed: the same files byte for byte', () => {
    const again = run(3000, 7);
    for (const path of [...FILES.map((f) => f.path), TRUTH_FILE, MANIFEST_FILE]) {
      expect(sha(join(again.dir, path))).toBe(sha(join(small.dir, path)));
    }
    const other = run(3000, 8);
    expect(sha(join(other.dir, TRUTH_FILE))).not.toBe(sha(join(small.dir, TRUTH_FILE)));
  });

  it('writes one truth row per person (and per record keyed by a mistyped ID), keyed as the service keys them', () => {
    for (const { dir, manifest } of [small, big]) {
      const truth = truthOf(dir);
      expect(truth).toHaveLength(manifest.truth.rows);
      const typos = truth.filter((t) => t.injected.some((i) => i.startsWith('id-typo-of:')));
      expect(truth.length).toBe(manifest.people + typos.length);
      expect(new Set(truth.map((t) => t.personKey)).size).toBe(truth.length);
      const wrong = truth.filter((t) => {
        const injectedInvalid = t.injected.includes('invalid-citizen-id') || t.injected.some((i) => i.startsWith('id-typo-of:'));
        return t.personKey !== personKeyFor(t.citizenId) || validateCitizenId(t.citizenId).ok === injectedInvalid || t.personKey.startsWith('X-') !== injectedInvalid;
      });
      expect(wrong).toEqual([]);
      expect(truth.filter((t) => t.injected.includes('invalid-citizen-id')).length).toBeGreaterThan(0);
    }
  });

  it('marks nearly every person deterministic: only the open question of a conflicting echo (oracle.ts, 5), or a false link', () => {
    const open = truthOf(big.dir).filter((t) => !t.deterministic);
    expect(open.length).toBeLessThan(big.manifest.truth.rows * 0.002);
    expect(open.filter((t) => (!t.injected.includes('higher-registry-echo:ended') && !t.openQuestion?.includes('mistyped ID')) || !t.openQuestion)).toEqual([]);
    expect(truthOf(big.dir).filter((t) => t.deterministic).length).toBe(big.manifest.truth.deterministic);
  });

  it('mistypes IDs in three ways and expects most records linked to their owner, who is then flagged to confirm the correction', () => {
    const truth = truthOf(big.dir);
    const typos = truth.filter((t) => has(t, 'id-typo-of'));
    const { linking } = big.manifest;
    expect(linking.typos).toBe(typos.length);
    expect(Object.keys(linking.byKind).sort()).toEqual(['check-character', 'one-digit', 'transposition']);
    expect(Object.values(linking.byKind).reduce((s, n) => s + n, 0)).toBe(typos.length);
    expect(linking.expectedLinked).toBe(typos.filter((t) => t.expectedLink).length);
    const toOwner = typos.filter((t) => t.expectedLink === t.injected[0]?.slice('id-typo-of:'.length));
    expect(linking.expectedToOwner).toBe(toOwner.length);
    expect(toOwner.length).toBeGreaterThan(typos.length * 0.6);
    const byKey = new Map(truth.map((t) => [t.personKey, t]));
    for (const t of toOwner) {
      const owner = byKey.get(t.expectedLink as string) as TruthRow;
      // The correction to confirm, unless an exemption or a benefit after death masks it.
      if (owner.expectedOutcome !== 'exempt' && !owner.expectedReasons.includes('BENEFIT_AFTER_DEATH')) expect(owner.expectedReasons).toContain('INACCURATE_CITIZEN_ID');
      expect(t.expectedCoverage?.pension).toEqual({ status: 'exempt', reason: 'LINKED', regions: [] });
      expect(t.inPopulation).toBe(false);
    }
  });

  it('gives every compared person a status per insurance type, students, military and prisoners outside the pension denominator', () => {
    const truth = truthOf(big.dir);
    for (const t of truth) {
      expect({ key: t.personKey, compared: t.expectedCoverage !== null }).toEqual({ key: t.personKey, compared: t.expectedOutcome !== 'none' });
      if (t.expectedOutcome === 'none' || !t.deterministic) continue;
      const pension = t.expectedCoverage?.pension;
      if (t.expectedReasons.includes('EXEMPT_MILITARY')) expect(pension).toEqual({ status: 'exempt', reason: 'MILITARY', regions: [] });
      if (t.expectedReasons.includes('EXEMPT_PRISONER')) expect(pension).toEqual({ status: 'exempt', reason: 'PRISONER', regions: [] });
      if (t.expectedReasons.includes('EXEMPT_STUDENT')) expect(pension).toEqual({ status: 'exempt', reason: 'STUDENT', regions: [] });
      if (t.expectedReasons.includes('UNINSURED')) expect(t.expectedCoverage?.medical.status).toBe('not-insured');
      if (t.expectedReasons.includes('AGE_60_NO_PENSION')) expect(pension?.status).toBe('not-insured');
      const elsewhere = t.injected.find((i) => i.startsWith('insured-elsewhere:'))?.split(':')[1];
      if (elsewhere && pension?.status !== 'exempt') {
        expect(pension?.regions).toContain(elsewhere);
        if (!t.injected.some((i) => i.startsWith('duplicate-'))) expect(pension?.status).toBe('insured-elsewhere');
      }
    }
    const students = truth.filter((t) => t.expectedCoverage?.pension.reason === 'STUDENT').length;
    expect(students).toBeGreaterThan(100);
  });

  it('writes files whose good rows keep the contract, with real village codes, and whose bad rows and repeats match the manifest', () => {
    const villages = new Set(villagesOf(small.manifest.county).map((v) => v.code));
    const ghosts = new Set(small.manifest.absentCitizenIds);
    for (const report of small.manifest.files) {
      const fileLines = lines(join(small.dir, report.path));
      const csv = report.format === 'csv';
      const header = csv ? (parseCsvLine(fileLines[0]) as string[]) : [];
      expect(fileLines.length).toBe(report.rows + (csv ? 1 : 0));
      const bad = new Map(report.badRows.map((b) => [b.line, b]));
      expect(bad.size).toBe(report.expected.quarantined);
      expect(report.expected.quarantined).toBeGreaterThanOrEqual(DEFAULT_OPTIONS.minBadRowsPerFile);
      const seen = new Set<string>();
      let accepted = 0;
      let duplicates = 0;
      fileLines.forEach((line, i) => {
        const lineNo = i + 1;
        if (csv && lineNo === 1) return;
        const parsed: Record<string, unknown> | null = csv
          ? ((f) => (f && f.length === header.length ? csvRecord(header, f) : null))(parseCsvLine(line))
          : ((): Record<string, unknown> | null => {
              try {
                return JSON.parse(line) as Record<string, unknown>;
              } catch {
                return null;
              }
            })();
        const badRow = bad.get(lineNo);
        if (badRow) {
          expect(ghosts.has(String(parsed?.citizenId ?? line.split(/[,"]/).find((x) => /^\d{17}[\dX]$/.test(x))))).toBe(true);
          if (badRow.reason === 'malformed-line') {
            expect(parsed).toBeNull();
            return;
          }
          expect(parsed).not.toBeNull();
          const rules = contractRules(parsed as Record<string, unknown>, report.department);
          if (badRow.reason === 'unknown-village') {
            expect(rules).toEqual([]);
            expect(villages.has(String((parsed?.facts as { villageCode: string }).villageCode))).toBe(false);
          } else {
            expect(rules[0]).toBe(badRow.rule);
          }
          return;
        }
        expect(parsed).not.toBeNull();
        const record = parsed as Record<string, unknown>;
        expect([lineNo, contractRules(record, report.department)]).toEqual([lineNo, []]);
        const facts = record.facts as { kind: FactKind; villageCode?: string };
        expect(report.kinds).toContain(facts.kind);
        if (facts.kind === 'household') expect(villages.has(facts.villageCode as string)).toBe(true);
        if (seen.has(line)) duplicates += 1;
        else accepted += 1;
        seen.add(line);
      });
      expect({ path: report.path, accepted, duplicates }).toEqual({ path: report.path, accepted: report.expected.accepted, duplicates: report.expected.duplicates });
      expect(report.expected.accepted + report.expected.duplicates + report.expected.quarantined).toBe(report.rows);
    }
  });

  it('injects each case at its configured rate among its eligible people (within 4 standard errors)', () => {
    const camel = (name: string): keyof SynthRates => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()) as keyof SynthRates;
    const checked: string[] = [];
    for (const [name, { count, eligible }] of Object.entries(big.manifest.injected)) {
      const rate = DEFAULT_RATES[camel(name)];
      expect([name, typeof rate]).toEqual([name, 'number']);
      if (eligible < 300) continue;
      const observed = count / eligible;
      const tolerance = 4 * Math.sqrt((rate * (1 - rate)) / eligible) + 0.001;
      expect({ name, observed: Math.abs(observed - rate) <= tolerance }).toEqual({ name, observed: true });
      checked.push(name);
    }
    expect(checked).toEqual(expect.arrayContaining(['uninsured', 'partly-insured-employee', 'medical-no-pension', 'age-60-no-pension', 'name-typo', 'missing-phone', 'deceased', 'employed']));
  });

  it('comes out near the 高州 shares: ≈6% uninsured, ≈7.6% wrong or missing information', () => {
    const truth = truthOf(big.dir);
    const share = (pred: (t: TruthRow) => boolean): number => truth.filter(pred).length / truth.length;
    expect(share((t) => t.expectedReasons.includes('UNINSURED') || t.expectedReasons.includes('EXEMPT_STUDENT'))).toBeGreaterThan(0.045);
    expect(share((t) => t.expectedReasons.includes('UNINSURED') || t.expectedReasons.includes('EXEMPT_STUDENT'))).toBeLessThan(0.075);
    const wrong = share((t) => t.expectedReasons.some((c) => c.startsWith('INACCURATE_') || c.startsWith('MISSING_')));
    expect(wrong).toBeGreaterThan(0.06);
    expect(wrong).toBeLessThan(0.095);
  });

  it('every injection shows as its reason unless a higher outcome masks it, and every reason has its injection', () => {
    const pairs: [string, string][] = [
      ['invalid-citizen-id', 'INACCURATE_CITIZEN_ID'],
      ['name-typo', 'INACCURATE_NAME'],
      ['sex-mismatch', 'INACCURATE_SEX'],
      ['birth-date-mismatch', 'INACCURATE_BIRTH_DATE'],
      ['missing-address', 'MISSING_ADDRESS'],
      ['duplicate-pension', 'DUPLICATE_PENSION'],
      ['duplicate-medical', 'DUPLICATE_MEDICAL'],
      ['duplicate-region', 'DUPLICATE_REGION'],
      ['partly-insured-employee', 'PARTLY_INSURED_EMPLOYEE'],
      ['student-uninsured', 'EXEMPT_STUDENT'],
    ];
    let shown = 0;
    for (const t of truthOf(big.dir)) {
      if (has(t, 'id-typo-of')) {
        // A record under a mistyped ID: linked to the person the scoring finds, else a person of its own.
        expect([t.personKey.startsWith('X-'), t.expectedReasons[0]]).toEqual([true, t.expectedLink ? 'LINKED_TO_PERSON' : 'INACCURATE_CITIZEN_ID']);
        continue;
      }
      // The person without the record that went to the mistyped ID: whatever it carried is missing.
      if (has(t, 'id-typo-in-one-source')) continue;
      const masked = t.expectedOutcome === 'exempt' || t.expectedReasons.includes('BENEFIT_AFTER_DEATH');
      for (const [injection, code] of pairs) {
        if (has(t, injection) && !masked && code !== 'EXEMPT_STUDENT') {
          expect({ injected: t.injected, reasons: t.expectedReasons, code }).toEqual({ injected: t.injected, reasons: expect.arrayContaining([code]), code });
          shown += 1;
        }
        // An employee without any insurance (uninsured) also lacks unemployment and work injury.
        const explained = has(t, injection) || (code === 'PARTLY_INSURED_EMPLOYEE' && has(t, 'uninsured'));
        if (t.expectedReasons.includes(code as TruthRow['expectedReasons'][number])) expect({ code, injected: t.injected, explained }).toEqual({ code, injected: t.injected, explained: true });
      }
      const missingPhone = has(t, 'missing-phone') && !has(t, 'phone-added-by-change');
      if (!masked) expect({ id: t.citizenId, missingPhone }).toEqual({ id: t.citizenId, missingPhone: t.expectedReasons.includes('MISSING_PHONE') });
      if (has(t, 'uninsured') && !masked) expect(t.expectedReasons).toContain('UNINSURED');
      if (t.expectedReasons.includes('BENEFIT_AFTER_DEATH')) expect(has(t, 'benefit-after-death') || has(t, 'deceased-by-change')).toBe(true);
      if (t.expectedOutcome === 'exempt') {
        expect(['deceased', 'moved-out', 'military', 'prisoner', 'moved-out-by-change', 'deceased-by-change', 'student-uninsured'].some((p) => has(t, p))).toBe(true);
      }
      if (t.expectedOutcome === 'none') expect(t.injected).toContain('non-local:tax-only');
    }
    expect(shown).toBeGreaterThan(1000);
  });

  it('puts a few of every kind of bad row in, and repeats rows', () => {
    const reasons = new Set(big.manifest.files.flatMap((f) => f.badRows.map((b) => b.reason)));
    expect([...reasons].sort()).toEqual(['invalid-field', 'kind-not-allowed', 'malformed-line', 'unknown-village']);
    expect(big.manifest.files.reduce((s, f) => s + f.expected.duplicates, 0)).toBeGreaterThan(20);
    expect(big.manifest.absentCitizenIds.length).toBe(big.manifest.files.reduce((s, f) => s + f.expected.quarantined, 0));
  });
});
