import { BaseConfig, loadConfig, serviceDefaults } from '@qmcb/platform';
import { kafkaSettingsFromEnv } from '@qmcb/event-log';
import type { KafkaSettings } from '@qmcb/event-log';
import { Transform } from 'class-transformer';
import { IsBoolean, IsDefined, IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

const toBool = ({ value }: { value: unknown }): unknown => (value === 'true' ? true : value === 'false' ? false : value);
const toInt = ({ value }: { value: unknown }): unknown => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

/** BaseConfig plus what the log runtime of a service reads. */
export class ServiceConfig extends BaseConfig {
  /** Consumer group; the service name unless set (tests run several groups side by side). */
  @IsOptional() @Matches(/^[A-Za-z0-9._-]{1,200}$/, { message: 'must be a Kafka group id' })
  CONSUMER_GROUP?: string;

  /** Whether this process consumes the log (false for a replica that only serves HTTP). */
  @IsDefined() @Transform(toBool) @IsBoolean({ message: 'must be true or false' })
  CONSUME: boolean;

  /** Whether this process relays its outbox to the log (any number of replicas may; rows are locked). */
  @IsDefined() @Transform(toBool) @IsBoolean({ message: 'must be true or false' })
  RELAY_OUTBOX: boolean;

  /** Create the log and dead-letter topics at start when missing (off where topics are provisioned). */
  @IsDefined() @Transform(toBool) @IsBoolean({ message: 'must be true or false' })
  KAFKA_ENSURE_TOPICS: boolean;

  /** Consumer tuning (ADR 0001, "Batch apply"; the event-log's defaults when unset): partitions applied at once. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(64)
  CONSUMER_CONCURRENCY?: number;

  /** Events per applyBatch call. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(100_000)
  CONSUMER_APPLY_BATCH_SIZE?: number;

  /** Bytes per partition and fetch: the most a consumer batch holds. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(65_536) @Max(104_857_600)
  CONSUMER_MAX_BYTES_PER_PARTITION?: number;

  /** How long the broker may hold a fetch waiting for CONSUMER_MIN_BYTES: the most it adds to latency under a trickle. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(10_000)
  CONSUMER_MAX_WAIT_MS?: number;

  /** The broker answers a fetch once it has this many bytes (or CONSUMER_MAX_WAIT_MS passed). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(10_485_760)
  CONSUMER_MIN_BYTES?: number;

  /** Whether personal values are deflated before they are sealed at rest (ADR 0012); `off` only during a rolling upgrade from a version that cannot open them. Read by the sealer (sealCompression); checked here at start. */
  @IsOptional() @IsIn(['on', 'off'], { message: 'must be on or off' })
  SEAL_COMPRESSION?: string;

  /** Whether the outbox relay is woken by the outbox's NOTIFY (a LISTEN connection); the poll stays as the fallback. */
  @IsDefined() @Transform(toBool) @IsBoolean({ message: 'must be true or false' })
  OUTBOX_LISTEN: boolean;

  /** How often the outbox relay looks for rows without being woken. */
  @IsDefined() @Transform(toInt) @IsInt() @Min(10) @Max(3_600_000)
  OUTBOX_POLL_INTERVAL_MS: number;
}

export function loadServiceConfig(name: string, env: NodeJS.ProcessEnv = process.env): { config: ServiceConfig; kafka: KafkaSettings } {
  const config = loadConfig(ServiceConfig, { ...serviceDefaults(name, undefined, env), CONSUME: 'true', RELAY_OUTBOX: 'true', KAFKA_ENSURE_TOPICS: 'true', OUTBOX_LISTEN: 'true', OUTBOX_POLL_INTERVAL_MS: '500' }, env);
  const kafka = kafkaSettingsFromEnv(name, {
    ...env,
    KAFKA_BROKERS: config.KAFKA_BROKERS,
    KAFKA_SSL: String(config.KAFKA_SSL),
    LOG_TOPIC: config.LOG_TOPIC,
    LOG_PARTITIONS: String(config.LOG_PARTITIONS),
    LOG_REPLICATION: String(config.LOG_REPLICATION),
    KEYRING_DATABASE_URL: config.KEYRING_DATABASE_URL,
    KEYRING_MASTER_KEYS: config.KEYRING_MASTER_KEYS,
    LOG_PERSON_REF_SECRET: config.LOG_PERSON_REF_SECRET,
    MIGRATIONS_RUN: String(config.MIGRATIONS_RUN),
  });
  return { config, kafka };
}
