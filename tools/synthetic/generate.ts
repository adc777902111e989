import { personKeyFor } from '@qmcb/domain';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'fs';
import { join } from 'path';
import { DepartmentFile } from './files';
import { FILES, LOAD_POSITION } from './model';
import type { FileId, FileReport, Manifest, SourceRecord, TruthRow } from './model';
import { expectedFor } from './oracle';
import type { SynthOptions } from './options';
import { Population } from './population';
import type { GeneratedPerson } from './population';
import { Rng } from './prng';

export const GENERATOR = 'qmcb-synthetic/1';
export const TRUTH_FILE = 'truth.ndjson';
export const MANIFEST_FILE = 'manifest.json';

/** A person's records in the order the loader sees them: by file in load order, then by line. */
export function inLoadOrder(person: GeneratedPerson): SourceRecord[] {
  return person.records
    .map((r, i) => ({ ...r, i }))
    .sort((a, b) => (LOAD_POSITION.get(a.file) as number) - (LOAD_POSITION.get(b.file) as number) || a.i - b.i)
    .map((r) => r.record);
}

/**
 * The truth rows of one generated person: one per person key their records fall under. Normally one;
 * a record with a mistyped ID makes a second "person" of its own (surrogate key), compared alone.
 */
export function truthFor(person: GeneratedPerson, county: string): TruthRow[] {
  const mainKey = personKeyFor(person.citizenId);
  const groups = new Map<string, SourceRecord[]>([[mainKey, []]]);
  for (const record of inLoadOrder(person)) {
    const key = personKeyFor(record.citizenId);
    const group = groups.get(key) ?? [];
    group.push(record);
    groups.set(key, group);
  }
  return [...groups].map(([personKey, records]) => {
    const main = personKey === mainKey;
    const expected = expectedFor(records, county);
    const row: TruthRow = {
      citizenId: main ? person.citizenId : records[0].citizenId,
      personKey,
      expectedOutcome: expected.outcome,
      expectedReasons: expected.reasons,
      deterministic: expected.deterministic,
      injected: main ? person.injected : [`id-typo-of:${mainKey}`],
      householdId: person.householdId,
      villageCode: person.villageCode,
      evaluatedOn: expected.evaluatedOn,
      age: expected.age,
    };
    if (expected.openQuestion) row.openQuestion = expected.openQuestion;
    return row;
  });
}

/**
 * Writes the county's department files, `truth.ndjson` and `manifest.json` under `options.out`,
 * household by household: memory stays flat however many people are asked for.
 */
export function generate(options: SynthOptions): Manifest {
  if (!Number.isInteger(options.people) || options.people < 1) throw new RangeError('people must be a positive integer');
  mkdirSync(options.out, { recursive: true });
  const population = new Population(options);
  const asOf = `${options.asOf}T00:00:00Z`;
  const absentCitizenIds: string[] = [];
  const badRows = {
    ghostCitizenId: (): string => {
      const id = population.ghostCitizenId();
      absentCitizenIds.push(id);
      return id;
    },
    realVillage: () => population.realVillage(),
    unknownVillage: () => population.unknownVillage(),
    county: options.county,
    asOf,
  };
  const writers = new Map<FileId, DepartmentFile>(
    FILES.map((spec) => [
      spec.id,
      new DepartmentFile(spec, options.out, Rng.derive(options.seed, 'file', spec.id), {
        repeatedRow: options.rates.repeatedRow,
        badRow: options.rates.badRow,
        minBadRows: options.minBadRowsPerFile,
      }, badRows),
    ]),
  );

  const truthFd = openSync(join(options.out, TRUTH_FILE), 'w');
  let truthBuffer = '';
  const byOutcome: Record<string, number> = {};
  const byReason: Record<string, number> = {};
  let people = 0;
  let households = 0;
  let compared = 0;
  let deterministic = 0;
  let truthRows = 0;
  for (let unit = 0; people < options.people; unit += 1) {
    const persons = population.unit(unit, options.people - people);
    if (persons[0]?.householdId) households += 1;
    for (const person of persons) {
      for (const { file, record } of person.records) (writers.get(file) as DepartmentFile).write(record);
      for (const row of truthFor(person, options.county)) {
        byOutcome[row.expectedOutcome] = (byOutcome[row.expectedOutcome] ?? 0) + 1;
        for (const code of row.expectedReasons) byReason[code] = (byReason[code] ?? 0) + 1;
        if (row.expectedOutcome !== 'none') compared += 1;
        if (row.deterministic) deterministic += 1;
        truthRows += 1;
        truthBuffer += `${JSON.stringify(row)}\n`;
      }
      if (truthBuffer.length > 1 << 20) {
        writeSync(truthFd, truthBuffer);
        truthBuffer = '';
      }
      people += 1;
    }
  }
  writeSync(truthFd, truthBuffer);
  closeSync(truthFd);
  const files: FileReport[] = FILES.map((spec) => (writers.get(spec.id) as DepartmentFile).close());

  const manifest: Manifest = {
    generator: GENERATOR,
    seed: options.seed,
    county: options.county,
    countyName: population.countyName,
    asOf,
    changesAsOf: population.changesAsOf,
    people,
    households,
    rates: options.rates,
    loadOrder: FILES.map((f) => f.path),
    files,
    truth: { path: TRUTH_FILE, rows: truthRows, compared, deterministic, byOutcome, byReason },
    injected: population.injectionCounts(),
    absentCitizenIds,
  };
  writeFileSync(join(options.out, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
