import { ContractViolationError } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { assertSchemaName, dataSourceOptions, eventLogMigrations } from './database';
import { jsonLogger, maskPersonalData } from './logger';
import { toMessages } from './producer';
import { deadLetterTopic, kafkaSettingsFromEnv, KafkaSettingsError } from './settings';
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

describe('toMessages', () => {
  it('keys by person and sets the event headers', () => {
    const e = taskEvent(personKey(1), 1);
    const [m] = toMessages([e]);
    expect(m?.key).toBe(e.personKey);
    expect(m?.headers).toEqual({ 'event-type': 'survey.task-created', 'schema-version': '1', 'event-id': e.eventId });
    expect(JSON.parse(String(m?.value))).toMatchObject({ eventId: e.eventId, payload: e.payload });
  });

  it('validates the whole batch before returning anything', () => {
    const good = taskEvent(personKey(1), 1);
    const bad = { ...good, payload: { ...good.payload, taskId: 'not-a-uuid' } } as RegistrationEvent;
    expect(() => toMessages([good, bad])).toThrow(ContractViolationError);
    expect(() => toMessages([good, bad])).toThrow('payload.taskId');
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
