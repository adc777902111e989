import { Transform } from 'class-transformer';
import type { TransformFnParams } from 'class-transformer';
import { IsBoolean, IsDefined, IsIn, IsInt, IsString, Matches, Max, Min, ValidateBy } from 'class-validator';
import type { ValidationArguments } from 'class-validator';
import { DEV_API_KEY_SECRET, DEV_AUTH_JWT_SECRET } from '@qmcb/auth';
import { Secret } from './secret.decorator';

export const NODE_ENVS = ['development', 'test', 'production'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];
const LOG_LEVEL_NAMES = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'] as const;
export const MIN_PRODUCTION_SECRET_LENGTH = 32;

const toInt = ({ value }: TransformFnParams): unknown => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value);
const toBool = ({ value }: TransformFnParams): unknown => (value === 'true' ? true : value === 'false' ? false : value);

/** In production a secret must be long and must not be the development default. */
function ProductionSecret(devDefault: string): PropertyDecorator {
  return ValidateBy({
    name: 'productionSecret',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => {
        if ((args?.object as { NODE_ENV?: unknown } | undefined)?.NODE_ENV !== 'production') return true;
        return typeof value === 'string' && value !== devDefault && value.length >= MIN_PRODUCTION_SECRET_LENGTH;
      },
      defaultMessage: () =>
        `must be set to a real secret of at least ${MIN_PRODUCTION_SECRET_LENGTH} characters when NODE_ENV=production (the development default is refused)`,
    },
  });
}

/**
 * What every service reads from its environment (docs/conventions.md, Addresses). A service
 * extends it with its own variables and passes its class to loadConfig.
 */
export class BaseConfig {
  @IsDefined() @Transform(toInt) @IsInt() @Min(1) @Max(65535)
  PORT: number;

  @IsDefined() @IsIn(NODE_ENVS)
  NODE_ENV: NodeEnv;

  @IsDefined() @IsIn(LOG_LEVEL_NAMES)
  LOG_LEVEL: (typeof LOG_LEVEL_NAMES)[number];

  @IsDefined() @IsString() @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// URL' })
  DATABASE_URL: string;

  @IsDefined() @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'must be a lower-case PostgreSQL identifier (letters, digits, _)' })
  DB_SCHEMA: string;

  @IsDefined() @IsString() @Matches(/^rediss?:\/\/\S+$/, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL: string;

  @IsDefined() @Matches(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, { message: 'must be a comma-separated list of host:port' })
  KAFKA_BROKERS: string;

  @IsDefined() @Matches(/^[A-Za-z0-9._-]{1,249}$/, { message: 'must be a Kafka topic name' })
  LOG_TOPIC: string;

  @IsDefined() @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  LOG_PARTITIONS: number;

  @IsDefined() @Transform(toInt) @IsInt() @Min(1) @Max(10)
  LOG_REPLICATION: number;

  @Secret() @IsDefined() @IsString() @ProductionSecret(DEV_AUTH_JWT_SECRET)
  AUTH_JWT_SECRET: string;

  @Secret() @IsDefined() @IsString() @ProductionSecret(DEV_API_KEY_SECRET)
  API_KEY_SECRET: string;

  @IsDefined() @Transform(toBool) @IsBoolean({ message: 'must be true or false' })
  MIGRATIONS_RUN: boolean;
}
