import { spawn } from 'child_process';
import type { ChildProcess } from 'child_process';
import { createWriteStream, existsSync, mkdirSync } from 'fs';
import { createServer } from 'net';
import { join } from 'path';
import { createTestDatabase } from './database';
import { LOCAL_DEFAULTS, MANAGEMENT_PORT_OFFSET, freeServicePort } from './infrastructure';
import type { TestDatabase } from './database';
import { createTestTopic } from './kafka';

/** The four services, their default ports and schemas (docs/conventions.md). */
export const SERVICES = [
  { name: 'comparison', port: 3101, schema: 'comparison' },
  { name: 'survey-tasking', port: 3102, schema: 'survey_tasking' },
  { name: 'review', port: 3103, schema: 'review' },
  { name: 'dynamic-update', port: 3104, schema: 'dynamic_update' },
] as const;
export type ServiceName = (typeof SERVICES)[number]['name'];

/** A free port for each of the four services, each with its management port (+1000) free too. */
export async function freeServicePorts(): Promise<Record<ServiceName, number>> {
  const ports = {} as Record<ServiceName, number>;
  for (const s of SERVICES) ports[s.name] = await freeServicePort();
  return ports;
}

/**
 * How a service is started: `source` runs its TypeScript through tools/register.js (the fast
 * development path, no build); `dist` runs the built JavaScript with plain node, as the image does
 * (`npm run build` first; docs/adr/0003-build-with-swc.md).
 */
export type ServiceEntry = 'source' | 'dist';

const ROOT = join(__dirname, '..', '..', '..');

/** dist/services/<service>/src/<file>.js, the built entry point (`main` the service, `cli` its operator commands). */
export function builtEntrypoint(service: ServiceName, file: 'main' | 'cli' = 'main'): string {
  return join(ROOT, 'dist', 'services', service, 'src', `${file}.js`);
}

/** Node arguments and environment that start a service from its source or from its build. */
/** Secrets a service needs that the caller has not set (a benchmark outside jest): this run's own (LOCAL_DEFAULTS). */
function withRunSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { AUTH_JWT_SECRET, API_KEY_SECRET, PERSON_ID_SECRET, KEYRING_MASTER_KEYS, LOG_PERSON_REF_SECRET } = LOCAL_DEFAULTS;
  return { AUTH_JWT_SECRET, API_KEY_SECRET, PERSON_ID_SECRET, KEYRING_MASTER_KEYS, LOG_PERSON_REF_SECRET, ...env };
}

function serviceProcess(service: ServiceName, entry: ServiceEntry, given: NodeJS.ProcessEnv): { args: string[]; env: NodeJS.ProcessEnv } {
  const env = withRunSecrets(given);
  if (entry === 'source') return { args: ['-r', join(ROOT, 'tools/register.js'), join(ROOT, `services/${service}/src/main.ts`)], env };
  const main = builtEntrypoint(service);
  if (!existsSync(main)) throw new Error(`${main} does not exist: build first (npm run build)`);
  // Nothing that would resolve TypeScript or the @qmcb/* aliases for it: the build must stand alone.
  const { NODE_OPTIONS: _options, NODE_PATH: _path, TS_NODE_PROJECT: _project, ...rest } = env;
  return { args: [main], env: rest };
}

/** A port a service is to listen on is taken: nothing was started (and no log file opened). */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly what: string,
    hint: string,
  ) {
    super(`port ${port} (${what}) is in use (another demo or stack running?): ${hint}`);
    this.name = 'PortInUseError';
  }
}

/** What to do about a port in use, unless the caller knows better (the demo says how to move its ports). */
const DEFAULT_PORT_HINT = 'stop whatever listens there (`ss -ltnp` shows it), or start on other ports (`ports`, freeServicePorts())';

/** True when nothing listens on `port` on any address (services listen on 0.0.0.0). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Refuses at once, before anything starts, when a service's port or its management port (+1000) is
 * taken. Otherwise the new process dies with EADDRINUSE while the health wait may be answered by
 * whatever holds the port (a second `npm run demo` once reported success against the first one's services).
 */
export async function assertServicePortsFree(services: readonly { name: string; port: number }[], hint = DEFAULT_PORT_HINT): Promise<void> {
  for (const s of services) {
    for (const [port, what] of [[s.port, s.name], [s.port + MANAGEMENT_PORT_OFFSET, `${s.name} management`]] as const) {
      if (!(await portFree(port))) throw new PortInUseError(port, what, hint);
    }
  }
}

export interface StackOptions {
  /** Per service environment on top of the process's own. */
  env: (service: ServiceName) => NodeJS.ProcessEnv;
  ports?: Partial<Record<ServiceName, number>>;
  logDir: string;
  startTimeoutMs?: number;
  /** `source` (default) or `dist` (the built JavaScript, plain node). */
  entry?: ServiceEntry;
  /** What the error of a port in use tells the user to do (assertServicePortsFree). */
  portHint?: string;
}

export interface RunningStack {
  urls: Record<ServiceName, string>;
  /** Each service's management server: /metrics and the OpenAPI document (the service's port + 1000). */
  managementUrls: Record<ServiceName, string>;
  /** Each service's process id (benchmarks meter its CPU). */
  pids: Record<ServiceName, number>;
  stop(): Promise<void>;
}

/**
 * Waits for the child's /health. The child it started must be the one answering: the wait fails as
 * soon as the child exits (say, EADDRINUSE), and an answer counts only while the child is alive.
 */
async function waitHealthy(url: string, child: ChildProcess, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let exited: string | null = child.exitCode !== null || child.signalCode !== null ? `${child.exitCode ?? child.signalCode}` : null;
  let wake: (() => void) | null = null;
  const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
    exited = `${code ?? signal}`;
    wake?.();
  };
  child.once('exit', onExit);
  const dead = (): Error => new Error(`${url}: the service's process exited with ${exited} before it was healthy; see ${logFile}`);
  try {
    while (Date.now() < deadline) {
      if (exited !== null) throw dead();
      try {
        const res = await fetch(`${url}/health`);
        if (res.ok && exited === null) return;
        last = `${res.status} ${await res.text()}`;
      } catch (e) {
        last = (e as Error).message;
      }
      if (exited !== null) throw dead();
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 250);
      });
      wake = null;
    }
  } finally {
    child.off('exit', onExit);
  }
  throw new Error(`${url} not healthy after ${timeoutMs} ms (last: ${last}); see ${logFile}`);
}

/** Appends to the service's log (never truncates it: another run may be writing it), a line marking this run. */
function openLog(logFile: string, service: string, port: number): ReturnType<typeof createWriteStream> {
  const out = createWriteStream(logFile, { flags: 'a' });
  out.write(`--- ${new Date().toISOString()} ${service} starting on port ${port} (management ${port + MANAGEMENT_PORT_OFFSET}) ---\n`);
  return out;
}

/** Starts the four services as separate processes, as they run in production, and waits for /health. */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  mkdirSync(options.logDir, { recursive: true });
  const children: ChildProcess[] = [];
  const urls = {} as Record<ServiceName, string>;
  const managementUrls = {} as Record<ServiceName, string>;
  const pids = {} as Record<ServiceName, number>;
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null) return resolve();
            const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
            c.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
  };
  await assertServicePortsFree(SERVICES.map((s) => ({ name: s.name, port: options.ports?.[s.name] ?? s.port })), options.portHint);
  try {
    await Promise.all(
      SERVICES.map(async (s) => {
        const port = options.ports?.[s.name] ?? s.port;
        const logFile = join(options.logDir, `${s.name}.log`);
        const out = openLog(logFile, s.name, port);
        const run = serviceProcess(s.name, options.entry ?? 'source', { ...process.env, ...options.env(s.name), PORT: String(port), MANAGEMENT_PORT: String(port + 1000) });
        const child = spawn(process.execPath, run.args, { cwd: ROOT, env: run.env, stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout?.pipe(out);
        child.stderr?.pipe(out);
        children.push(child);
        pids[s.name] = child.pid as number;
        urls[s.name] = `http://127.0.0.1:${port}`;
        managementUrls[s.name] = `http://127.0.0.1:${port + 1000}`;
        await waitHealthy(urls[s.name], child, options.startTimeoutMs ?? 90_000, logFile);
      }),
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { urls, managementUrls, pids, stop };
}

export interface RunningService {
  url: string;
  managementUrl: string;
  logFile: string;
  /** The service's process (benchmarks meter its CPU and memory). */
  pid: number;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL at once: a crash. */
  kill(): Promise<void>;
}

/**
 * One service as a process, with exactly the environment given (on top of this process's): for tests
 * that point a service at infrastructure of their own (the fault suite, the deployment's security).
 */
export async function startService(
  service: ServiceName,
  options: {
    env: NodeJS.ProcessEnv;
    port: number;
    logDir: string;
    entry?: ServiceEntry;
    startTimeoutMs?: number;
    logName?: string;
    /** Node options before the entry point (benchmarks: `--max-old-space-size=…`, `--cpu-prof`). */
    nodeArgs?: readonly string[];
    /** What the error of a port in use tells the user to do (assertServicePortsFree). */
    portHint?: string;
  },
): Promise<RunningService> {
  await assertServicePortsFree([{ name: service, port: options.port }], options.portHint);
  mkdirSync(options.logDir, { recursive: true });
  const logFile = join(options.logDir, `${options.logName ?? service}.log`);
  const out = openLog(logFile, service, options.port);
  const run = serviceProcess(service, options.entry ?? 'source', { ...process.env, ...options.env, PORT: String(options.port), MANAGEMENT_PORT: String(options.port + 1000) });
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...run.args], { cwd: ROOT, env: run.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const url = `http://127.0.0.1:${options.port}`;
  const ended = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.kill(signal);
    await ended;
    clearTimeout(t);
  };
  try {
    await waitHealthy(url, child, options.startTimeoutMs ?? 90_000, logFile);
  } catch (e) {
    await stop('SIGKILL');
    throw e;
  }
  return { url, managementUrl: `http://127.0.0.1:${options.port + 1000}`, logFile, pid: child.pid as number, stop: () => stop('SIGTERM'), kill: () => stop('SIGKILL') };
}

export interface HttpResult {
  status: number;
  // Response bodies are asserted field by field in tests; a precise type per endpoint would only restate them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** One JSON request to a running service. */
export async function httpJson(baseUrl: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<HttpResult> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** RATE_LIMITS of test stacks: polling tests would exceed the production defaults within a minute. */
export const TEST_RATE_LIMITS = 'read=100000,list=100000,export=1000,write=100000,bulk=100000,auth-failure=100000';

export interface IsolatedStackOptions {
  logDir: string;
  ports?: Partial<Record<ServiceName, number>>;
  /** Per service environment on top of the isolation (database, topic, consumer group). */
  env?: (service: ServiceName) => NodeJS.ProcessEnv;
  partitions?: number;
  /** `source` (default) or `dist` (the built JavaScript, plain node). */
  entry?: ServiceEntry;
  portHint?: string;
}

export interface IsolatedStack extends RunningStack {
  topic: string;
  databaseUrls: Record<ServiceName, string>;
  /** The projections' consumer groups (CONSUMER_GROUP of each service). */
  consumerGroups: Record<ServiceName, string>;
}

/**
 * The four services on a topic, databases and consumer groups of their own, so that tests sharing a
 * broker and a PostgreSQL server never see each other's data. stop() also drops the databases.
 */
export async function startIsolatedStack(options: IsolatedStackOptions): Promise<IsolatedStack> {
  // Before a topic and four databases are made for nothing.
  await assertServicePortsFree(SERVICES.map((s) => ({ name: s.name, port: options.ports?.[s.name] ?? s.port })), options.portHint);
  const topic = await createTestTopic(options.partitions ?? 3);
  const databases: TestDatabase[] = [];
  const databaseUrls = {} as Record<ServiceName, string>;
  const dropAll = async (): Promise<void> => {
    for (const db of databases) await db.drop();
  };
  try {
    for (const s of SERVICES) {
      const db = await createTestDatabase();
      databases.push(db);
      databaseUrls[s.name] = db.url;
    }
    const suffix = topic.replace(/[^a-z0-9]/gi, '').slice(-10);
    const consumerGroups = Object.fromEntries(SERVICES.map((s) => [s.name, `${s.name}-${suffix}`])) as Record<ServiceName, string>;
    const stack = await startStack({
      logDir: options.logDir,
      ports: options.ports,
      entry: options.entry,
      portHint: options.portHint,
      env: (name) => ({
        DATABASE_URL: databaseUrls[name],
        LOG_TOPIC: topic,
        CONSUMER_GROUP: consumerGroups[name],
        // Tests poll (waitFor, every 100 ms): budgets far above the defaults, unless a test sets its own.
        RATE_LIMITS: TEST_RATE_LIMITS,
        ...options.env?.(name),
      }),
    });
    return {
      ...stack,
      topic,
      databaseUrls,
      consumerGroups,
      stop: async () => {
        await stack.stop();
        await dropAll();
      },
    };
  } catch (e) {
    await dropAll();
    throw e;
  }
}
