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

describe('loadConfig', () => {
  it('applies the service defaults of docs/conventions.md and converts types', () => {
    const config = loadConfig(BaseConfig, serviceDefaults('survey-tasking'), {});
    expect(config).toBeInstanceOf(BaseConfig);
    expect(config).toMatchObject({
      PORT: 3102,
      NODE_ENV: 'development',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/qmcb_survey_tasking',
      DB_SCHEMA: 'survey_tasking',
      REDIS_URL: 'redis://127.0.0.1:6379',
      KAFKA_BROKERS: '127.0.0.1:9092',
      LOG_TOPIC: 'registration.changes.v1',
      LOG_PARTITIONS: 6,
      LOG_REPLICATION: 1,
      MIGRATIONS_RUN: true,
    });
    expect(config).not.toHaveProperty('PATH');
  });

  it('lets the environment win, treats empty as unset and honours PG* variables', () => {
    const env = { PORT: '4000', MIGRATIONS_RUN: 'false', REDIS_URL: '', PGHOST: 'db', PGPASSWORD: 'p@ss' };
    const config = loadConfig(BaseConfig, serviceDefaults('review', undefined, env), env);
    expect(config.PORT).toBe(4000);
    expect(config.MIGRATIONS_RUN).toBe(false);
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.DATABASE_URL).toBe('postgres://postgres:p%40ss@db:5432/qmcb_review');
  });

  it('names every bad or missing variable and the rule it broke, in one error', () => {
    const e = problems(() =>
      loadConfig(ReviewConfig, serviceDefaults('review'), { PORT: 'abc', LOG_PARTITIONS: '0', MIGRATIONS_RUN: 'yes', KAFKA_BROKERS: 'kafka' }),
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

  it('refuses the development secrets in production without echoing any secret', () => {
    const e = problems(() => loadConfig(BaseConfig, serviceDefaults('review'), { NODE_ENV: 'production', API_KEY_SECRET: 'short-but-real' }));
    expect(e.problems.map((p) => `${p.variable}:${p.rule}`).sort()).toEqual(['API_KEY_SECRET:productionSecret', 'AUTH_JWT_SECRET:productionSecret']);
    expect(e.message).not.toContain('dev-only');
    expect(e.message).not.toContain('short-but-real');
    const secret = 'x'.repeat(40);
    expect(loadConfig(BaseConfig, serviceDefaults('review'), { NODE_ENV: 'production', API_KEY_SECRET: secret, AUTH_JWT_SECRET: `${secret}y` }).NODE_ENV).toBe('production');
  });

  it('redacts secrets, including those a service adds', () => {
    const config = loadConfig(ReviewConfig, serviceDefaults('review'), { REVIEW_PAGE_SIZE: '50', REVIEW_WEBHOOK_TOKEN: 't' });
    const shown = redactConfig(config);
    expect(shown).toMatchObject({ AUTH_JWT_SECRET: '[secret]', API_KEY_SECRET: '[secret]', REVIEW_WEBHOOK_TOKEN: '[secret]', PORT: 3103 });
  });
});
