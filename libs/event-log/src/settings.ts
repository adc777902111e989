import { readFileSync } from 'fs';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, LogEntry, RetryOptions, SASLOptions } from 'kafkajs';
import { KeyringConfigError } from './keyring';
import { jsonLogger, silentLogger } from './logger';
import type { Logger } from './logger';
import { sealingFromEnv } from './seal';
import type { SealingSettings } from './seal';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  /** The log topic. */
  topic: string;
  /** Partitions when the topic is created. */
  partitions: number;
  /** Replication factor when the topic is created. */
  replication: number;
  /** TLS to the brokers; `ca`: PEM of the CA that signed their certificates (KAFKA_SSL, KAFKA_SSL_CA_FILE). */
  ssl?: { ca?: string };
  /** SASL credentials (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD). */
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /**
   * The keyring and secrets that seal events on the log (ADR 0009): KEYRING_DATABASE_URL,
   * KEYRING_MASTER_KEYS, LOG_PERSON_REF_SECRET. Producers and consumers refuse to run without them.
   */
  sealing?: SealingSettings;
}

function sealingOf(env: Record<string, string | undefined>): Pick<KafkaSettings, 'sealing'> {
  try {
    const sealing = sealingFromEnv(env);
    return sealing ? { sealing } : {};
  } catch (e) {
    if (e instanceof KeyringConfigError) throw new KafkaSettingsError(e.variable, e.message.slice(e.variable.length + 2));
    throw e;
  }
}

const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

/** KAFKA_SSL / KAFKA_SSL_CA_FILE / KAFKA_SASL_*: how to reach a secured cluster (docs/security.md, "Deployment"). */
function securityFromEnv(env: Record<string, string | undefined>): Pick<KafkaSettings, 'ssl' | 'sasl'> {
  const out: Pick<KafkaSettings, 'ssl' | 'sasl'> = {};
  const ssl = env['KAFKA_SSL']?.trim();
  if (ssl && ssl !== 'true' && ssl !== 'false') throw new KafkaSettingsError('KAFKA_SSL', `must be true or false, got "${ssl}"`);
  if (ssl === 'true') {
    const caFile = env['KAFKA_SSL_CA_FILE']?.trim();
    out.ssl = caFile ? { ca: readFileSync(caFile, 'utf8') } : {};
  }
  const mechanism = env['KAFKA_SASL_MECHANISM']?.trim();
  if (mechanism) {
    if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
      throw new KafkaSettingsError('KAFKA_SASL_MECHANISM', `must be one of ${SASL_MECHANISMS.join(', ')}, got "${mechanism}"`);
    }
    const username = env['KAFKA_SASL_USERNAME'] ?? '';
    const password = env['KAFKA_SASL_PASSWORD'] ?? '';
    if (!username || !password) throw new KafkaSettingsError('KAFKA_SASL_USERNAME', 'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with KAFKA_SASL_MECHANISM');
    out.sasl = { mechanism: mechanism as (typeof SASL_MECHANISMS)[number], username, password };
  }
  return out;
}

export class KafkaSettingsError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'KafkaSettingsError';
  }
}

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
const BROKER = /^[^\s:,]+:\d{1,5}$/;

function positiveInt(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) {
    throw new KafkaSettingsError(name, `must be a positive integer, got "${raw}"`);
  }
  return Number(raw);
}

/** Reads KAFKA_BROKERS, LOG_TOPIC, LOG_PARTITIONS, LOG_REPLICATION (docs/conventions.md) and refuses bad values. */
export function kafkaSettingsFromEnv(clientId: string, env: Record<string, string | undefined> = process.env): KafkaSettings {
  const brokers = (env['KAFKA_BROKERS'] ?? '127.0.0.1:9092')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (brokers.length === 0) throw new KafkaSettingsError('KAFKA_BROKERS', 'must name at least one host:port');
  for (const b of brokers) {
    if (!BROKER.test(b)) throw new KafkaSettingsError('KAFKA_BROKERS', `"${b}" is not host:port`);
  }
  const topic = env['LOG_TOPIC']?.trim() || 'registration.changes.v1';
  if (!TOPIC_NAME.test(topic)) throw new KafkaSettingsError('LOG_TOPIC', `"${topic}" is not a valid topic name`);
  if (!clientId.trim()) throw new KafkaSettingsError('clientId', 'must not be empty');
  return {
    brokers,
    clientId,
    topic,
    partitions: positiveInt(env, 'LOG_PARTITIONS', 6),
    replication: positiveInt(env, 'LOG_REPLICATION', 1),
    ...securityFromEnv(env),
    ...sealingOf(env),
  };
}

/** Dead-letter topic of one consumer group (docs/conventions.md: Kafka). */
export function deadLetterTopic(settings: Pick<KafkaSettings, 'topic'>, groupId: string): string {
  return `${settings.topic}.dlq.${groupId}`;
}

/**
 * Retries pinned explicitly: under Jest (NODE_ENV=test) kafkajs otherwise switches to retry
 * defaults of a few milliseconds, which makes a busy 2-core machine flaky.
 */
export const CLIENT_RETRY: RetryOptions = { initialRetryTime: 300, maxRetryTime: 5_000, retries: 8, factor: 0.2, multiplier: 2 };

// Said once per idempotent producer because we bound its retries on purpose (ADR 0001).
const SUPPRESSED = ['Limiting retries for the idempotent producer may invalidate EoS guarantees'];

/**
 * A consumer group rebalancing is normal operation (a replica starts or stops, a deployment rolls),
 * yet kafkajs logs its steps at error: the heartbeat or commit answered "The group is rebalancing",
 * the coordinator that has forgotten a member, a generation that moved on, the member ID a first join
 * must fetch. Those lines are info (the rebalance itself) or warn (a member re-joining); alerting on
 * error-level lines stays meaningful. Matched on the broker's error texts (protocol/error.js) and the
 * runner's own messages.
 */
const REBALANCE_INFO = [
  'The group is rebalancing, so a rejoin is needed', // REBALANCE_IN_PROGRESS
  'The group member needs to have a valid member id before actually entering a consumer group', // MEMBER_ID_REQUIRED
  'The group is rebalancing, re-joining',
];
const REBALANCE_WARN = [
  'The coordinator is not aware of this member', // UNKNOWN_MEMBER_ID (and the runner's "…, re-joining the group")
  'Specified group generation id is not valid', // ILLEGAL_GENERATION
  'This is not the correct coordinator for this group', // NOT_COORDINATOR_FOR_GROUP
];

/** The level a kafkajs line is written at: its own, but rebalancing steps at info or warn, never error. */
export function kafkaLineLevel(level: logLevel, message: string, error?: unknown): 'info' | 'warn' | 'error' {
  const own = level === logLevel.ERROR || level === logLevel.NOTHING ? 'error' : level === logLevel.WARN ? 'warn' : 'info';
  if (own === 'info') return own;
  const texts = [message, typeof error === 'string' ? error : ''];
  if (texts.some((t) => REBALANCE_INFO.some((r) => t.startsWith(r)))) return 'info';
  if (texts.some((t) => REBALANCE_WARN.some((r) => t.startsWith(r)))) return 'warn';
  return own;
}

/** kafkajs' logCreator writing through our logger (exported for its test). */
export function kafkaLogCreator(logger: Logger) {
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const { message, timestamp: _timestamp, ...rest } = log;
      if (SUPPRESSED.includes(message)) return;
      // kafkajs context carries brokers, groups, partitions and error texts, never message values.
      const ctx: Record<string, unknown> = { kafka: namespace };
      for (const key of ['groupId', 'memberId', 'topic', 'partition', 'broker', 'error', 'retryCount', 'retryTime', 'clientId']) {
        if (rest[key] !== undefined) ctx[key] = rest[key];
      }
      const at = kafkaLineLevel(level, message, rest['error']);
      if (at === 'error') logger.error(message, ctx);
      else if (at === 'warn') logger.warn(message, ctx);
      else logger.log(message, ctx);
    };
}

export interface ClientTimeouts {
  connectionTimeout?: number;
  requestTimeout?: number;
  retry?: RetryOptions;
}

/** The one place a kafkajs client is made; its own logger stays at WARN and goes through ours. */
export function createKafka(settings: KafkaSettings, logger: Logger = jsonLogger(), timeouts: ClientTimeouts = {}): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ...(settings.ssl ? { ssl: settings.ssl.ca ? { ca: [settings.ssl.ca] } : true } : {}),
    ...(settings.sasl ? { sasl: settings.sasl as SASLOptions } : {}),
    connectionTimeout: timeouts.connectionTimeout ?? 5_000,
    requestTimeout: timeouts.requestTimeout ?? 30_000,
    retry: timeouts.retry ?? CLIENT_RETRY,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(logger),
  });
}

export async function withAdmin<T>(settings: KafkaSettings, fn: (admin: Admin) => Promise<T>, logger?: Logger, timeouts?: ClientTimeouts): Promise<T> {
  const admin = createKafka(settings, logger, timeouts).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

const TOPIC_CONFIG = [
  { name: 'retention.ms', value: '-1' },
  { name: 'cleanup.policy', value: 'delete' },
];

/** Creates the log topic and the given extra topics (dead letters) when missing; never alters existing ones. */
export async function ensureTopics(settings: KafkaSettings, extra: { topic: string; partitions: number }[] = []): Promise<void> {
  const wanted = new Map<string, number>([[settings.topic, settings.partitions]]);
  for (const t of extra) if (!wanted.has(t.topic)) wanted.set(t.topic, t.partitions);
  for (const name of wanted.keys()) {
    if (!TOPIC_NAME.test(name)) throw new KafkaSettingsError('topic', `"${name}" is not a valid topic name`);
  }
  await withAdmin(settings, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = [...wanted].filter(([name]) => !existing.has(name));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      timeout: 30_000,
      topics: missing.map(([topic, numPartitions]) => ({
        topic,
        numPartitions,
        replicationFactor: settings.replication,
        configEntries: TOPIC_CONFIG,
      })),
    });
  });
}

/** Deletes topics (tests, tooling). Missing topics are ignored. */
export async function deleteTopics(settings: KafkaSettings, topics: string[]): Promise<void> {
  await withAdmin(settings, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length) await admin.deleteTopics({ topics: present, timeout: 30_000 });
  });
}

/** Topic names starting with a prefix (tests use it to find a test topic's dead-letter topics). */
export async function listTopics(settings: KafkaSettings, prefix = ''): Promise<string[]> {
  return withAdmin(settings, async (admin) => (await admin.listTopics()).filter((t) => t.startsWith(prefix)).sort());
}

/** For /health: resolves when the cluster answers within the timeout, throws otherwise. */
export async function pingKafka(settings: KafkaSettings, timeoutMs = 3_000): Promise<void> {
  // The thrown error is the report; a health probe must not flood the log while Kafka is down.
  const admin = createKafka(settings, silentLogger, {
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Kafka did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([
      (async () => {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length === 0) throw new Error('Kafka cluster has no brokers');
      })(),
      timeout,
    ]);
  } finally {
    if (timer) clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}

export interface PartitionOffsets {
  partition: number;
  low: bigint;
  high: bigint;
}

export async function topicOffsets(admin: Admin, topic: string): Promise<PartitionOffsets[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets
    .map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }))
    .sort((a, b) => a.partition - b.partition);
}

