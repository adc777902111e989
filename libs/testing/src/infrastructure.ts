// Where the int and e2e tiers find Kafka, PostgreSQL and Redis (docs/operations/local-infrastructure.md).
//
// - With a Docker engine: throwaway containers (testcontainers) for Kafka 3.9.1 (KRaft),
//   PostgreSQL 15 and Redis 7, and the variables of docs/conventions.md pointed at them.
// - Without one (this project's machines): the local stack of deploy/local/up.sh, i.e. the
//   variables as already set, else the defaults of docs/conventions.md.
// QMCB_TESTCONTAINERS=false forces the second even when an engine answers (e.g. to test against
// the broker started by up.sh or a real cluster).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { StartedTestContainer } from 'testcontainers';

export const LOCAL_DEFAULTS = Object.freeze({
  KAFKA_BROKERS: '127.0.0.1:9092',
  LOG_TOPIC: 'registration.changes.v1',
  LOG_PARTITIONS: '6',
  LOG_REPLICATION: '1',
  PGHOST: '127.0.0.1',
  PGPORT: '5432',
  PGUSER: 'postgres',
  REDIS_URL: 'redis://127.0.0.1:6379',
  // No secret is written down anywhere: each test run makes its own (docs/security.md, "Secrets").
  AUTH_JWT_SECRET: randomBytes(32).toString('base64url'),
  API_KEY_SECRET: randomBytes(32).toString('base64url'),
  PERSON_ID_SECRET: randomBytes(32).toString('base64url'),
  // The log's sealing (ADR 0009): a master key and a person-ref secret of this run; the keyring
  // database qmcb_keyring (created like the services' databases) keeps rows of earlier runs apart
  // by their refs.
  KEYRING_MASTER_KEYS: `test:${randomBytes(32).toString('base64')}`,
  LOG_PERSON_REF_SECRET: randomBytes(32).toString('base64url'),
});

export interface Infrastructure {
  /** `testcontainers` when containers were started for this run, else `local`. */
  source: 'testcontainers' | 'local';
  /** The variables of docs/conventions.md as the tests should see them. */
  env: Record<keyof typeof LOCAL_DEFAULTS, string> & { PGPASSWORD?: string };
  /** Containers started by this call (empty for `local`); the Ryuk reaper removes them at exit. */
  containers: StartedTestContainer[];
}

const KAFKA_IMAGE = 'apache/kafka:3.9.1';
const POSTGRES_IMAGE = 'postgres:15';
const REDIS_IMAGE = 'redis:7';
const SERVICE_GROUPS = ['comparison', 'survey-tasking', 'review', 'dynamic-update'] as const;
const STARTED_FLAG = 'QMCB_TESTCONTAINERS_STARTED';

/** True when a Docker engine answers `docker info` within `timeoutMs` (a client alone is not enough). */
export function dockerEngineAvailable(timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: timeoutMs }, (error, stdout) => {
      resolve(!error && stdout.trim().length > 0);
    });
  });
}

/** The variables as set in the environment, with the local defaults for the missing ones. */
export function localInfrastructure(): Infrastructure {
  const env: Infrastructure['env'] = { ...LOCAL_DEFAULTS };
  for (const name of Object.keys(LOCAL_DEFAULTS) as (keyof typeof LOCAL_DEFAULTS)[]) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  if (process.env.PGPASSWORD) env.PGPASSWORD = process.env.PGPASSWORD;
  return { source: 'local', env, containers: [] };
}

/**
 * Starts Kafka, PostgreSQL and Redis in containers when a Docker engine answers, and sets
 * process.env accordingly (before jest starts its workers, so every test sees it). Otherwise
 * fills in the local defaults for variables that are not set, and starts nothing.
 */
export async function startContainersIfDocker(): Promise<Infrastructure> {
  const optOut = /^(0|false|no|off)$/i.test(process.env.QMCB_TESTCONTAINERS ?? '');
  // Already started in this process (jest runs one global setup per selected project).
  const alreadyStarted = process.env[STARTED_FLAG] === '1';
  if (optOut || alreadyStarted || !(await dockerEngineAvailable())) {
    const local = localInfrastructure();
    applyEnv(local.env);
    return alreadyStarted ? { ...local, source: 'testcontainers' } : local;
  }

  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  const host = (await getContainerRuntimeClient()).info.containerRuntime.host;
  const env = { ...localInfrastructure().env };
  const logTopic = env.LOG_TOPIC;
  const partitions = env.LOG_PARTITIONS;

  // Kafka advertises the address clients must use, so its host port is chosen before start.
  const kafkaPort = await freePort();
  const kafkaStart = new GenericContainer(KAFKA_IMAGE)
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_LISTENERS: 'INTERNAL://:19092,EXTERNAL://:9092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: `INTERNAL://localhost:19092,EXTERNAL://${host}:${kafkaPort}`,
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_MIN_INSYNC_REPLICAS: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withExposedPorts({ container: 9092, host: kafkaPort })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(120_000)
    .start();

  const postgresStart = new GenericContainer(POSTGRES_IMAGE)
    .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust', POSTGRES_USER: 'postgres' })
    .withCopyContentToContainer([
      { content: postgresInitSql(), target: '/docker-entrypoint-initdb.d/10-qmcb.sql' },
    ])
    .withTmpFs({ '/var/lib/postgresql/data': 'rw' })
    .withExposedPorts(5432)
    // Printed once by the init server and once by the real one.
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .withStartupTimeout(120_000)
    .start();

  const redisStart = new GenericContainer(REDIS_IMAGE)
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .start();

  const settled = await Promise.allSettled([kafkaStart, postgresStart, redisStart]);
  const containers = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.allSettled(containers.map((c) => c.stop()));
    throw failed.reason;
  }
  const [kafka, postgres, redis] = containers as [StartedTestContainer, StartedTestContainer, StartedTestContainer];

  // The log and the dead-letter topics, with the settings of deploy/local/topics.js.
  const isr = env.LOG_REPLICATION === '1' ? '1' : '2';
  const topics: [string, string][] = [
    [logTopic, partitions],
    ...SERVICE_GROUPS.map((g): [string, string] => [`${logTopic}.dlq.${g}`, '3']),
  ];
  for (const [topic, count] of topics) {
    const result = await kafka.exec([
      '/opt/kafka/bin/kafka-topics.sh', '--bootstrap-server', 'localhost:19092', '--create', '--if-not-exists',
      '--topic', topic, '--partitions', count, '--replication-factor', '1',
      '--config', 'retention.ms=-1', '--config', 'retention.bytes=-1',
      '--config', 'cleanup.policy=delete', '--config', `min.insync.replicas=${isr}`,
    ]);
    if (result.exitCode !== 0) {
      await Promise.allSettled(containers.map((c) => c.stop()));
      throw new Error(`creating topic ${topic} in the Kafka container failed: ${result.output}`);
    }
  }

  env.KAFKA_BROKERS = `${host}:${kafkaPort}`;
  env.LOG_REPLICATION = '1';
  env.PGHOST = postgres.getHost();
  env.PGPORT = String(postgres.getMappedPort(5432));
  env.PGUSER = 'postgres';
  delete env.PGPASSWORD;
  env.REDIS_URL = `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`;
  applyEnv(env, true);
  delete process.env.PGPASSWORD;
  process.env[STARTED_FLAG] = '1';
  return { source: 'testcontainers', env, containers };
}

function applyEnv(env: Infrastructure['env'], override = false): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (override || !process.env[name]) process.env[name] = value;
  }
}

function postgresInitSql(): string {
  try {
    // The same script docker-compose.yml runs: the four databases with their schemas.
    return readFileSync(join(__dirname, '..', '..', '..', 'deploy', 'compose', 'postgres-init.sql'), 'utf8');
  } catch {
    return SERVICE_GROUPS.map((s) => s.replace(/-/g, '_'))
      .map((schema) => `CREATE DATABASE qmcb_${schema};\n\\connect qmcb_${schema}\nCREATE SCHEMA IF NOT EXISTS ${schema};\n`)
      .join('')
      .concat('CREATE DATABASE qmcb_keyring;\n');
  }
}

/** A TCP port nobody listens on right now (the OS's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** Whether nothing listens on 127.0.0.1:port right now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** How far a service's management port is from its HTTP port (libs/platform: MANAGEMENT_PORT default). */
export const MANAGEMENT_PORT_OFFSET = 1000;

/**
 * A free port for a service whose management port (port + 1000) is free too: a service listens on
 * both, and a bare freePort() may hand out a port whose +1000 is taken (EADDRINUSE at start).
 */
export async function freeServicePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = await freePort();
    if (port + MANAGEMENT_PORT_OFFSET <= 65_535 && (await portIsFree(port + MANAGEMENT_PORT_OFFSET))) return port;
  }
  throw new Error('no free port whose management port (+1000) is free too');
}
