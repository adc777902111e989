/**
 * Development credentials (ARCHITECTURE.md: the identity provider is external; this command mints
 * tokens for development and tests).
 *
 *   npm run token -- person --role county-approver --division 440981 --sub u1 --name 张三 [--ttl 3600]
 *   npm run token -- person --role citizen --division 440981 --sub c1 --name 李明 --cid 440981198503151234
 *   npm run token -- apikey --department public-security --key-id pso-1
 *
 * Secrets come from AUTH_JWT_SECRET / API_KEY_SECRET, defaulting to the development secrets, which
 * are refused when NODE_ENV=production.
 */
import { parseArgs } from 'node:util';
import { ROLES, authSecretsFromEnv, mintApiKey, mintToken } from '@qmcb/auth';
import { DEPARTMENTS } from '@qmcb/contracts';
import type { Department } from '@qmcb/contracts';

const USAGE = `usage:
  npm run token -- person --role <role> --division <code> --sub <id> --name <name> [--cid <citizen ID, role citizen>] [--ttl <seconds>]
  npm run token -- apikey --department <department> --key-id <id>
roles: ${ROLES.join(', ')}
departments: ${DEPARTMENTS.join(', ')}`;

class UsageError extends Error {}

function required(values: Record<string, string | undefined>, name: string): string {
  const value = values[name];
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

function run(argv: string[]): string {
  const [command, ...rest] = argv;
  const secrets = authSecretsFromEnv();
  if (command === 'person') {
    const { values } = parseArgs({
      args: rest,
      options: {
        role: { type: 'string' },
        division: { type: 'string' },
        sub: { type: 'string' },
        name: { type: 'string' },
        cid: { type: 'string' },
        ttl: { type: 'string', default: '3600' },
      },
      strict: true,
    });
    const ttlSeconds = Number(values.ttl);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new UsageError('--ttl must be a positive number of seconds');
    return mintToken(
      {
        role: required(values, 'role'),
        division: required(values, 'division'),
        sub: required(values, 'sub'),
        name: required(values, 'name'),
        ...(values.cid !== undefined ? { citizenId: values.cid } : {}),
        ttlSeconds,
      },
      secrets.jwtSecret,
    );
  }
  if (command === 'apikey') {
    const { values } = parseArgs({ args: rest, options: { department: { type: 'string' }, 'key-id': { type: 'string' } }, strict: true });
    const department = required(values, 'department');
    if (!(DEPARTMENTS as readonly string[]).includes(department)) throw new UsageError(`unknown department ${department}`);
    return mintApiKey(department as Department, required(values, 'key-id'), secrets.apiKeySecret);
  }
  throw new UsageError(command ? `unknown command ${command}` : 'a command is required');
}

try {
  process.stdout.write(`${run(process.argv.slice(2))}\n`);
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${e instanceof UsageError || e instanceof TypeError ? `${USAGE}\n` : ''}`);
  process.exitCode = 2;
}
