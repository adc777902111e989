import { citizenIdInfo, isSurrogatePersonKey, personKeyFor } from '@qmcb/domain';
import { closeSync, mkdirSync, openSync, readSync, renameSync, writeFileSync, writeSync } from 'fs';
import { join } from 'path';
import { DepartmentFile, parseCsvLine } from './files';
import { bodyOf, expectedLink, meetingKeys, relation } from './linking';
import type { Candidate, Identity } from './linking';
import { FILES, LOAD_POSITION } from './model';
import type { FileId, FileReport, LinkingSummary, Manifest, SourceRecord, TruthRow } from './model';
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

/** Where each record under a mistyped ID is expected to be linked (by its person key): a person key, or null. */
export type LinkResolution = (surrogateKey: string) => string | null;

/**
 * The truth rows of one generated person: one per person key their records fall under. Normally one;
 * a record with a mistyped ID makes a second "person" of its own (surrogate key), compared alone
 * unless the documented scoring links it (`links`): to its true owner, whose row then counts its
 * insurance, or to someone else (whose row the caller marks open).
 */
export function truthFor(person: GeneratedPerson, county: string, links: LinkResolution = () => null): TruthRow[] {
  const mainKey = personKeyFor(person.citizenId);
  const groups = new Map<string, SourceRecord[]>([[mainKey, []]]);
  for (const record of inLoadOrder(person)) {
    const key = personKeyFor(record.citizenId);
    const group = groups.get(key) ?? [];
    group.push(record);
    groups.set(key, group);
  }
  const linkedHere = [...groups].filter(([key]) => key !== mainKey && links(key) === mainKey).flatMap(([, records]) => records);
  return [...groups].map(([personKey, records]) => {
    const main = personKey === mainKey;
    const link = main ? null : links(personKey);
    const expected = expectedFor(records, county, undefined, main ? { linked: linkedHere } : link ? { linkedTo: link } : {});
    const row: TruthRow = {
      citizenId: main ? person.citizenId : records[0].citizenId,
      personKey,
      expectedOutcome: expected.outcome,
      expectedReasons: expected.reasons,
      deterministic: expected.deterministic,
      injected: main ? person.injected : [`id-typo-of:${mainKey}`, ...person.injected.filter((i) => i.startsWith('id-typo:'))],
      householdId: person.householdId,
      villageCode: person.villageCode,
      evaluatedOn: expected.evaluatedOn,
      age: expected.age,
      expectedCoverage: expected.coverage,
      inPopulation: expected.inPopulation,
      birthDate: expected.birthDate,
    };
    if (!main) row.expectedLink = link;
    if (expected.openQuestion) row.openQuestion = expected.openQuestion;
    return row;
  });
}

const FALSE_LINK = 'records under another person\'s mistyped ID score as this person\'s (linked by the documented scoring): their insurance counts here';

/** What the records under a mistyped ID say of the identity, as comparison resolves it for them: the newest record that gives each field. */
function subjectOf(records: readonly SourceRecord[]): Identity {
  const pick = (field: 'name' | 'birthDate' | 'sex' | 'address'): string | null => {
    let value: string | null = null;
    for (const r of records) {
      const v = (r.facts as unknown as Record<string, unknown>)[field];
      if (typeof v === 'string' && v !== '') value = v;
    }
    return value;
  };
  return { name: pick('name'), birthDate: pick('birthDate'), sex: pick('sex'), address: pick('address') };
}

/**
 * The second pass of linking: the household file as written, read back line by line, to find every
 * person of the county one ID relation away from a mistyped ID (the true owner, and anyone else who
 * happens to be that close), with the identity comparison resolves for them from their household record.
 */
function householdCandidates(out: string, typos: Map<string, string>, absent: ReadonlySet<string>): Map<string, Candidate[]> {
  const byMeetingKey = new Map<string, string[]>();
  for (const [surrogate, typed] of typos) {
    const body = bodyOf(typed);
    if (body === null) continue;
    for (const k of meetingKeys(body)) byMeetingKey.set(k, [...(byMeetingKey.get(k) ?? []), surrogate]);
  }
  const found = new Map<string, Map<string, Candidate>>();
  const fd = openSync(join(out, 'public-security/households.csv'), 'r');
  const buffer = Buffer.alloc(1 << 20);
  let rest = '';
  let header: string[] | null = null;
  const line = (text: string): void => {
    const fields = parseCsvLine(text);
    if (!fields) return;
    if (!header) {
      header = fields;
      return;
    }
    const cell = (name: string): string | null => fields[(header as string[]).indexOf(name)] || null;
    const citizenId = cell('citizenId');
    if (!citizenId || absent.has(citizenId)) return;
    const key = personKeyFor(citizenId);
    if (isSurrogatePersonKey(key)) return;
    const body = key.slice(0, 17);
    const near = new Set(meetingKeys(body).flatMap((k) => byMeetingKey.get(k) ?? []));
    if (near.size === 0) return;
    const info = citizenIdInfo(key);
    const identity: Identity = { name: cell('name'), birthDate: cell('birthDate') ?? info?.birthDate ?? null, sex: cell('sex') ?? info?.sex ?? null, address: cell('address') };
    for (const surrogate of near) {
      if (relation(bodyOf(typos.get(surrogate) as string) as string, body) === null) continue;
      const list = found.get(surrogate) ?? new Map<string, Candidate>();
      list.set(key, { personKey: key, identity });
      found.set(surrogate, list);
    }
  };
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      const text = rest + buffer.toString('utf8', 0, n);
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) line(l);
    }
    if (rest) line(rest);
  } finally {
    closeSync(fd);
  }
  return new Map([...found].map(([k, v]) => [k, [...v.values()]]));
}

/** Rewrites truth.ndjson line by line, marking the rows of these person keys open (a false link), never holding it whole. */
function markOpen(path: string, open: ReadonlyMap<string, string>): number {
  const tmp = `${path}.tmp`;
  const input = openSync(path, 'r');
  const output = openSync(tmp, 'w');
  const buffer = Buffer.alloc(1 << 20);
  let rest = '';
  let marked = 0;
  const write = (l: string): void => {
    if (l === '') return;
    const row = JSON.parse(l) as TruthRow;
    const question = open.get(row.personKey);
    if (question) {
      if (row.deterministic) marked += 1;
      row.deterministic = false;
      row.openQuestion = row.openQuestion ? `${row.openQuestion}; ${question}` : question;
      writeSync(output, `${JSON.stringify(row)}\n`);
    } else writeSync(output, `${l}\n`);
  };
  try {
    for (;;) {
      const n = readSync(input, buffer, 0, buffer.length, null);
      if (n === 0) break;
      const lines = (rest + buffer.toString('utf8', 0, n)).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) write(l);
    }
    write(rest);
  } finally {
    closeSync(input);
    closeSync(output);
  }
  renameSync(tmp, path);
  return marked;
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
  const count = (row: TruthRow): void => {
    byOutcome[row.expectedOutcome] = (byOutcome[row.expectedOutcome] ?? 0) + 1;
    for (const code of row.expectedReasons) byReason[code] = (byReason[code] ?? 0) + 1;
    if (row.expectedOutcome !== 'none') compared += 1;
    if (row.deterministic) deterministic += 1;
    truthRows += 1;
    truthBuffer += `${JSON.stringify(row)}\n`;
  };
  // People with a record under a mistyped ID: their rows wait for the second pass (linking).
  const deferred: GeneratedPerson[] = [];
  for (let unit = 0; people < options.people; unit += 1) {
    const persons = population.unit(unit, options.people - people);
    if (persons[0]?.householdId) households += 1;
    for (const person of persons) {
      for (const { file, record } of person.records) (writers.get(file) as DepartmentFile).write(record);
      const mainKey = personKeyFor(person.citizenId);
      if (person.records.some((r) => personKeyFor(r.record.citizenId) !== mainKey)) deferred.push(person);
      else for (const row of truthFor(person, options.county)) count(row);
      if (truthBuffer.length > 1 << 20) {
        writeSync(truthFd, truthBuffer);
        truthBuffer = '';
      }
      people += 1;
    }
  }
  const files: FileReport[] = FILES.map((spec) => (writers.get(spec.id) as DepartmentFile).close());

  // Linking: each record under a mistyped ID against the people of the county one relation away.
  const typos = new Map<string, string>();
  const subjects = new Map<string, Identity>();
  for (const person of deferred) {
    const mainKey = personKeyFor(person.citizenId);
    const bySurrogate = new Map<string, SourceRecord[]>();
    for (const record of inLoadOrder(person)) {
      const key = personKeyFor(record.citizenId);
      if (key !== mainKey) bySurrogate.set(key, [...(bySurrogate.get(key) ?? []), record]);
    }
    for (const [key, records] of bySurrogate) {
      typos.set(key, (records[0] as SourceRecord).citizenId);
      subjects.set(key, subjectOf(records));
    }
  }
  const candidates = householdCandidates(options.out, typos, new Set(absentCitizenIds));
  const links = new Map<string, string | null>();
  for (const [key, typed] of typos) links.set(key, expectedLink(typed, subjects.get(key) as Identity, candidates.get(key) ?? []).personKey);
  const owners = new Map<string, string>();
  for (const person of deferred) {
    for (const record of person.records) {
      const key = personKeyFor(record.record.citizenId);
      if (typos.has(key)) owners.set(key, personKeyFor(person.citizenId));
    }
  }
  // A link to someone else than the true owner: that person's row cannot count the records here.
  const falseTargets = new Map<string, string>();
  for (const [key, target] of links) if (target !== null && target !== owners.get(key)) falseTargets.set(target, FALSE_LINK);
  for (const person of deferred) {
    for (const row of truthFor(person, options.county, (key) => links.get(key) ?? null)) {
      const question = falseTargets.get(row.personKey);
      if (question) {
        falseTargets.delete(row.personKey);
        row.deterministic = false;
        row.openQuestion = row.openQuestion ? `${row.openQuestion}; ${question}` : question;
      }
      count(row);
    }
  }
  writeSync(truthFd, truthBuffer);
  closeSync(truthFd);
  if (falseTargets.size > 0) deterministic -= markOpen(join(options.out, TRUTH_FILE), falseTargets);
  const kinds: Record<string, number> = {};
  for (const person of deferred) for (const i of person.injected) if (i.startsWith('id-typo:')) kinds[i.slice('id-typo:'.length)] = (kinds[i.slice('id-typo:'.length)] ?? 0) + 1;
  const linking: LinkingSummary = {
    typos: typos.size,
    byKind: kinds,
    expectedLinked: [...links.values()].filter((v) => v !== null).length,
    expectedToOwner: [...links].filter(([k, v]) => v !== null && v === owners.get(k)).length,
    expectedToOther: [...links].filter(([k, v]) => v !== null && v !== owners.get(k)).length,
  };

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
    linking,
  };
  writeFileSync(join(options.out, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
