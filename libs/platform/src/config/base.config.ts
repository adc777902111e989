import { Transform } from 'class-transformer';
import type { TransformFnParams } from 'class-transformer';
import { IsBoolean, IsDefined, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateBy } from 'class-validator';
import { secretProblem } from '@qmcb/auth';
import { MIN_AUDIT_RETENTION_DAYS } from '../audit/audit-store';
import { parseRateLimits } from '../http/rate-limit';
import { Secret } from './secret.decorator';

export const NODE_ENVS = ['development', 'test', 'production'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];
const LOG_LEVEL_NAMES = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'] as const;

const toInt = ({ value }: TransformFnParams): unknown => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value);
const toBool = ({ value }: TransformFnParams): unknown => (value === 'true' ? true : value === 'false' ? false : value);

/**
 * A real secret: at least 32 characters, not a published development value. Whatever NODE_ENV says:
 * a deployment that forgot NODE_ENV=production must not run on a secret everyone knows.
 */
function RealSecret(): PropertyDecorator {
  let problem: string | undefined;
  return ValidateBy({
    name: 'realSecret',
    validator: {
      validate: (value: unknown) => {
        problem = secretProblem(typeof value === 'string' ? value : undefined);
        return problem === undefined;
      },
      defaultMessage: () => `${problem ?? 'is not a real secret'} (generate one: openssl rand -base64 48)`,
    },
  });
}

/** KEYRING_MASTER_KEYS: `<id>:<base64 of 32 bytes>[,…]`, the first the current one (ADR 0009). */
function MasterKeys(): PropertyDecorator {
  let problem = '';
  return ValidateBy({
    name: 'masterKeys',
    validator: {
      validate: (value: unknown) => {
        const entries = typeof value === 'string' ? value.split(',').map((p) => p.trim()).filter((p) => p) : [];
        if (entries.length === 0) {
          problem = 'must name at least one master key <id>:<base64 of 32 bytes>';
          return false;
        }
        const ids = new Set<string>();
        for (const entry of entries) {
          const m = /^([A-Za-z0-9._-]{1,32}):([A-Za-z0-9+/_-]+={0,2})$/.exec(entry);
          const key = m ? Buffer.from(m[2] as string, 'base64') : null;
          if (!m || !key || key.length !== 32) {
            problem = 'each entry must be <id>:<base64 of exactly 32 bytes> (generate one: echo "k1:$(openssl rand -base64 32)")';
            return false;
          }
          if (key.equals(Buffer.alloc(32)) || ids.has(m[1] as string)) {
            problem = `key "${m[1]}" is all zeros or given twice`;
            return false;
          }
          ids.add(m[1] as string);
        }
        return true;
      },
      defaultMessage: () => problem,
    },
  });
}

function RateLimits(): PropertyDecorator {
  let problem = '';
  return ValidateBy({
    name: 'rateLimits',
    validator: {
      validate: (value: unknown) => {
        try {
          parseRateLimits(typeof value === 'string' ? value : undefined);
          return true;
        } catch (e) {
          problem = e instanceof Error ? e.message : String(e);
          return false;
        }
      },
      defaultMessage: () => problem,
    },
  });
}

/**
 * What every service reads from its environment (docs/conventions.md, Addresses; docs/security.md).
 * A service extends it with its own variables and passes its class to loadConfig.
 */
export class BaseConfig {
  @IsDefined() @Transform(toInt) @IsInt() @Min(1) @Max(65535)
  PORT: number;

  /** Where the service listens. */
  @IsDefined() @IsString()
  HOST: string;

  /** Metrics and OpenAPI: a port of their own, never the service's; loopback unless the deployment's internal network needs it. */
  @IsDefined() @Transform(toInt) @IsInt() @Min(1) @Max(65535)
  MANAGEMENT_PORT: number;

  @IsDefined() @IsString()
  MANAGEMENT_HOST: string;

  /** Informational only: no behaviour depends on it (secrets are checked whatever it says). */
  @IsDefined() @IsIn(NODE_ENVS)
  NODE_ENV: NodeEnv;

  @IsDefined() @IsIn(LOG_LEVEL_NAMES)
  LOG_LEVEL: (typeof LOG_LEVEL_NAMES)[number];

  @Secret() @IsDefined() @IsString() @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// URL' })
  DATABASE_URL: string;

  @IsDefined() @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'must be a lower-case PostgreSQL identifier (letters, digits, _)' })
  DB_SCHEMA: string;

  @Secret() @IsDefined() @IsString() @Matches(/^rediss?:\/\/\S+$/, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL: string;

  /** PEM file of the CA that signed Redis' certificate (with a rediss:// URL). */
  @IsOptional() @IsString()
  REDIS_TLS_CA_FILE?: string;

  @IsDefined() @Matches(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, { message: 'must be a comma-separated list of host:port' })
  KAFKA_BROKERS: string;

  /** TLS to the brokers (with KAFKA_SSL_CA_FILE, the CA of their certificates). */
  @IsDefined() @Transform(toBool) @IsBoolean({ message: 'must be true or false' })
  KAFKA_SSL: boolean;

  @IsOptional() @IsString()
  KAFKA_SSL_CA_FILE?: string;

  @IsOptional() @IsIn(['plain', 'scram-sha-256', 'scram-sha-512'])
  KAFKA_SASL_MECHANISM?: 'plain' | 'scram-sha-256' | 'scram-sha-512';

  @IsOptional() @IsString()
  KAFKA_SASL_USERNAME?: string;

  @Secret() @IsOptional() @IsString()
  KAFKA_SASL_PASSWORD?: string;

  @IsDefined() @Matches(/^[A-Za-z0-9._-]{1,249}$/, { message: 'must be a Kafka topic name' })
  LOG_TOPIC: string;

  @IsDefined() @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  LOG_PARTITIONS: number;

  @IsDefined() @Transform(toInt) @IsInt() @Min(1) @Max(10)
  LOG_REPLICATION: number;

  @Secret() @IsDefined() @IsString() @RealSecret()
  AUTH_JWT_SECRET: string;

  @Secret() @IsDefined() @IsString() @RealSecret()
  API_KEY_SECRET: string;

  /** Person IDs (docs/security.md): the same in every service of a deployment. */
  @Secret() @IsDefined() @IsString() @RealSecret()
  PERSON_ID_SECRET: string;

  /** The keyring's own database (ADR 0009): one data key per person, never in a service's schema. */
  @Secret() @IsDefined() @IsString() @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// URL' })
  KEYRING_DATABASE_URL: string;

  /** Master keys wrapping the data keys, the current one first (docs/security.md, "Rotating keys"). */
  @Secret() @IsDefined() @IsString() @MasterKeys()
  KEYRING_MASTER_KEYS: string;

  /** HMAC key of the person refs that key the log (ADR 0009); cannot rotate without re-keying the log. */
  @Secret() @IsDefined() @IsString() @RealSecret()
  LOG_PERSON_REF_SECRET: string;

  /** The previous PERSON_ID_SECRET during a rotation: IDs made with it are still read. */
  @Secret() @IsOptional() @IsString() @RealSecret()
  PERSON_ID_SECRET_PREVIOUS?: string;

  /** The longest lifetime of a person's token (exp - iat), seconds. */
  @IsDefined() @Transform(toInt) @IsInt() @Min(60) @Max(86_400)
  AUTH_MAX_TOKEN_TTL_SECONDS: number;

  /** Express `trust proxy`: the proxies whose X-Forwarded-For names the client (e.g. `loopback`, `10.0.0.0/8`). Unset: none. */
  @IsOptional() @IsString()
  TRUST_PROXY?: string;

  /** Per-caller budgets per window, `read=300,list=60,export=6,write=300,bulk=120,auth-failure=30` (unnamed: defaults). */
  @IsOptional() @IsString() @RateLimits()
  RATE_LIMITS?: string;

  @IsDefined() @Transform(toInt) @IsInt() @Min(1_000) @Max(3_600_000)
  RATE_LIMIT_WINDOW_MS: number;

  /** The division this deployment serves (a county, say): department systems' audit entries are filed under it for auditors. */
  @IsOptional() @Matches(/^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/, { message: 'must be a 2, 4, 6, 9 or 12-digit division code' })
  DEPLOYMENT_DIVISION?: string;

  /** How long audit entries are kept before `audit purge` may remove them (at least six months). */
  @IsDefined() @Transform(toInt) @IsInt() @Min(MIN_AUDIT_RETENTION_DAYS) @Max(36_500)
  AUDIT_RETENTION_DAYS: number;

  @IsDefined() @Transform(toBool) @IsBoolean({ message: 'must be true or false' })
  MIGRATIONS_RUN: boolean;
}
