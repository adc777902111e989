import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { ValidationError } from 'class-validator';
import { DEFAULT_MAX_TOKEN_TTL_SECONDS } from '@qmcb/auth';
import { secretKeysOf } from './secret.decorator';

export interface ConfigProblem {
  variable: string;
  rule: string;
  message: string;
}

/** The process refuses to start: every bad or missing variable, with the rule it broke. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      [
        `Invalid configuration: ${problems.length} problem${problems.length === 1 ? '' : 's'}; the service will not start.`,
        ...problems.map((p) => `  - ${p.variable}: ${p.message} [${p.rule}]`),
      ].join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export type ConfigDefaults = Record<string, string | undefined>;

/** Ports of the four services (docs/conventions.md). */
export const SERVICE_PORTS: Readonly<Record<string, number>> = {
  comparison: 3101,
  'survey-tasking': 3102,
  review: 3103,
  'dynamic-update': 3104,
};

/**
 * Local defaults of one service (docs/conventions.md, Addresses): its port and management port, its
 * database `qmcb_<service>` (PG* variables honoured), its schema `<service with _>`, the shared
 * addresses. Never secrets: a service without real ones does not start (docs/security.md, "Secrets").
 */
export function serviceDefaults(serviceName: string, port?: number, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const resolvedPort = port ?? SERVICE_PORTS[serviceName];
  if (resolvedPort === undefined) throw new Error(`no default port for ${serviceName}: pass one`);
  const user = encodeURIComponent(env['PGUSER'] || 'postgres');
  const password = env['PGPASSWORD'] ? `:${encodeURIComponent(env['PGPASSWORD'])}` : '';
  const host = env['PGHOST'] || '127.0.0.1';
  const pgPort = env['PGPORT'] || '5432';
  return {
    PORT: String(resolvedPort),
    HOST: '0.0.0.0',
    MANAGEMENT_PORT: String(resolvedPort + 1000),
    MANAGEMENT_HOST: '127.0.0.1',
    NODE_ENV: 'production',
    LOG_LEVEL: 'log',
    DATABASE_URL: `postgres://${user}${password}@${host}:${pgPort}/qmcb_${serviceName.replace(/-/g, '_')}`,
    KEYRING_DATABASE_URL: `postgres://${user}${password}@${host}:${pgPort}/qmcb_keyring`,
    DB_SCHEMA: serviceName.replace(/-/g, '_'),
    REDIS_URL: 'redis://127.0.0.1:6379',
    KAFKA_BROKERS: '127.0.0.1:9092',
    KAFKA_SSL: 'false',
    LOG_TOPIC: 'registration.changes.v1',
    LOG_PARTITIONS: '6',
    LOG_REPLICATION: '1',
    AUTH_MAX_TOKEN_TTL_SECONDS: String(DEFAULT_MAX_TOKEN_TTL_SECONDS),
    RATE_LIMIT_WINDOW_MS: '60000',
    AUDIT_RETENTION_DAYS: '366',
    MIGRATIONS_RUN: 'true',
  };
}

const TYPE_RULES = new Set(['isInt', 'isBoolean', 'isString', 'isNumber']);

function problemsOf(errors: ValidationError[], plain: Record<string, unknown>, secrets: Set<string>): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const e of errors) {
    const raw = plain[e.property];
    let constraints = Object.entries(e.constraints ?? {});
    // A value of the wrong type breaks its range rules too; its type is the one worth reporting.
    const typeRules = constraints.filter(([rule]) => TYPE_RULES.has(rule));
    if (typeRules.length) constraints = typeRules;
    if (raw === undefined) {
      out.push({ variable: e.property, rule: 'isDefined', message: 'is missing' });
      continue;
    }
    const shown = secrets.has(e.property) ? '' : ` (got ${JSON.stringify(String(raw).slice(0, 80))})`;
    for (const [rule, message] of constraints) {
      const text = message.startsWith(`${e.property} `) ? message.slice(e.property.length + 1) : message;
      out.push({ variable: e.property, rule, message: `${text}${shown}` });
    }
  }
  return out;
}

/**
 * Reads, converts and validates the configuration: `env` over `defaults`, an empty variable
 * counting as unset. Throws ConfigError naming every bad or missing variable; secrets are never
 * echoed.
 */
export function loadConfig<T extends object>(cls: new () => T, defaults: ConfigDefaults = {}, env: NodeJS.ProcessEnv = process.env): T {
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(defaults)) if (v !== undefined && v !== '') plain[k] = v;
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') plain[k] = v;
  const config = plainToInstance(cls, plain);
  // whitelist strips every environment variable the class does not declare.
  const errors = validateSync(config, { whitelist: true, forbidUnknownValues: true, validationError: { target: false } });
  if (errors.length) throw new ConfigError(problemsOf(errors, plain, new Set(secretKeysOf(cls))));
  return config;
}
