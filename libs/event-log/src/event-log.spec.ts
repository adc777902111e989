import { ContractViolationError } from '@qmcb/contracts';
import { assertSchemaName, dataSourceOptions, eventLogMigrations } from './database';
import { jsonLogger, maskPersonalData } from './logger';
import { parseMasterKeys } from './keyring';
import { openSealed, parseValue, personRefOf, sealEvent } from './seal';
import { deadLetterTopic, kafkaLogCreator, kafkaSettingsFromEnv, KafkaSettingsError } from './settings';
import { logLevel } from 'kafkajs';
import { personKey, taskEvent } from './test-support/tally';

describe('kafkaSettingsFromEnv', () => {
  it('uses the conventions defaults', () => {
    expect(kafkaSettingsFromEnv('svc', {})).toEqual({
      brokers: ['127.0.0.1:9092'],
      clientId: 'svc',
      topic: 'registration.changes.v1',
      partitions: 6,
      replication: 1,
    });
  });

  it('reads and trims the variables', () => {
    const env = { KAFKA_BROKERS: ' a:9092, b:9093 ', LOG_TOPIC: 'x.y', LOG_PARTITIONS: '12', LOG_REPLICATION: '3' };
    expect(kafkaSettingsFromEnv('svc', env)).toEqual({ brokers: ['a:9092', 'b:9093'], clientId: 'svc', topic: 'x.y', partitions: 12, replication: 3 });
  });

  it.each([
    [{ KAFKA_BROKERS: 'nohost' }, 'KAFKA_BROKERS'],
    [{ KAFKA_BROKERS: ' , ' }, 'KAFKA_BROKERS'],
    [{ LOG_PARTITIONS: '0' }, 'LOG_PARTITIONS'],
    [{ LOG_PARTITIONS: 'six' }, 'LOG_PARTITIONS'],
    [{ LOG_REPLICATION: '-1' }, 'LOG_REPLICATION'],
    [{ LOG_TOPIC: 'bad topic' }, 'LOG_TOPIC'],
  ])('refuses %p naming %s', (env, variable) => {
    expect(() => kafkaSettingsFromEnv('svc', env)).toThrow(KafkaSettingsError);
    expect(() => kafkaSettingsFromEnv('svc', env)).toThrow(variable);
  });

  it('names dead-letter topics per group', () => {
    expect(deadLetterTopic({ topic: 'registration.changes.v1' }, 'comparison')).toBe('registration.changes.v1.dlq.comparison');
  });
});

describe('sealed envelope (ADR 0009)', () => {
  const dek = Buffer.alloc(32, 7);
  const refSecret = 'r'.repeat(16) + 's'.repeat(16) + 't'.repeat(8);

  it('keeps the non-personal fields readable, seals person key and payload, and opens to the same envelope', () => {
    const e = taskEvent(personKey(1), 1);
    const ref = personRefOf(refSecret, e.personKey);
    expect(ref).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const value = sealEvent(e, ref, dek);
    const outer = JSON.parse(value.toString()) as Record<string, unknown>;
    expect(Object.keys(outer)).toEqual(['eventId', 'type', 'schemaVersion', 'personRef', 'occurredAt', 'recordedAt', 'source', 'actor', 'correlationId', 'causationId', 'basedOnVersion', 'sealed']);
    expect(outer).toMatchObject({ eventId: e.eventId, type: e.type, schemaVersion: 1, personRef: ref, actor: e.actor });
    expect(value.includes(Buffer.from(e.personKey))).toBe(false);
    expect(value.includes(Buffer.from(JSON.stringify(e.payload).slice(1, -1)))).toBe(false);
    const u = parseValue(value);
    if (u.kind !== 'sealed') throw new Error('not sealed');
    expect(openSealed(u, dek)).toEqual(e);
  });

  it('refuses a sealed part that was altered, opened with another key, or moved under another readable field', () => {
    const e = taskEvent(personKey(1), 1);
    const ref = personRefOf(refSecret, e.personKey);
    const outer = JSON.parse(sealEvent(e, ref, dek).toString()) as Record<string, string>;
    const sealedBytes = Buffer.from((outer['sealed'] as string).slice(3), 'base64url');
    sealedBytes[20] = (sealedBytes[20] as number) ^ 1;
    const cases: [string, Buffer, Buffer][] = [
      ['altered', Buffer.from(JSON.stringify({ ...outer, sealed: `v1.${sealedBytes.toString('base64url')}` })), dek],
      ['other key', Buffer.from(JSON.stringify(outer)), Buffer.alloc(32, 8)],
      ['other actor', Buffer.from(JSON.stringify({ ...outer, actor: 'user:mallory' })), dek],
    ];
    for (const [, value, key] of cases) {
      const u = parseValue(value);
      if (u.kind !== 'sealed') throw new Error('not sealed');
      expect(() => openSealed(u, key)).toThrow(ContractViolationError);
      expect(() => openSealed(u, key)).toThrow("the sealed part does not open under the person's key: altered, moved from another event, or sealed under another key");
    }
  });

  it('reads a plain event written before sealing as it is', () => {
    const e = taskEvent(personKey(2), 1);
    expect(parseValue(Buffer.from(JSON.stringify(e)))).toEqual({ kind: 'plain', raw: e });
  });

  it('parses master keys, the first being the current one, and refuses bad ones naming the variable', () => {
    const a = Buffer.alloc(32, 1).toString('base64');
    const b = Buffer.alloc(32, 2).toString('base64');
    expect(parseMasterKeys(`k2:${b}, k1:${a}`).map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(() => parseMasterKeys(undefined)).toThrow('KEYRING_MASTER_KEYS: is required');
    expect(() => parseMasterKeys(`k1:${Buffer.alloc(16, 1).toString('base64')}`)).toThrow('KEYRING_MASTER_KEYS: key "k1" must be the base64 of exactly 32 bytes');
    expect(() => parseMasterKeys(`k1:${a},k1:${b}`)).toThrow('KEYRING_MASTER_KEYS: key id "k1" is given twice');
    expect(() => parseMasterKeys(`k1:${Buffer.alloc(32).toString('base64')}`)).toThrow('KEYRING_MASTER_KEYS: key "k1" is all zeros');
  });

  it('takes the sealing settings from the environment with the keyring database beside the others', () => {
    const masterKeys = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
    expect(kafkaSettingsFromEnv('svc', { KEYRING_MASTER_KEYS: masterKeys, LOG_PERSON_REF_SECRET: refSecret, PGHOST: 'db' }).sealing).toEqual({
      keyringUrl: 'postgres://postgres@db:5432/qmcb_keyring',
      masterKeys,
      refSecret,
    });
    expect(() => kafkaSettingsFromEnv('svc', { KEYRING_MASTER_KEYS: masterKeys, LOG_PERSON_REF_SECRET: 'short' })).toThrow(
      'LOG_PERSON_REF_SECRET: must be at least 32 characters (generate one: openssl rand -base64 48)',
    );
  });
});

describe('logging', () => {
  it('masks citizen IDs and phone numbers', () => {
    expect(maskPersonalData('id 11010119900101001X phone 13812345678 offset 123')).toBe('id 110101***********X phone 138****5678 offset 123');
  });

  it('writes JSON lines with masked context', () => {
    const lines: string[] = [];
    const logger = jsonLogger('t', (l) => lines.push(l));
    logger.warn('handler failed for 110101199001010011', { partition: 2, detail: 'phone 13812345678' });
    const parsed: unknown = JSON.parse(lines[0] ?? '');
    expect(parsed).toMatchObject({ level: 'warn', component: 't', msg: 'handler failed for 110101***********1', partition: 2, detail: 'phone 138****5678' });
  });
});

describe('kafkajs lines through our logger', () => {
  const levelsOf = (entries: { level: logLevel; message: string; error?: string }[]): string[] => {
    const lines: string[] = [];
    const log = kafkaLogCreator(jsonLogger('t', (l) => lines.push(l)))();
    for (const { level, message, error } of entries) log({ namespace: 'Connection', level, label: '', log: { timestamp: '', message, ...(error ? { error } : {}), groupId: 'comparison' } });
    return lines.map((l) => {
      const { level, msg, error } = JSON.parse(l) as { level: string; msg: string; error?: string };
      return `${level} ${msg}${error ? ` (${error})` : ''}`;
    });
  };

  it('writes the steps of a consumer-group rebalance at info or warn, never error; real errors stay errors', () => {
    expect(
      levelsOf([
        { level: logLevel.ERROR, message: 'Response Heartbeat(key: 12, version: 3)', error: 'The group is rebalancing, so a rejoin is needed' },
        { level: logLevel.ERROR, message: 'Response OffsetCommit(key: 8, version: 5)', error: 'The group is rebalancing, so a rejoin is needed' },
        { level: logLevel.ERROR, message: 'Response JoinGroup(key: 11, version: 5)', error: 'The group member needs to have a valid member id before actually entering a consumer group' },
        { level: logLevel.WARN, message: 'The group is rebalancing, re-joining', error: 'The group is rebalancing, so a rejoin is needed' },
        { level: logLevel.ERROR, message: 'The coordinator is not aware of this member, re-joining the group', error: 'The coordinator is not aware of this member' },
        { level: logLevel.ERROR, message: 'Response SyncGroup(key: 14, version: 3)', error: 'Specified group generation id is not valid' },
        { level: logLevel.ERROR, message: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092' },
        { level: logLevel.ERROR, message: 'Crash: KafkaJSNumberOfRetriesExceeded: The group is rebalancing, so a rejoin is needed' },
      ]),
    ).toEqual([
      'info Response Heartbeat(key: 12, version: 3) (The group is rebalancing, so a rejoin is needed)',
      'info Response OffsetCommit(key: 8, version: 5) (The group is rebalancing, so a rejoin is needed)',
      'info Response JoinGroup(key: 11, version: 5) (The group member needs to have a valid member id before actually entering a consumer group)',
      'info The group is rebalancing, re-joining (The group is rebalancing, so a rejoin is needed)',
      'warn The coordinator is not aware of this member, re-joining the group (The coordinator is not aware of this member)',
      'warn Response SyncGroup(key: 14, version: 3) (Specified group generation id is not valid)',
      'error Connection error: connect ECONNREFUSED 127.0.0.1:9092',
      'error Crash: KafkaJSNumberOfRetriesExceeded: The group is rebalancing, so a rejoin is needed',
    ]);
  });
});

describe('dataSourceOptions', () => {
  it('sets the search_path, never synchronizes and names the migrations table', () => {
    const o = dataSourceOptions({ url: 'postgres://postgres@127.0.0.1:5432/x', schema: 'survey_tasking', migrations: eventLogMigrations() });
    expect(o).toMatchObject({
      type: 'postgres',
      synchronize: false,
      migrationsTableName: 'migrations',
      extra: expect.objectContaining({ options: '-c search_path=survey_tasking' }),
    });
  });

  it('refuses schema names that would need quoting', () => {
    expect(() => assertSchemaName('Robert"; drop')).toThrow();
    expect(assertSchemaName('comparison__rebuild')).toBe('comparison__rebuild');
  });
});
