import { MintUsageError, personArgs, personTokenInput } from './mint-args';

const NOW = new Date('2026-12-01T00:00:00Z');
const approver = { role: 'county-approver', division: '440981', sub: 'u1', name: '张三' };

function refusal(args: Parameters<typeof personTokenInput>[0], env: NodeJS.ProcessEnv = {}): string {
  try {
    personTokenInput(args, env, NOW);
  } catch (e) {
    expect(e).toBeInstanceOf(MintUsageError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('npm run token -- person: the checks before signing', () => {
  it('defaults to a lifetime the services accept (1 h, capped at AUTH_MAX_TOKEN_TTL_SECONDS) and keeps a --ttl within it', () => {
    expect(personTokenInput(approver, {}, NOW)).toEqual({ role: 'county-approver', division: '440981', sub: 'u1', name: '张三', ttlSeconds: 3600 });
    expect(personTokenInput(approver, { AUTH_MAX_TOKEN_TTL_SECONDS: '600' }, NOW).ttlSeconds).toBe(600);
    expect(personTokenInput({ ...approver, ttl: '43200' }, {}, NOW).ttlSeconds).toBe(43200);
  });

  it('refuses a lifetime the services would refuse, or one that is not a whole number of seconds', () => {
    expect(refusal({ ...approver, ttl: '86400' })).toBe('--ttl 86400 is longer than the services accept: at most 43200 s (AUTH_MAX_TOKEN_TTL_SECONDS)');
    expect(refusal({ ...approver, ttl: '7200' }, { AUTH_MAX_TOKEN_TTL_SECONDS: '3600' })).toBe('--ttl 7200 is longer than the services accept: at most 3600 s (AUTH_MAX_TOKEN_TTL_SECONDS)');
    expect(refusal({ ...approver, ttl: '1.5' })).toBe('--ttl must be a positive whole number of seconds, got "1.5"');
    expect(refusal({ ...approver, ttl: '0' })).toBe('--ttl must be a positive whole number of seconds, got "0"');
    expect(refusal(approver, { AUTH_MAX_TOKEN_TTL_SECONDS: '10y' })).toBe(
      'AUTH_MAX_TOKEN_TTL_SECONDS must be an integer of seconds between 60 and 86400 (the services refuse to start otherwise), got "10y"',
    );
  });

  it('reads a negative --ttl as its value (refused by its rule), not as an option of its own', () => {
    const args = personArgs(['--role', 'county-approver', '--division', '440981', '--sub', 'u1', '--name', '张三', '--ttl', '-5']);
    expect(args).toEqual({ ...approver, ttl: '-5' });
    expect(refusal(args)).toBe('--ttl must be a positive whole number of seconds, got "-5"');
    expect(personArgs(['--name', '-', '--ttl=-1'])).toEqual({ name: '-', ttl: '-1' });
    // An option name after an option is still an option (the first one has no value).
    expect(() => personArgs(['--ttl', '--role', 'county-approver'])).toThrow(MintUsageError);
    expect(() => personArgs(['--ttl', '--role', 'county-approver'])).toThrow('--ttl needs a value');
  });

  it('refuses a division that is malformed, unknown, or at a level the role does not work at', () => {
    expect(refusal({ ...approver, division: '4409811' })).toBe('--division must be a division code of 2, 4, 6, 9 or 12 digits (GB/T 2260), got "4409811"');
    expect(refusal({ ...approver, division: '999999' })).toBe('--division 999999 is not a known division code (GB/T 2260)');
    expect(refusal({ ...approver, division: '44' })).toBe('--division: role county-approver works at county level, not province level (division 44); the services would refuse every request (403)');
    expect(refusal({ ...approver, role: 'surveyor' })).toBe('--division: role surveyor works at township or village level, not county level (division 440981); the services would refuse every request (403)');
  });

  it("refuses a citizen without a valid citizen ID of their own (check character, birth date), and a --cid for another role; normalises a valid one", () => {
    const citizen = { role: 'citizen', division: '440981', sub: 'c1', name: '李明' };
    expect(personTokenInput({ ...citizen, cid: '440981198503151237' }, {}, NOW)).toEqual({ ...citizen, citizenId: '440981198503151237', ttlSeconds: 3600 });
    expect(refusal(citizen)).toBe("--cid is required for role citizen: the citizen's own 18-character citizen ID");
    expect(refusal({ ...citizen, cid: '440981198503151234' })).toBe('--cid is not a valid citizen ID: the check character does not match (ISO 7064 MOD 11-2)');
    expect(refusal({ ...citizen, cid: '440981198513451230' })).toMatch(/^--cid is not a valid citizen ID: /);
    expect(refusal({ ...citizen, cid: 'abc' })).toMatch(/^--cid is not a valid citizen ID: /);
    expect(refusal({ ...approver, cid: '440981198503151237' })).toBe('--cid is only for role citizen');
  });

  it('names every problem at once, and an unknown role with the roles there are', () => {
    expect(refusal({ role: 'boss', division: '440981' }).split('\n')).toEqual([
      '--sub is required',
      '--name is required',
      '--role "boss" is not a role: one of surveyor, grassroots-reviewer, county-approver, window-clerk, analyst, operations, admin, auditor, citizen',
    ]);
  });
});
