import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

const toInt = ({ value }: { value: unknown }): unknown => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

/** Dynamic update's own settings (environment), besides the ServiceConfig every service reads. */
export class DynamicUpdateConfig {
  /** The operational schema (feed, subscriptions, snapshots); default `<DB_SCHEMA>_ops`. */
  @IsOptional() @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'must be a lower-case schema name' })
  OPS_SCHEMA?: string;

  /** How often feed entries get their sequence numbers; 0 turns it off in this process. */
  @Transform(toInt) @IsInt() @Min(0) @Max(60_000)
  FEED_SEQUENCE_INTERVAL_MS: number;

  /** How often webhook subscriptions are looked at; 0 turns delivery off in this process. */
  @Transform(toInt) @IsInt() @Min(0) @Max(3_600_000)
  WEBHOOK_POLL_INTERVAL_MS: number;

  /** How long one webhook call may take. */
  @Transform(toInt) @IsInt() @Min(100) @Max(120_000)
  WEBHOOK_TIMEOUT_MS: number;

  /** Attempts of one batch before it goes to the subscription's dead letters. */
  @Transform(toInt) @IsInt() @Min(1) @Max(100)
  WEBHOOK_MAX_ATTEMPTS: number;

  /** Wait after the first failure; doubled after each further one, up to WEBHOOK_BACKOFF_MAX_MS. */
  @Transform(toInt) @IsInt() @Min(1) @Max(3_600_000)
  WEBHOOK_BACKOFF_MS: number;

  @Transform(toInt) @IsInt() @Min(1) @Max(86_400_000)
  WEBHOOK_BACKOFF_MAX_MS: number;

  /** Feed entries per webhook call. */
  @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  WEBHOOK_BATCH_SIZE: number;
}

export const DYNAMIC_UPDATE_DEFAULTS: Record<keyof DynamicUpdateConfig, string | undefined> = {
  OPS_SCHEMA: undefined,
  FEED_SEQUENCE_INTERVAL_MS: '200',
  WEBHOOK_POLL_INTERVAL_MS: '1000',
  WEBHOOK_TIMEOUT_MS: '10000',
  WEBHOOK_MAX_ATTEMPTS: '8',
  WEBHOOK_BACKOFF_MS: '1000',
  WEBHOOK_BACKOFF_MAX_MS: '300000',
  WEBHOOK_BATCH_SIZE: '100',
};

/** What the service's parts are given: the settings, with the operational schema resolved. */
export interface DynamicUpdateSettings extends DynamicUpdateConfig {
  opsSchema: string;
}

export const DYNAMIC_UPDATE_SETTINGS = Symbol('DYNAMIC_UPDATE_SETTINGS');
