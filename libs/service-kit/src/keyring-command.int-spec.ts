import { randomBytes } from 'crypto';
import { closeSealers, sealerFor } from '@qmcb/event-log';
import { checkCharacter } from '@qmcb/domain';
import { Client } from 'pg';
import { keyringCommand } from './keyring-command';

const valid = (first17: string): string => `${first17}${checkCharacter(first17)}`;
const CITIZEN_ID = valid('11010119850307201');
const OTHER_ID = valid('11010119921212452');
const UNKNOWN_ID = valid('11010120000101666');

// A database of this spec's own (service-kit may not use @qmcb/testing).
function serverUrl(database: string): string {
  const password = process.env['PGPASSWORD'] ? `:${encodeURIComponent(process.env['PGPASSWORD'])}` : '';
  return `postgres://${encodeURIComponent(process.env['PGUSER'] || 'postgres')}${password}@${process.env['PGHOST'] || '127.0.0.1'}:${process.env['PGPORT'] || '5432'}/${database}`;
}

async function onServer(statement: string): Promise<void> {
  const c = new Client({ connectionString: serverUrl('postgres') });
  await c.connect();
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}

describe('keyring command (ADR 0009)', () => {
  const name = `qmcb_test_${randomBytes(6).toString('hex')}`;
  const db = { url: serverUrl(name), drop: () => onServer(`drop database if exists ${name} with (force)`) };
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await onServer(`create database ${name}`);
    env = { KEYRING_DATABASE_URL: db.url, KEYRING_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`, LOG_PERSON_REF_SECRET: randomBytes(32).toString('base64url') };
  });

  afterAll(async () => {
    await closeSealers();
    await db.drop();
  });

  async function run(...args: string[]): Promise<{ code: number; out: string[] }> {
    const out: string[] = [];
    const code = await keyringCommand(args, env, (l) => out.push(l));
    return { code, out };
  }

  it('erases a person by destroying their key, naming the person ref and never the citizen ID; rotates; reports', async () => {
    const sealer = await sealerFor({ sealing: { keyringUrl: db.url, masterKeys: env['KEYRING_MASTER_KEYS'] as string, refSecret: env['LOG_PERSON_REF_SECRET'] as string } });
    const ref = sealer.personRef(CITIZEN_ID);
    await sealer.keyring.getOrCreate([ref, sealer.personRef(OTHER_ID)]);

    expect(await run('status')).toEqual({ code: 0, out: ['keyring: 2 data keys (k1=2), 0 shredded; current master key k1'] });
    expect(await run('erase', '--citizen-id', CITIZEN_ID)).toEqual({ code: 2, out: ['keyring erase: --citizen-id and --reason are both required'] });
    expect(await run('erase', '--citizen-id', ` ${CITIZEN_ID} `, '--reason', 'PIPL art. 47 request 17')).toEqual({
      code: 0,
      out: [`keyring erase: person ${ref} erased (data key destroyed); running consumers stop reading their events within a minute (key cache)`],
    });
    expect(await run('erase', '--citizen-id', CITIZEN_ID, '--reason', 'again')).toEqual({ code: 0, out: [`keyring erase: person ${ref} was already erased`] });
    const unknown = sealer.personRef(UNKNOWN_ID);
    expect(await run('erase', '--citizen-id', UNKNOWN_ID, '--reason', 'r')).toEqual({
      code: 1,
      out: [`keyring erase: no data key for person ${unknown}: nothing of theirs was sealed under this LOG_PERSON_REF_SECRET (check the configuration, or pass --even-without-key)`],
    });
    expect(await run('erase', '--citizen-id', UNKNOWN_ID, '--reason', 'r', '--even-without-key')).toEqual({
      code: 0,
      out: [`keyring erase: person ${unknown} erased (data key destroyed); running consumers stop reading their events within a minute (key cache)`],
    });
    expect(await run('status')).toEqual({ code: 0, out: ['keyring: 1 data keys (k1=1), 2 shredded; current master key k1'] });

    env = { ...env, KEYRING_MASTER_KEYS: `k2:${randomBytes(32).toString('base64')},${env['KEYRING_MASTER_KEYS']}` };
    expect(await run('rotate')).toEqual({ code: 0, out: ['keyring rotate: 1 data keys rewrapped under master key k2'] });
    expect(await run('status')).toEqual({ code: 0, out: ['keyring: 1 data keys (k2=1), 2 shredded; current master key k2'] });
    expect((await run('bogus')).code).toBe(2);
  });
});
