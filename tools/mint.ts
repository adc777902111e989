/**
 * Development credentials (ARCHITECTURE.md: the identity provider is external; this command mints
 * tokens for development and tests).
 *
 *   npm run token -- person --role county-approver --division 440981 --sub u1 --name 张三 [--ttl 3600]
 *     (checked before signing, tools/mint-args.ts: a lifetime the services accept, a known division at
 *     a level the role works at, a valid citizen ID for role citizen)
 *   npm run token -- person --role citizen --division 440981 --sub c1 --name 李明 --cid 440981198503151237
 *   npm run token -- apikey --department public-security --key-id pso-1
 *   npm run token -- revoke-person --sub u1        (every token of u1 issued until now)
 *   npm run token -- revoke-token --jti <jti>      (one token)
 *   npm run token -- revoke-key --key-id pso-1     (a department's API key)
 *
 * Secrets come from AUTH_JWT_SECRET / API_KEY_SECRET (no defaults: real secrets or nothing, whatever
 * NODE_ENV says; deploy/local/env.sh makes local ones). Revocations go to Redis (REDIS_URL,
 * REDIS_TLS_CA_FILE; in the compose deployment the `operator` user), docs/security.md.
 */
import { parseArgs } from 'node:util';
import { ROLES, authSecretsFromEnv, mintApiKey, mintToken, revokeApiKey, revokePerson, revokeToken } from '@qmcb/auth';
import { closeRedisClient, createRedisClient } from '@qmcb/platform';
import { DEPARTMENTS } from '@qmcb/contracts';
import type { Department } from '@qmcb/contracts';
import { DEFAULT_TOKEN_TTL_SECONDS, MintUsageError, maxTokenTtlSeconds, personArgs, personTokenInput } from './mint-args';

const USAGE = `usage:
  npm run token -- person --role <role> --division <code> --sub <id> --name <name> [--cid <citizen ID, role citizen>] [--ttl <seconds>]
    --ttl: default ${DEFAULT_TOKEN_TTL_SECONDS} s, at most AUTH_MAX_TOKEN_TTL_SECONDS (default 43200 s), which the services enforce
    --division: a known GB/T 2260 code at a level the role works at (docs/security.md)
  npm run token -- apikey --department <department> --key-id <id>
  npm run token -- revoke-person --sub <sub> | revoke-token --jti <jti> | revoke-key --key-id <id>
roles: ${ROLES.join(', ')}
departments: ${DEPARTMENTS.join(', ')}`;

class UsageError extends Error {}

function required(values: Record<string, string | undefined>, name: string): string {
  const value = values[name];
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

/** Writes a revocation to Redis; the answer is what was revoked. */
async function revoke(command: string, rest: string[]): Promise<string> {
  const { values } = parseArgs({ args: rest, options: { sub: { type: 'string' }, jti: { type: 'string' }, 'key-id': { type: 'string' } }, strict: true });
  const maxTtl = maxTokenTtlSeconds(process.env);
  const redis = await createRedisClient({ url: process.env['REDIS_URL'] || 'redis://127.0.0.1:6379', connectionName: 'qmcb-token-cli', tlsCaFile: process.env['REDIS_TLS_CA_FILE'] });
  try {
    if (command === 'revoke-person') {
      await revokePerson(redis, required(values, 'sub'), maxTtl);
      return `revoked every token of ${values.sub} issued until now`;
    }
    if (command === 'revoke-token') {
      await revokeToken(redis, required(values, 'jti'), maxTtl);
      return `revoked token ${values.jti}`;
    }
    await revokeApiKey(redis, required(values, 'key-id'));
    return `revoked API key ${values['key-id']}`;
  } finally {
    await closeRedisClient(redis);
  }
}

async function run(argv: string[]): Promise<string> {
  const [command, ...rest] = argv;
  if (command === 'revoke-person' || command === 'revoke-token' || command === 'revoke-key') return revoke(command, rest);
  const secrets = authSecretsFromEnv();
  if (command === 'person') {
    return mintToken(personTokenInput(personArgs(rest), process.env), secrets.jwtSecret);
  }
  if (command === 'apikey') {
    const { values } = parseArgs({ args: rest, options: { department: { type: 'string' }, 'key-id': { type: 'string' } }, strict: true });
    const department = required(values, 'department');
    if (!(DEPARTMENTS as readonly string[]).includes(department)) throw new UsageError(`unknown department ${department}`);
    return mintApiKey(department as Department, required(values, 'key-id'), secrets.apiKeySecret);
  }
  throw new UsageError(command ? `unknown command ${command}` : 'a command is required');
}

run(process.argv.slice(2)).then(
  (out) => process.stdout.write(`${out}\n`),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${e instanceof UsageError || e instanceof MintUsageError || e instanceof TypeError ? `${USAGE}\n` : ''}`);
    process.exitCode = 2;
  },
);
