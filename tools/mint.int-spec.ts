import { verifyToken } from '@qmcb/auth';
import { spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import { join } from 'path';

/** `npm run token` as a person runs it: the command itself, its exit code and what it prints. */
const ROOT = join(__dirname, '..');
const SECRETS = { AUTH_JWT_SECRET: randomBytes(32).toString('base64url'), API_KEY_SECRET: randomBytes(32).toString('base64url') };

function token(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], ...SECRETS };
  const r = spawnSync(process.execPath, ['-r', './tools/register.js', 'tools/mint.ts', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run token -- person', () => {
  it('mints by default a token the services accept (1 h), and refuses a longer lifetime than theirs, a bad division or citizen ID, exit 2', () => {
    const ok = token('person', '--role', 'county-approver', '--division', '440981', '--sub', 'u1', '--name', '张三');
    expect(ok).toMatchObject({ status: 0, stderr: '' });
    const person = verifyToken(ok.stdout.trim(), SECRETS.AUTH_JWT_SECRET);
    expect(person).toMatchObject({ kind: 'person', sub: 'u1', role: 'county-approver', division: '440981' });
    const claims = JSON.parse(Buffer.from(ok.stdout.trim().split('.')[1] as string, 'base64url').toString('utf8')) as { iat: number; exp: number };
    expect(claims.exp - claims.iat).toBe(3600);

    const long = token('person', '--role', 'county-approver', '--division', '440981', '--sub', 'u1', '--name', '张三', '--ttl', '86400');
    expect(long.status).toBe(2);
    expect(long.stdout).toBe('');
    expect(long.stderr.split('\n')[0]).toBe('--ttl 86400 is longer than the services accept: at most 43200 s (AUTH_MAX_TOKEN_TTL_SECONDS)');

    // A negative lifetime is the option's value, refused by its rule (it was Node's "argument is ambiguous").
    const negative = token('person', '--role', 'county-approver', '--division', '440981', '--sub', 'u1', '--name', '张三', '--ttl', '-5');
    expect([negative.status, negative.stdout, negative.stderr.split('\n')[0]]).toEqual([2, '', '--ttl must be a positive whole number of seconds, got "-5"']);

    const division = token('person', '--role', 'county-approver', '--division', '999999', '--sub', 'u1', '--name', '张三');
    expect([division.status, division.stdout, division.stderr.split('\n')[0]]).toEqual([2, '', '--division 999999 is not a known division code (GB/T 2260)']);

    const cid = token('person', '--role', 'citizen', '--division', '440981', '--sub', 'c1', '--name', '李明', '--cid', '440981198503151234');
    expect([cid.status, cid.stdout, cid.stderr.split('\n')[0]]).toEqual([2, '', '--cid is not a valid citizen ID: the check character does not match (ISO 7064 MOD 11-2)']);
  });
});
