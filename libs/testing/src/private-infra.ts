/*
 * Kafka, PostgreSQL and Redis instances of a test's own, on free ports with their own data
 * directories: for tests that stop, kill, fill or misconfigure a server (the fault suite, the
 * deployment's TLS and least privilege). The shared servers on the standard ports are never touched.
 *
 * - PostgreSQL: `initdb` of the machine's PostgreSQL (run as the `postgres` user), `pg_ctl`.
 * - Redis: the machine's `redis-server`, TLS and ACL files when asked.
 * - Kafka: the jars deploy/local/up.sh fetched into ${QMCB_CACHE_DIR:-~/.cache/qmcb}/kafka-<version>/libs,
 *   a single KRaft node, SASL/TLS listeners when asked.
 */
import { execFileSync, spawn } from 'child_process';
import type { ChildProcess } from 'child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { createConnection } from 'net';
import { homedir, tmpdir } from 'os';
import { join } from 'path';
import { freePort } from './infrastructure';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, child?: ChildProcess, log?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    if (child && child.exitCode !== null) throw new Error(`${what}: the process exited with ${child.exitCode}${log ? ` (see ${log})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not ready within ${timeoutMs} ms${log ? ` (see ${log})` : ''}`);
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A scratch directory for one instance, removed by its `remove()`. */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `qmcb-${prefix}-`));
}

// ------------------------------------------------------------------------------------------ TLS

export interface TestCertificates {
  dir: string;
  /** The CA's certificate (PEM): what clients trust. */
  ca: string;
  /** A server certificate for localhost / 127.0.0.1 signed by the CA, and its key (PEM, unencrypted). */
  cert: string;
  key: string;
  /** Key and certificate chain in one PEM file (what Kafka reads with ssl.keystore.type=PEM). */
  keyAndCert: string;
}

/** A CA and a server certificate for 127.0.0.1 and localhost, made with openssl. */
export function makeCertificates(dir = scratchDir('certs')): TestCertificates {
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=qmcb test CA');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext');
  const keyAndCert = join(dir, 'server.pem');
  writeFileSync(keyAndCert, `${execFileSync('cat', [join(dir, 'server.key'), join(dir, 'server.crt')]).toString()}`);
  return { dir, ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), keyAndCert };
}

// ------------------------------------------------------------------------------------------ PostgreSQL

const PG_BIN = (() => {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  return versions.length ? join('/usr/lib/postgresql', versions[0] as string, 'bin') : '';
})();

export interface PrivatePostgresOptions {
  /** Serve TLS with these (ssl = on). */
  tls?: TestCertificates;
  /** pg_hba.conf lines; default: trust on the socket and on 127.0.0.1. */
  hba?: string[];
  /** The superuser's password (for hba lines that ask for one). */
  superuserPassword?: string;
}

export interface PrivatePostgres {
  port: number;
  dataDir: string;
  /** postgres://<user>[:<password>]@127.0.0.1:<port>/<database>[?query] */
  url(database?: string, user?: string, password?: string, query?: string): string;
  start(): Promise<void>;
  /** pg_ctl stop: `fast` rolls back what runs; `immediate` is a crash (recovery at the next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops it and removes its files. */
  remove(): Promise<void>;
}

function asPostgres(args: string[], cwd: string): void {
  execFileSync('runuser', ['-u', 'postgres', '--', ...args], { cwd, stdio: 'pipe' });
}

/** A PostgreSQL cluster of its own (initdb), started on a free port of 127.0.0.1. */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  if (!PG_BIN) throw new Error('no PostgreSQL under /usr/lib/postgresql');
  const root = scratchDir('pg');
  chmodSync(root, 0o755);
  const dataDir = join(root, 'data');
  mkdirSync(dataDir);
  chownSync(dataDir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
  const pwfile = join(root, 'pw');
  writeFileSync(pwfile, options.superuserPassword ?? 'postgres');
  chmodSync(pwfile, 0o644);
  asPostgres([join(PG_BIN, 'initdb'), '-D', dataDir, '-U', 'postgres', '--auth=trust', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync'], root);
  const port = await freePort();
  const conf = [`port = ${port}`, `listen_addresses = '127.0.0.1'`, `unix_socket_directories = '${dataDir}'`, 'fsync = off', 'max_connections = 100'];
  if (options.tls) {
    for (const [name, file] of [['server.crt', options.tls.cert], ['server.key', options.tls.key], ['ca.crt', options.tls.ca]] as const) {
      execFileSync('cp', [file, join(dataDir, name)]);
      asPostgres(['true'], root);
      execFileSync('chown', ['postgres:postgres', join(dataDir, name)]);
      chmodSync(join(dataDir, name), 0o600);
    }
    conf.push('ssl = on', `ssl_cert_file = 'server.crt'`, `ssl_key_file = 'server.key'`, `ssl_ca_file = 'ca.crt'`);
  }
  writeFileSync(join(dataDir, 'postgresql.auto.conf'), `${conf.join('\n')}\n`);
  const hba = options.hba ?? ['local all all trust', 'host all all 127.0.0.1/32 trust'];
  writeFileSync(join(dataDir, 'pg_hba.conf'), `${hba.join('\n')}\n`);
  const log = join(root, 'postgres.log');
  writeFileSync(log, '');
  execFileSync('chown', ['-R', 'postgres:postgres', dataDir, log]);
  const ctl = (...args: string[]): void => asPostgres([join(PG_BIN, 'pg_ctl'), '-D', dataDir, '-l', log, '-w', '-t', '60', ...args], root);
  const instance: PrivatePostgres = {
    port,
    dataDir,
    url: (database = 'postgres', user = 'postgres', password, query) =>
      `postgres://${encodeURIComponent(user)}${password ? `:${encodeURIComponent(password)}` : ''}@127.0.0.1:${port}/${database}${query ? `?${query}` : ''}`,
    start: async () => {
      ctl('start');
      await until(`postgres on ${port}`, () => portOpen(port), 30_000, undefined, log);
    },
    stop: async (mode = 'fast') => {
      try {
        ctl('stop', '-m', mode);
      } catch {
        // Already stopped.
      }
    },
    restart: async (mode = 'fast') => {
      await instance.stop(mode);
      await instance.start();
    },
    remove: async () => {
      await instance.stop('immediate');
      rmSync(root, { recursive: true, force: true });
    },
  };
  await instance.start();
  return instance;
}

// ------------------------------------------------------------------------------------------ Redis

export interface PrivateRedisOptions {
  /** Serve TLS only (no plain port), with these. */
  tls?: TestCertificates;
  /** ACL file lines (`user default off`, `user x on >pw ~qmcb:* …`). */
  acl?: string[];
}

export interface PrivateRedis {
  port: number;
  url(user?: string, password?: string): string;
  start(): Promise<void>;
  /** SIGKILL: Redis lost, nothing saved. */
  kill(): Promise<void>;
  remove(): Promise<void>;
}

/** A redis-server of its own on a free port (no persistence). */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const root = scratchDir('redis');
  const port = await freePort();
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', root];
  if (options.tls) args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.cert, '--tls-key-file', options.tls.key, '--tls-ca-cert-file', options.tls.ca, '--tls-auth-clients', 'no');
  else args.push('--port', String(port));
  if (options.acl) {
    const aclFile = join(root, 'users.acl');
    writeFileSync(aclFile, `${options.acl.join('\n')}\n`);
    args.push('--aclfile', aclFile);
  }
  let child: ChildProcess | undefined;
  const log = join(root, 'redis.log');
  const instance: PrivateRedis = {
    port,
    url: (user, password) => `${options.tls ? 'rediss' : 'redis'}://${user ? `${encodeURIComponent(user)}:${encodeURIComponent(password ?? '')}@` : ''}127.0.0.1:${port}`,
    start: async () => {
      child = spawn('redis-server', [...args, '--logfile', log], { stdio: 'ignore' });
      await until(`redis on ${port}`, () => portOpen(port), 15_000, child, log);
    },
    kill: async () => {
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
      child = undefined;
    },
    remove: async () => {
      await instance.kill();
      rmSync(root, { recursive: true, force: true });
    },
  };
  await instance.start();
  return instance;
}

// ------------------------------------------------------------------------------------------ Kafka

const KAFKA_VERSION = '3.9.1';

export interface KafkaSecurity {
  tls: TestCertificates;
  /** SASL/PLAIN users: name → password. `admin` is the broker's own (and a super user). */
  users: Record<string, string>;
  /** Turn on the StandardAuthorizer (ACLs), `admin` as super user. */
  acls?: boolean;
}

export interface PrivateKafkaOptions {
  security?: KafkaSecurity;
  /** Where the partitions live (e.g. a small tmpfs); default a directory of its own. */
  logDir?: string;
  /** Run the broker as this user (runuser), e.g. `nobody`, so file permissions apply to it. */
  runAs?: string;
}

export interface PrivateKafka {
  /** host:port of the client listener. */
  broker: string;
  logDir: string;
  serverLog: string;
  start(): Promise<void>;
  /** SIGTERM and wait (a controlled shutdown). */
  stop(): Promise<void>;
  /** SIGKILL. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  running(): boolean;
  remove(): Promise<void>;
}

/** The Kafka jars deploy/local/up.sh fetched (needs `npm run infra:up` once on the machine). */
export function kafkaLibs(): string {
  const libs = join(process.env['QMCB_CACHE_DIR'] || join(homedir(), '.cache', 'qmcb'), `kafka-${KAFKA_VERSION}`, 'libs');
  if (!existsSync(join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`))) throw new Error(`no Kafka jars in ${libs}: run deploy/local/up.sh once`);
  return libs;
}

/** A single-node KRaft broker of its own on free ports, its own data; SASL_SSL with ACLs when asked. */
export async function startPrivateKafka(options: PrivateKafkaOptions = {}): Promise<PrivateKafka> {
  const root = scratchDir('kafka');
  chmodSync(root, 0o777);
  let libs = kafkaLibs();
  if (options.runAs) {
    // Another user may not reach the cache under root's home: the jars, hard-linked (copied if it must) where it can.
    const own = join(root, 'libs');
    try {
      execFileSync('cp', ['-al', libs, own]);
    } catch {
      execFileSync('cp', ['-a', libs, own]);
    }
    libs = own;
  }
  const logDir = options.logDir ?? join(root, 'data');
  mkdirSync(logDir, { recursive: true });
  const port = await freePort();
  const controller = await freePort();
  const sec = options.security;
  const props = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controller}`,
    `listeners=CLIENT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
    `advertised.listeners=CLIENT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=CLIENT',
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,CLIENT:${sec ? 'SASL_SSL' : 'PLAINTEXT'}`,
    `log.dirs=${logDir}`,
    'num.partitions=1',
    'default.replication.factor=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=3',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'min.insync.replicas=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
  ];
  if (sec) {
    const jaas = Object.entries(sec.users)
      .map(([user, password]) => `user_${user}="${password}"`)
      .join(' ');
    props.push(
      'sasl.enabled.mechanisms=PLAIN',
      'sasl.mechanism.inter.broker.protocol=PLAIN',
      `listener.name.client.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${sec.users['admin']}" ${jaas};`,
      'ssl.keystore.type=PEM',
      `ssl.keystore.location=${sec.tls.keyAndCert}`,
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${sec.tls.ca}`,
      'ssl.endpoint.identification.algorithm=https',
    );
    if (sec.acls) props.push('authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'super.users=User:admin;User:ANONYMOUS', 'allow.everyone.if.no.acl.found=false');
  }
  const propsFile = join(root, 'server.properties');
  writeFileSync(propsFile, `${props.join('\n')}\n`);
  const serverLog = join(root, 'server.log');
  writeFileSync(join(root, 'log4j.properties'), [
    'log4j.rootLogger=INFO, file',
    'log4j.appender.file=org.apache.log4j.FileAppender',
    `log4j.appender.file.File=${serverLog}`,
    'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.kafka.request.logger=WARN',
    'log4j.logger.state.change.logger=WARN',
    'log4j.logger.org.apache.kafka.clients=WARN',
  ].join('\n'));
  const java = (...args: string[]): string[] => ['java', '-Xms128m', '-Xmx512m', `-Dlog4j.configuration=file:${join(root, 'log4j.properties')}`, '-cp', `${libs}/*`, ...args];
  const asUser = (command: string[]): string[] => (options.runAs ? ['runuser', '-u', options.runAs, '--', ...command] : command);
  const clusterId = execFileSync(java('kafka.tools.StorageTool', 'random-uuid')[0] as string, java('kafka.tools.StorageTool', 'random-uuid').slice(1)).toString().trim();
  if (options.runAs) execFileSync('chown', ['-R', options.runAs, root, logDir]);
  const format = asUser(java('kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile, '--ignore-formatted'));
  execFileSync(format[0] as string, format.slice(1), { stdio: 'ignore' });
  let child: ChildProcess | undefined;
  const instance: PrivateKafka = {
    broker: `127.0.0.1:${port}`,
    logDir,
    serverLog,
    start: async () => {
      const command = asUser(java('kafka.Kafka', propsFile));
      child = spawn(command[0] as string, command.slice(1), { stdio: 'ignore' });
      await until(`kafka on ${port}`, () => portOpen(port), 90_000, child, serverLog);
    },
    stop: async () => {
      if (!child) return;
      const c = child;
      c.kill('SIGTERM');
      const killer = setTimeout(() => c.kill('SIGKILL'), 30_000);
      await exited(c);
      clearTimeout(killer);
      child = undefined;
    },
    kill: async () => {
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
      child = undefined;
    },
    restart: async () => {
      await instance.stop();
      await instance.start();
    },
    running: () => !!child && child.exitCode === null && child.signalCode === null,
    remove: async () => {
      await instance.kill();
      rmSync(root, { recursive: true, force: true });
    },
  };
  await instance.start();
  return instance;
}
