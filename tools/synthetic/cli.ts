/**
 * A synthetic county for the comparison service, with the ground truth beside it.
 *
 *   npm run synth -- --people 10000 --seed 42 --out tmp/synthetic [--county 440981] [--as-of 2026-11-01]
 *
 * Writes one file per department source (public-security/households.csv, social-insurance/*.csv|ndjson,
 * tax/, civil-affairs/, education/, justice/, higher-registry/), truth.ndjson and manifest.json.
 * See docs/testing/synthetic-population.md.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'path';
import { generate } from './generate';
import { DEFAULT_OPTIONS } from './options';

const USAGE = 'usage: npm run synth -- --people <n> --seed <n> --out <dir> [--county <6-digit code>] [--as-of YYYY-MM-DD]';

function integer(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new RangeError(`--${name} must be a non-negative integer`);
  return Number(value);
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      people: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      county: { type: 'string' },
      'as-of': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.out) throw new RangeError('--out is required');
  const started = Date.now();
  const manifest = generate({
    ...DEFAULT_OPTIONS,
    people: integer(values.people, DEFAULT_OPTIONS.people, 'people'),
    seed: integer(values.seed, DEFAULT_OPTIONS.seed, 'seed'),
    county: values.county ?? DEFAULT_OPTIONS.county,
    asOf: values['as-of'] ?? DEFAULT_OPTIONS.asOf,
    out: resolve(values.out),
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const lines = [
    `${manifest.countyName} ${manifest.county}: ${manifest.people} people in ${manifest.households} households, seed ${manifest.seed}, as of ${manifest.asOf} (${seconds} s)`,
    ...manifest.files.map((f) => `  ${f.path.padEnd(44)} ${String(f.rows).padStart(9)} rows  ${f.expected.accepted} accepted, ${f.expected.duplicates} duplicates, ${f.expected.quarantined} quarantined`),
    `  outcomes: ${Object.entries(manifest.truth.byOutcome).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  reasons:  ${Object.entries(manifest.truth.byReason).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  truth: ${resolve(values.out, manifest.truth.path)} (${manifest.truth.deterministic} of ${manifest.truth.rows} deterministic)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n${USAGE}\n`);
  process.exitCode = 2;
}
