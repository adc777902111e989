/**
 * The checks of `npm run token -- person …` (tools/mint.ts), before anything is signed: a token the
 * services would refuse (a lifetime over their maximum, a role at a level it does not work at) or one
 * naming a person who cannot exist (a citizen ID that fails its check character or birth date, a
 * division code that is in no GB/T 2260 list) is refused here with a message naming the option,
 * instead of being answered 401/403 later without saying why.
 */
import { DEFAULT_MAX_TOKEN_TTL_SECONDS, ROLES, divisionLevelProblem, isRole } from '@qmcb/auth';
import type { MintTokenInput } from '@qmcb/auth';
import { isKnownDivision, validateCitizenId } from '@qmcb/domain';
import { parseArgs } from 'node:util';

/** The lifetime of a token when `--ttl` is not given (capped at the services' maximum). */
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

/** The longest lifetime the services accept: `AUTH_MAX_TOKEN_TTL_SECONDS` as they read it (60-86400), else 12 h. */
export function maxTokenTtlSeconds(env: NodeJS.ProcessEnv): number {
  const raw = env['AUTH_MAX_TOKEN_TTL_SECONDS'];
  if (raw === undefined || raw === '') return DEFAULT_MAX_TOKEN_TTL_SECONDS;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 60 || value > 86_400) {
    throw new MintUsageError(`AUTH_MAX_TOKEN_TTL_SECONDS must be an integer of seconds between 60 and 86400 (the services refuse to start otherwise), got ${JSON.stringify(raw)}`);
  }
  return value;
}

export class MintUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MintUsageError';
  }
}

export interface PersonArgs {
  role?: string;
  division?: string;
  sub?: string;
  name?: string;
  cid?: string;
  ttl?: string;
}

const PERSON_OPTIONS = ['role', 'division', 'sub', 'name', 'cid', 'ttl'] as const;

/**
 * The options of `person` as given. The value of an option is the word after it even when it starts
 * with a dash (`--ttl -5` is a lifetime of -5, refused by its rule), unless that word is an option
 * itself (`--ttl --role …`: --ttl needs a value). Node's parseArgs would call `--ttl -5` ambiguous.
 */
export function personArgs(argv: readonly string[]): PersonArgs {
  const options = new Set<string>(PERSON_OPTIONS.map((o) => `--${o}`));
  const args: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const word = argv[i] as string;
    if (!options.has(word)) {
      args.push(word);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || options.has(value.split('=')[0] as string)) throw new MintUsageError(`${word} needs a value`);
    args.push(`${word}=${value}`);
    i += 1;
  }
  try {
    const { values } = parseArgs({ args, options: Object.fromEntries(PERSON_OPTIONS.map((o) => [o, { type: 'string' as const }])), strict: true });
    return values as PersonArgs;
  } catch (e) {
    // Node's own words for an unknown option or a stray argument, said as a usage error.
    throw new MintUsageError(e instanceof Error ? e.message : String(e));
  }
}

/**
 * The token to mint for `person`'s options, or MintUsageError naming every problem (one per line).
 * `now` judges a citizen ID's birth date (not in the future).
 */
export function personTokenInput(args: PersonArgs, env: NodeJS.ProcessEnv, now: Date = new Date()): MintTokenInput {
  const maxTtl = maxTokenTtlSeconds(env);
  const problems: string[] = [];
  for (const name of ['role', 'division', 'sub', 'name'] as const) if (!args[name]) problems.push(`--${name} is required`);

  const role = args.role;
  if (role && !isRole(role)) problems.push(`--role ${JSON.stringify(role)} is not a role: one of ${ROLES.join(', ')}`);

  const division = args.division;
  if (division) {
    if (!/^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/.test(division)) problems.push(`--division must be a division code of 2, 4, 6, 9 or 12 digits (GB/T 2260), got ${JSON.stringify(division)}`);
    else if (!isKnownDivision(division)) problems.push(`--division ${division} is not a known division code (GB/T 2260)`);
    else if (role && isRole(role)) {
      const problem = divisionLevelProblem(role, division);
      if (problem) problems.push(`--division: ${problem}; the services would refuse every request (403)`);
    }
  }

  let citizenId: string | undefined;
  if (role === 'citizen') {
    if (!args.cid) problems.push('--cid is required for role citizen: the citizen\'s own 18-character citizen ID');
    else {
      const checked = validateCitizenId(args.cid, now);
      if (checked.ok) citizenId = checked.id;
      else problems.push(`--cid is not a valid citizen ID: ${checked.message}`);
    }
  } else if (args.cid !== undefined) problems.push('--cid is only for role citizen');

  let ttlSeconds = Math.min(DEFAULT_TOKEN_TTL_SECONDS, maxTtl);
  if (args.ttl !== undefined) {
    if (!/^\d+$/.test(args.ttl) || Number(args.ttl) < 1) problems.push(`--ttl must be a positive whole number of seconds, got ${JSON.stringify(args.ttl)}`);
    else if (Number(args.ttl) > maxTtl) problems.push(`--ttl ${args.ttl} is longer than the services accept: at most ${maxTtl} s (AUTH_MAX_TOKEN_TTL_SECONDS)`);
    else ttlSeconds = Number(args.ttl);
  }

  if (problems.length) throw new MintUsageError(problems.join('\n'));
  return {
    role: role as string,
    division: division as string,
    sub: args.sub as string,
    name: args.name as string,
    ...(citizenId !== undefined ? { citizenId } : {}),
    ttlSeconds,
  };
}
