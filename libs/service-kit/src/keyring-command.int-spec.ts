import { randomBytes } from 'crypto';
import type { RegistrationEvent } from '@qmcb/contracts';
import { checkCharacter } from '@qmcb/domain';
import { closeSealers, deleteTopics, ensureTopics, eventLogMigrations, kafkaSettingsFromEnv, Keyring, openDataSource, parseMasterKeys, ProjectionRunner, quietLogger, readEvents, sealerFor } from '@qmcb/event-log';
import type { KafkaSettings } from '@qmcb/event-log';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
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

describe('keyring command (ADR 0009, ADR 0010)', () => {
  const name = `qmcb_test_${randomBytes(6).toString('hex')}`;
  const topic = `test.${randomBytes(6).toString('hex')}`;
  const db = { url: serverUrl(name), drop: () => onServer(`drop database if exists ${name} with (force)`) };
  // A projection's consumer group that runs (it records what it is handed) and one that never runs.
  const probeGroup = `erasure-probe-${randomBytes(4).toString('hex')}`;
  const stoppedGroup = `erasure-stopped-${randomBytes(4).toString('hex')}`;
  const handled: RegistrationEvent[] = [];
  let env: NodeJS.ProcessEnv;
  let settings: KafkaSettings;
  let ds: DataSource;
  let runner: ProjectionRunner;

  beforeAll(async () => {
    await onServer(`create database ${name}`);
    env = {
      KAFKA_BROKERS: process.env['KAFKA_BROKERS'],
      LOG_TOPIC: topic,
      KEYRING_DATABASE_URL: db.url,
      KEYRING_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      LOG_PERSON_REF_SECRET: randomBytes(32).toString('base64url'),
      USER: 'ops-test',
    };
    settings = { ...kafkaSettingsFromEnv('keyring-command-test', env), partitions: 3 };
    await ensureTopics(settings);
    ds = await openDataSource({ url: db.url, schema: 'probe', migrations: eventLogMigrations() });
    runner = new ProjectionRunner({
      name: 'erasure-probe',
      groupId: probeGroup,
      dataSource: ds,
      schema: 'probe',
      handler: { handle: async (events) => void handled.push(...events) },
      settings,
      logger: quietLogger(),
    });
    await runner.start();
  });

  afterAll(async () => {
    await runner?.stop();
    await ds?.destroy();
    await closeSealers();
    await deleteTopics(settings, [topic, `${topic}.dlq.${probeGroup}`]).catch(() => undefined);
    await db.drop();
  });

  async function run(...args: string[]): Promise<{ code: number; out: string[] }> {
    const out: string[] = [];
    const code = await keyringCommand(args, env, (l) => out.push(l));
    return { code, out };
  }

  const sealing = (): { keyringUrl: string; masterKeys: string; refSecret: string } => ({ keyringUrl: db.url, masterKeys: env['KEYRING_MASTER_KEYS'] as string, refSecret: env['LOG_PERSON_REF_SECRET'] as string });

  it('refuses to shred while a projection consumer group has not passed the erasure event; the key stays; a second run finishes', async () => {
    const sealer = await sealerFor({ sealing: sealing() });
    const ref = sealer.personRef(CITIZEN_ID);
    await sealer.keyring.getOrCreate([ref, sealer.personRef(OTHER_ID)]);

    const refused = await run('erase', '--citizen-id', CITIZEN_ID, '--reason', 'PIPL art. 47 request 17', '--groups', `${probeGroup},${stoppedGroup}`, '--wait-seconds', '3');
    expect(refused.code).toBe(1);
    const appended = refused.out[0]?.match(/^keyring erase: person (\S+): person\.erased (\S+) appended \(partition (\d+), offset (\d+)\); waiting up to 3 s for (.+)$/);
    expect(appended?.slice(1)).toEqual([ref, expect.stringMatching(/^[0-9a-f-]{36}$/), expect.stringMatching(/^\d+$/), '0', `${probeGroup}, ${stoppedGroup}`]);
    const [, , eventId, partition] = appended as RegExpMatchArray;
    expect(refused.out[refused.out.length - 1]).toBe(
      `keyring erase: NOT finished: after 3 s ${stoppedGroup} has committed no offset on that partition (a group that does not exist or never consumed it: check --groups) (the event is at offset 0 of partition ${partition}). ` +
        `The data key is kept, so the log still opens; the projections that passed the event have already deleted the person (${probeGroup}). ` +
        "Once the groups named are right (--groups: the services' CONSUMER_GROUP) and caught up, run the same command again (it is safe to repeat)",
    );
    expect(refused.out.slice(1).every((l) => l.startsWith('keyring erase: '))).toBe(true);
    expect(refused.out.join('\n')).not.toContain(CITIZEN_ID);
    // Nothing shredded: the key is still there (asked of the database, not of a cache), and the event opens.
    const keyring = await Keyring.open({ url: db.url, masterKeys: parseMasterKeys(env['KEYRING_MASTER_KEYS'] as string), cacheSize: 0 });
    const stateOf = async (): Promise<string | undefined> => (await keyring.get([ref])).get(ref)?.kind;
    expect(await stateOf()).toBe('key');
    const onLog = await readEvents(settings);
    expect(onLog.map((e) => [e.type, e.personKey, e.eventId, e.actor, e.source, e.payload])).toEqual([
      ['person.erased', CITIZEN_ID, eventId, 'operator:ops-test', 'ops:keyring', { reason: 'PIPL art. 47 request 17', requestedBy: 'operator:ops-test' }],
    ]);
    // The running projection was handed the event (opened: it carries the person key).
    expect(handled.map((e) => [e.type, e.personKey])).toEqual([['person.erased', CITIZEN_ID]]);

    // Run again (the stopped projection left out, as if it had caught up): a duplicate of the event
    // is appended (same event ID: the projection skips it), the group passes it, the key is destroyed.
    const done = await run('erase', '--citizen-id', CITIZEN_ID, '--reason', 'PIPL art. 47 request 17', '--groups', probeGroup, '--requested-by', 'operator:ops-1', '--wait-seconds', '60');
    expect(done.code).toBe(0);
    expect(done.out[0]).toBe(`keyring erase: person ${ref}: person.erased ${eventId} appended (partition ${partition}, offset 1); waiting up to 60 s for ${probeGroup}`);
    expect(done.out).toContain(`keyring erase: ${probeGroup} passed`);
    expect(done.out[done.out.length - 1]).toBe(`keyring erase: person ${ref} erased (data key destroyed); running consumers stop reading their events within a minute (key cache)`);
    expect(handled.map((e) => [e.type, e.personKey])).toEqual([['person.erased', CITIZEN_ID]]);
    expect(await stateOf()).toBe('shredded');
    await keyring.close();
  });

  it('erases a person by destroying their key, naming the person ref and never the citizen ID; rotates; reports', async () => {
    const sealer = await sealerFor({ sealing: sealing() });
    const ref = sealer.personRef(CITIZEN_ID);
    const groups = ['--groups', probeGroup];

    expect(await run('status')).toEqual({ code: 0, out: ['keyring: 1 data keys (k1=1), 1 shredded; current master key k1'] });
    expect(await run('erase', '--citizen-id', CITIZEN_ID)).toEqual({ code: 2, out: ['keyring erase: --citizen-id and --reason are both required'] });
    expect(await run('erase', '--citizen-id', CITIZEN_ID, '--reason', 'r', '--wait-seconds', 'soon')).toEqual({ code: 2, out: ['keyring erase: --wait-seconds must be a whole number of seconds, got "soon"'] });
    expect(await run('erase', '--citizen-id', CITIZEN_ID, '--reason', 'again', ...groups)).toEqual({ code: 0, out: [`keyring erase: person ${ref} was already erased`] });
    const unknown = sealer.personRef(UNKNOWN_ID);
    expect(await run('erase', '--citizen-id', UNKNOWN_ID, '--reason', 'r', ...groups)).toEqual({
      code: 1,
      out: [
        `keyring erase: no data key for person ${unknown}: no event of this citizen ID was sealed under this LOG_PERSON_REF_SECRET. ` +
          "Check the ID (records sent under a mistyped ID are erased by that ID as sent) and the configuration (the stack's KEYRING_DATABASE_URL and LOG_PERSON_REF_SECRET); nothing was done. " +
          "--even-without-key erases anyway, refusing the person's future events",
      ],
    });
    // Not an ID at all, and a reason that would keep personal data after the person is gone: refused before anything is done.
    expect(await run('erase', '--citizen-id', 'abc', '--reason', 'r', ...groups)).toEqual({
      code: 2,
      out: ['keyring erase: --citizen-id must be a citizen ID as the records carry it: 15 to 18 characters, digits, the last may be X'],
    });
    expect(await run('erase', '--citizen-id', UNKNOWN_ID, '--reason', `request 19 for ${UNKNOWN_ID}`, ...groups)).toEqual({
      code: 2,
      out: [`keyring erase: --reason must hold no personal data (it is kept after the erasure); it looks like it holds a citizen ID, phone, name or address: "request 19 for ${UNKNOWN_ID.slice(0, 6)}********${UNKNOWN_ID.slice(-4)}". Give a request number instead`],
    });
    const other = sealer.personRef(OTHER_ID);
    const erased = await run('erase', '--citizen-id', ` ${OTHER_ID} `, '--reason', 'PIPL art. 47 request 18', ...groups);
    expect(erased.code).toBe(0);
    expect(erased.out[erased.out.length - 1]).toBe(`keyring erase: person ${other} erased (data key destroyed); running consumers stop reading their events within a minute (key cache)`);
    // Without a key: the erasure event is still appended (projections may hold rows of plain events
    // written before the log was sealed), then the key made for it is destroyed.
    const without = await run('erase', '--citizen-id', UNKNOWN_ID, '--reason', 'r', '--even-without-key', ...groups);
    expect(without.code).toBe(0);
    expect(without.out[without.out.length - 1]).toBe(`keyring erase: person ${unknown} erased (data key destroyed); running consumers stop reading their events within a minute (key cache)`);
    expect([...erased.out, ...without.out].join('\n')).not.toMatch(new RegExp(`${OTHER_ID}|${UNKNOWN_ID}`));
    expect(await run('status')).toEqual({ code: 0, out: ['keyring: 0 data keys (-), 3 shredded; current master key k1'] });
    expect(handled.map((e) => [e.type, e.personKey])).toEqual([['person.erased', CITIZEN_ID], ['person.erased', OTHER_ID], ['person.erased', UNKNOWN_ID]]);

    await sealer.keyring.getOrCreate([sealer.personRef(valid('11010119700101123'))]);
    env = { ...env, KEYRING_MASTER_KEYS: `k2:${randomBytes(32).toString('base64')},${env['KEYRING_MASTER_KEYS']}` };
    expect(await run('rotate')).toEqual({ code: 0, out: ['keyring rotate: 1 data keys rewrapped under master key k2'] });
    expect(await run('status')).toEqual({ code: 0, out: ['keyring: 1 data keys (k2=1), 3 shredded; current master key k2'] });
    expect((await run('bogus')).code).toBe(2);
  });
});
