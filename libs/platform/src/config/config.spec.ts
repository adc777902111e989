import { IsDefined, IsInt } from 'class-validator';
import { Transform } from 'class-transformer';
import { BaseConfig } from './base.config';
import { ConfigError, loadConfig, serviceDefaults } from './load-config';
import { Secret, redactConfig } from './secret.decorator';

class ReviewConfig extends BaseConfig {
  @IsDefined() @Transform(({ value }) => (typeof value === 'string' ? Number(value) : value)) @IsInt()
  REVIEW_PAGE_SIZE: number;

  @Secret() @IsDefined()
  REVIEW_WEBHOOK_TOKEN: string;
}

function problems(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

/** Secrets as an operator generates them (openssl rand -base64 48): no default exists. */
const SECRETS = {
  AUTH_JWT_SECRET: 'k3Yx9q2LmP7vT4rW8zA1bC6dE0fG5hJ2nQ9sU3wX',
  API_KEY_SECRET: 'Z8yX7wV6uT5sR4qP3oN2mL1kJ0iH9gF8eD7cB6aA',
  PERSON_ID_SECRET: 'pQ4rS5tU6vW7xY8zA9bC0dE1fG2hI3jK4lM5nO6p',
  KEYRING_MASTER_KEYS: 'k1:91RbllWdKBm90JyPoPw3hLRd/ABHcAEMoP4vbZJsCNo=',
  LOG_PERSON_REF_SECRET: 'Rf7Tg6Yh5Uj4Ik3Ol2Pz1Xc0Vb9Nm8Qw7Er6Ty5Ui',
};

describe('loadConfig', () => {
  it('applies the service defaults of docs/conventions.md and converts types', () => {
    const config = loadConfig(BaseConfig, serviceDefaults('survey-tasking'), SECRETS);
    expect(config).toBeInstanceOf(BaseConfig);
    expect(config).toMatchObject({
      PORT: 3102,
      MANAGEMENT_PORT: 4102,
      MANAGEMENT_HOST: '127.0.0.1',
      AUTH_MAX_TOKEN_TTL_SECONDS: 43200,
      AUDIT_RETENTION_DAYS: 366,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/qmcb_survey_tasking',
      DB_SCHEMA: 'survey_tasking',
      REDIS_URL: 'redis://127.0.0.1:6379',
      KAFKA_BROKERS: '127.0.0.1:9092',
      LOG_TOPIC: 'registration.changes.v1',
      LOG_PARTITIONS: 6,
      LOG_REPLICATION: 1,
      MIGRATIONS_RUN: true,
      KEYRING_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/qmcb_keyring',
    });
    expect(config).not.toHaveProperty('PATH');
  });

  it('lets the environment win, treats empty as unset and honours PG* variables', () => {
    const env = { ...SECRETS, PORT: '4000', MIGRATIONS_RUN: 'false', REDIS_URL: '', PGHOST: 'db', PGPASSWORD: 'p@ss' };
    const config = loadConfig(BaseConfig, serviceDefaults('review', undefined, env), env);
    expect(config.PORT).toBe(4000);
    expect(config.MIGRATIONS_RUN).toBe(false);
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.DATABASE_URL).toBe('postgres://postgres:p%40ss@db:5432/qmcb_review');
  });

  it('names every bad or missing variable and the rule it broke, in one error', () => {
    const e = problems(() =>
      loadConfig(ReviewConfig, serviceDefaults('review'), { ...SECRETS, PORT: 'abc', LOG_PARTITIONS: '0', MIGRATIONS_RUN: 'yes', KAFKA_BROKERS: 'kafka' }),
    );
    expect(e.problems).toEqual(
      expect.arrayContaining([
        { variable: 'PORT', rule: 'isInt', message: 'must be an integer number (got "abc")' },
        { variable: 'LOG_PARTITIONS', rule: 'min', message: 'must not be less than 1 (got "0")' },
        { variable: 'MIGRATIONS_RUN', rule: 'isBoolean', message: 'must be true or false (got "yes")' },
        { variable: 'KAFKA_BROKERS', rule: 'matches', message: 'must be a comma-separated list of host:port (got "kafka")' },
        { variable: 'REVIEW_PAGE_SIZE', rule: 'isDefined', message: 'is missing' },
        { variable: 'REVIEW_WEBHOOK_TOKEN', rule: 'isDefined', message: 'is missing' },
      ]),
    );
    expect(e.message.split('\n')[0]).toBe('Invalid configuration: 6 problems; the service will not start.');
    expect(e.message).toContain('  - PORT: must be an integer number (got "abc") [isInt]');
  });

  it('refuses missing, short, published and trivial secrets whatever NODE_ENV says, without echoing any', () => {
    for (const NODE_ENV of ['development', 'test', 'production', undefined]) {
      const e = problems(() =>
        loadConfig(BaseConfig, serviceDefaults('review'), {
          ...(NODE_ENV ? { NODE_ENV } : {}),
          API_KEY_SECRET: 'short-but-real',
          AUTH_JWT_SECRET: 'dev-only-jwt-secret-change-me',
          PERSON_ID_SECRET: 'x'.repeat(40),
          KEYRING_MASTER_KEYS: SECRETS.KEYRING_MASTER_KEYS,
          LOG_PERSON_REF_SECRET: SECRETS.LOG_PERSON_REF_SECRET,
        }),
      );
      expect(e.problems).toEqual([
        { variable: 'AUTH_JWT_SECRET', rule: 'realSecret', message: 'must be at least 32 characters (generate one: openssl rand -base64 48)' },
        { variable: 'API_KEY_SECRET', rule: 'realSecret', message: 'must be at least 32 characters (generate one: openssl rand -base64 48)' },
        { variable: 'PERSON_ID_SECRET', rule: 'realSecret', message: 'has fewer than 8 distinct characters (generate one: openssl rand -base64 48)' },
      ]);
      expect(e.message).not.toContain('dev-only');
      expect(e.message).not.toContain('short-but-real');
    }
    const published = problems(() => loadConfig(BaseConfig, serviceDefaults('review'), { ...SECRETS, API_KEY_SECRET: 'dev-only-api-key-secret-change-me' }));
    expect(published.problems).toEqual([{ variable: 'API_KEY_SECRET', rule: 'realSecret', message: 'is a published development value (generate one: openssl rand -base64 48)' }]);
    const none = problems(() => loadConfig(BaseConfig, serviceDefaults('review'), {}));
    expect(none.problems.map((p) => `${p.variable}:${p.rule}`)).toEqual([
      'AUTH_JWT_SECRET:isDefined',
      'API_KEY_SECRET:isDefined',
      'PERSON_ID_SECRET:isDefined',
      'KEYRING_MASTER_KEYS:isDefined',
      'LOG_PERSON_REF_SECRET:isDefined',
    ]);
    const keys = problems(() => loadConfig(BaseConfig, serviceDefaults('review'), { ...SECRETS, KEYRING_MASTER_KEYS: 'k1:c2hvcnQ=' }));
    expect(keys.problems).toEqual([
      { variable: 'KEYRING_MASTER_KEYS', rule: 'masterKeys', message: 'each entry must be <id>:<base64 of exactly 32 bytes> (generate one: echo "k1:$(openssl rand -base64 32)")' },
    ]);
    expect(keys.message).not.toContain('c2hvcnQ');
    expect(loadConfig(BaseConfig, serviceDefaults('review'), { ...SECRETS, NODE_ENV: 'development' }).AUTH_JWT_SECRET).toBe(SECRETS.AUTH_JWT_SECRET);
  });

  it('keeps the audit at least six months and refuses bad rate limits', () => {
    const e = problems(() => loadConfig(BaseConfig, serviceDefaults('review'), { ...SECRETS, AUDIT_RETENTION_DAYS: '90', RATE_LIMITS: 'list=60,export=zero' }));
    expect(e.problems).toEqual([
      { variable: 'RATE_LIMITS', rule: 'rateLimits', message: 'RATE_LIMITS: "export=zero" is not <class>=<positive integer> with class one of read, list, export, write, bulk, auth-failure (got "list=60,export=zero")' },
      { variable: 'AUDIT_RETENTION_DAYS', rule: 'min', message: 'must not be less than 183 (got "90")' },
    ]);
  });

  it('redacts secrets, including those a service adds', () => {
    const config = loadConfig(ReviewConfig, serviceDefaults('review'), { ...SECRETS, REVIEW_PAGE_SIZE: '50', REVIEW_WEBHOOK_TOKEN: 't' });
    const shown = redactConfig(config);
    expect(shown).toMatchObject({
      AUTH_JWT_SECRET: '[secret]',
      API_KEY_SECRET: '[secret]',
      PERSON_ID_SECRET: '[secret]',
      KEYRING_MASTER_KEYS: '[secret]',
      LOG_PERSON_REF_SECRET: '[secret]',
      KEYRING_DATABASE_URL: '[secret]',
      DATABASE_URL: '[secret]',
      REDIS_URL: '[secret]',
      REVIEW_WEBHOOK_TOKEN: '[secret]',
      PORT: 3103,
    });
  });
});
