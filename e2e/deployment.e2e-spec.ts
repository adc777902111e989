import { mintApiKey, mintToken } from '@qmcb/auth';
import { checkCharacter } from '@qmcb/domain';
import { createAcls, describeTopics, ensureTopics, joinGroup, pingKafka } from '@qmcb/event-log';
import type { AclEntry, KafkaSettings } from '@qmcb/event-log';
import { createRedisClient, closeRedisClient } from '@qmcb/platform';
import { freeServicePort, httpJson, makeCertificates, startPrivateKafka, startPrivatePostgres, startPrivateRedis, startService, waitFor } from '@qmcb/testing';
import type { PrivateKafka, PrivatePostgres, PrivateRedis, RunningService, TestCertificates } from '@qmcb/testing';
import { execFileSync, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';
import { Client } from 'pg';

/**
 * The deployment's security, as docker-compose.yml sets it up, on servers of this test's own (there is
 * no Docker engine here): PostgreSQL with TLS only and scram passwords, the roles of
 * deploy/compose/postgres-roles.sql; Redis over TLS with the users of deploy/compose/redis-users.acl;
 * Kafka over SASL_SSL with the ACLs of deploy/compose/kafka-acls.txt. The migrations run as the
 * owner; the service runs as its app role, ingests, consumes and answers; and each least privilege
 * holds: the app role cannot change its audit trail or its schema, nor reach another service's
 * database; a service's Redis user cannot run what it does not need or touch others' keys; its
 * Kafka user cannot read another service's dead letters or join its group; nothing in clear text.
 */
const ROOT = join(__dirname, '..');
const pw = (): string => randomBytes(24).toString('base64url');
const SECRETS = {
  AUTH_JWT_SECRET: pw(),
  API_KEY_SECRET: pw(),
  PERSON_ID_SECRET: pw(),
  KEYRING_MASTER_KEYS: `deploy:${randomBytes(32).toString('base64')}`,
  LOG_PERSON_REF_SECRET: pw(),
};
const PG_PASSWORDS: Record<string, string> = Object.fromEntries(
  ['comparison', 'survey_tasking', 'review', 'dynamic_update', 'keyring'].flatMap((s) => [[`${s}_owner_password`, pw()], [`${s}_app_password`, pw()]]),
);
const REDIS_PASSWORDS = { COMPARISON: pw(), SURVEY_TASKING: pw(), REVIEW: pw(), DYNAMIC_UPDATE: pw(), OPERATOR: pw() };
const KAFKA_USERS = { admin: pw(), comparison: pw(), 'survey-tasking': pw(), review: pw(), 'dynamic-update': pw() };
const TOPIC = 'registration.changes.v1';
const VILLAGE = '440981002001';
const CITIZEN_ID = `44098119850315123${checkCharacter('44098119850315123')}`;

/** deploy/compose/redis-users.acl with the passwords filled in, as docker-compose.yml renders it. */
function redisAcl(): string[] {
  return readFileSync(join(ROOT, 'deploy/compose/redis-users.acl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => l.replace(/\{\{([A-Z_]+)\}\}/g, (_m, name: keyof typeof REDIS_PASSWORDS) => REDIS_PASSWORDS[name]));
}

/** deploy/compose/kafka-acls.txt as kafka-init applies it. */
function kafkaAcls(): AclEntry[] {
  return readFileSync(join(ROOT, 'deploy/compose/kafka-acls.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const [user, operation, type, pattern, name] = l.trim().split(/\s+/) as [string, AclEntry['operation'], AclEntry['type'], AclEntry['pattern'], string];
      return { user, operation, type, pattern, name: name.replace('{topic}', TOPIC).replace('{user}', user) };
    });
}

/** `allowed`, or the SQLSTATE (e.g. 42501, insufficient privilege) a statement was refused with. */
async function sqlOutcome(client: Client, sql: string): Promise<string> {
  try {
    await client.query(sql);
    return 'allowed';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

describe('the deployment: TLS, credentials and least privilege (docker-compose.yml, on servers of this test)', () => {
  let tls: TestCertificates;
  let pg: PrivatePostgres;
  let redis: PrivateRedis;
  let kafka: PrivateKafka;
  let service: RunningService;
  const sslQuery = (): string => `sslmode=verify-full&sslrootcert=${tls.ca}`;
  const kafkaSettings = (user: string, password: string): KafkaSettings => ({
    brokers: [kafka.broker],
    clientId: `deployment-${user}`,
    topic: TOPIC,
    partitions: 3,
    replication: 1,
    ssl: { ca: readFileSync(tls.ca, 'utf8') },
    sasl: { mechanism: 'plain', username: user, password },
  });
  const serviceEnv = (database: string, user: string, password: string, keyringUser = 'keyring_app'): NodeJS.ProcessEnv => ({
    ...SECRETS,
    DATABASE_URL: pg.url(database, user, password, sslQuery()),
    KEYRING_DATABASE_URL: pg.url('qmcb_keyring', keyringUser, PG_PASSWORDS[`${keyringUser}_password`], sslQuery()),
    DB_SCHEMA: 'comparison',
    REDIS_URL: redis.url('comparison', REDIS_PASSWORDS.COMPARISON),
    REDIS_TLS_CA_FILE: tls.ca,
    KAFKA_BROKERS: kafka.broker,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: tls.ca,
    KAFKA_SASL_MECHANISM: 'plain',
    KAFKA_SASL_USERNAME: 'comparison',
    KAFKA_SASL_PASSWORD: KAFKA_USERS.comparison,
    KAFKA_ENSURE_TOPICS: 'false',
    LOG_TOPIC: TOPIC,
    LOG_PARTITIONS: '3',
    DEPLOYMENT_DIVISION: '440981',
    LOG_LEVEL: 'warn',
  });

  beforeAll(async () => {
    tls = makeCertificates();
    pg = await startPrivatePostgres({
      tls,
      superuserPassword: pw(),
      hba: ['local all all trust', 'hostssl all all 127.0.0.1/32 scram-sha-256', 'host all all 127.0.0.1/32 reject'],
    });
    const roles = spawnSync('psql', ['-h', pg.dataDir, '-p', String(pg.port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', ...Object.entries(PG_PASSWORDS).flatMap(([k, v]) => ['-v', `${k}=${v}`]), '-f', join(ROOT, 'deploy/compose/postgres-roles.sql')], { encoding: 'utf8' });
    expect(roles.stderr).toBe('');
    expect(roles.status).toBe(0);
    redis = await startPrivateRedis({ tls, acl: redisAcl() });
    kafka = await startPrivateKafka({ security: { tls, users: KAFKA_USERS, acls: true } });
    const admin = kafkaSettings('admin', KAFKA_USERS.admin);
    await ensureTopics(admin, ['comparison', 'survey-tasking', 'review', 'dynamic-update'].map((g) => ({ topic: `${TOPIC}.dlq.${g}`, partitions: 1 })));
    await createAcls(admin, kafkaAcls());
    // The owner migrates (the audit schema, then the projection); the service itself may not.
    const migrate = spawnSync(process.execPath, ['-r', './tools/register.js', 'services/comparison/src/cli.ts', 'migrate'], {
      cwd: ROOT,
      env: { ...process.env, ...serviceEnv('qmcb_comparison', 'comparison_owner', PG_PASSWORDS['comparison_owner_password'] as string, 'keyring_owner'), MIGRATIONS_RUN: 'true' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(migrate.stdout).toContain('migrate comparison: the audit schema and comparison are up to date');
    expect(migrate.status).toBe(0);
    service = await startService('comparison', {
      env: { ...serviceEnv('qmcb_comparison', 'comparison_app', PG_PASSWORDS['comparison_app_password'] as string), MIGRATIONS_RUN: 'false', RATE_LIMITS: 'read=10000,list=10000,write=10000,bulk=10000' },
      port: await freeServicePort(),
      logDir: join(ROOT, 'tmp', 'e2e-logs', 'deployment'),
    });
  }, 300_000);

  afterAll(async () => {
    await service?.stop();
    await kafka?.remove();
    await redis?.remove();
    await pg?.remove();
  });

  it('docker-compose.yml: refuses to start without every secret, hard-codes no development mode or secret, runs services as app roles over TLS', () => {
    let compose = true;
    try {
      execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
    } catch {
      compose = false;
    }
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(text).not.toMatch(/^\s*NODE_ENV:|dev-only|change-me|POSTGRES_HOST_AUTH_METHOD|admin\/admin/m);
    if (!compose) return;
    const variables = readFileSync(join(ROOT, 'deploy/compose/.env.example'), 'utf8').split('\n').filter((l) => /^[A-Z_]+=$/.test(l)).map((l) => l.slice(0, -1));
    const bare: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'] };
    const without = spawnSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config', '-q'], { cwd: ROOT, env: bare, encoding: 'utf8' });
    expect(without.status).not.toBe(0);
    expect(without.stderr).toMatch(/set [A-Z_]+/);
    const withAll: Record<string, string | undefined> = { ...bare, ...Object.fromEntries(variables.map((v) => [v, pw()])), DEPLOYMENT_DIVISION: '440981' };
    expect(spawnSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config', '-q'], { cwd: ROOT, env: withAll, encoding: 'utf8' }).status).toBe(0);
    const rendered = spawnSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config'], { cwd: ROOT, env: withAll, encoding: 'utf8' }).stdout;
    for (const s of ['comparison', 'survey_tasking', 'review', 'dynamic_update']) {
      expect(rendered).toContain(`postgres://${s}_app:${withAll[`PG_PASSWORD_${s.toUpperCase()}_APP`]}@postgres:5432/qmcb_${s}?sslmode=verify-full&sslrootcert=/certs/ca.crt`);
    }
    expect(rendered).toMatch(/KAFKA_SSL: "true"/);
    expect(rendered).toMatch(/rediss:\/\/comparison:/);
  });

  it('runs as its app role over TLS everywhere: healthy, ingests, consumes, answers and audits', async () => {
    expect(await httpJson(service.url, 'GET', '/health')).toEqual({ status: 200, body: { status: 'ok', checks: { postgres: 'up', redis: 'up', kafka: 'up' } } });
    const key = { 'x-api-key': mintApiKey('public-security', 'ps-deploy', SECRETS.API_KEY_SECRET) };
    const posted = await httpJson(service.url, 'POST', '/records', key, {
      records: [{ sourceRecordId: 'D-1', citizenId: CITIZEN_ID, mode: 'snapshot', asOf: '2026-11-01T00:00:00.000Z', facts: { kind: 'household', name: '李明', villageCode: VILLAGE, status: 'normal' } }],
    });
    expect(posted.status).toBe(202);
    const clerk = { authorization: `Bearer ${mintToken({ sub: 'clerk-d', name: 'clerk-d', role: 'window-clerk', division: '440981', ttlSeconds: 600 }, SECRETS.AUTH_JWT_SECRET)}`, 'x-purpose': 'window-service' };
    const view = await waitFor(async () => {
      const r = await httpJson(service.url, 'POST', '/persons/lookup', clerk, { citizenId: CITIZEN_ID });
      return r.status === 200 && r.body.comparison.outcome !== 'none' ? r.body : undefined;
    }, { timeoutMs: 60_000, message: 'the person compared' });
    expect(view.record.citizenId).toBe(CITIZEN_ID);
    const owner = new Client({ connectionString: pg.url('qmcb_comparison', 'comparison_owner', PG_PASSWORDS['comparison_owner_password'], sslQuery()) });
    await owner.connect();
    try {
      const { rows } = await owner.query(`SELECT actor, result FROM audit.audit_event ORDER BY audit_event.seq`);
      expect(rows).toEqual(expect.arrayContaining([{ actor: 'key:ps-deploy', result: 'ok' }, { actor: 'user:clerk-d', result: 'ok' }]));
    } finally {
      await owner.end();
    }
  });

  it("PostgreSQL: the app role adds to the audit trail but cannot change it, nor the schema, nor reach another service's database; nothing in clear text", async () => {
    const app = new Client({ connectionString: pg.url('qmcb_comparison', 'comparison_app', PG_PASSWORDS['comparison_app_password'], sslQuery()) });
    await app.connect();
    const refused = (sql: string): Promise<string> => sqlOutcome(app, sql);
    try {
      expect((await app.query(`SELECT count(*)::int AS n FROM audit.audit_event`)).rows[0].n).toBeGreaterThan(0);
      // 42501: insufficient privilege.
      expect(await refused(`DELETE FROM audit.audit_event`)).toBe('42501');
      expect(await refused(`UPDATE audit.audit_event SET entry = entry`)).toBe('42501');
      expect(await refused(`TRUNCATE audit.audit_event`)).toBe('42501');
      expect(await refused(`INSERT INTO audit.schema_version (version) VALUES (99)`)).toBe('42501');
      expect(await refused(`CREATE TABLE comparison.x (id int)`)).toBe('42501');
      expect(await refused(`CREATE SCHEMA x`)).toBe('42501');
      expect(await refused(`DROP TABLE comparison.person_record`)).toBe('42501');
      expect(await refused(`ALTER TABLE audit.audit_event DISABLE TRIGGER ALL`)).toBe('42501');
      expect((await app.query(`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`)).rows).toEqual([{ ssl: true }]);
    } finally {
      await app.end();
    }
    const elsewhere = new Client({ connectionString: pg.url('qmcb_review', 'comparison_app', PG_PASSWORDS['comparison_app_password'], sslQuery()) });
    await expect(elsewhere.connect()).rejects.toThrow('permission denied for database "qmcb_review"');
    const clear = new Client({ connectionString: pg.url('qmcb_comparison', 'comparison_app', PG_PASSWORDS['comparison_app_password'], 'sslmode=disable') });
    await expect(clear.connect()).rejects.toThrow(/pg_hba.conf rejects connection/);
    const wrong = new Client({ connectionString: pg.url('qmcb_comparison', 'comparison_app', 'not-the-password', sslQuery()) });
    await expect(wrong.connect()).rejects.toThrow('password authentication failed for user "comparison_app"');
  });

  it('PostgreSQL: the keyring (ADR 0009) is a database of its own; the services read and add keys, never overwrite or destroy one', async () => {
    const app = new Client({ connectionString: pg.url('qmcb_keyring', 'keyring_app', PG_PASSWORDS['keyring_app_password'], sslQuery()) });
    await app.connect();
    const tried = (sql: string): Promise<string> => sqlOutcome(app, sql);
    try {
      // The person posted by the first test has a key, made by the service.
      expect((await app.query(`SELECT count(*)::int AS n FROM keyring.data_key WHERE wrapped_key IS NOT NULL`)).rows[0].n).toBeGreaterThan(0);
      expect(await tried(`UPDATE keyring.data_key SET wrapped_key = NULL`)).toBe('42501');
      expect(await tried(`DELETE FROM keyring.data_key`)).toBe('42501');
      expect(await tried(`TRUNCATE keyring.data_key`)).toBe('42501');
      expect(await tried(`CREATE TABLE keyring.x (id int)`)).toBe('42501');
    } finally {
      await app.end();
    }
    const service = new Client({ connectionString: pg.url('qmcb_keyring', 'comparison_app', PG_PASSWORDS['comparison_app_password'], sslQuery()) });
    await expect(service.connect()).rejects.toThrow('permission denied for database "qmcb_keyring"');
  });

  it("Redis: TLS only, no default user; a service's user runs only its commands on qmcb: keys", async () => {
    const own = await createRedisClient({ url: redis.url('comparison', REDIS_PASSWORDS.COMPARISON), tlsCaFile: tls.ca, connectionName: 'deployment-test' });
    try {
      expect(await own.set('qmcb:deployment:probe', '1')).toBe('OK');
      await expect(own.set('other:probe', '1')).rejects.toThrow(/NOPERM/);
      await expect(own.sendCommand(['FLUSHALL'])).rejects.toThrow(/NOPERM/);
      await expect(own.sendCommand(['CONFIG', 'GET', 'dir'])).rejects.toThrow(/NOPERM/);
      await expect(own.sendCommand(['KEYS', '*'])).rejects.toThrow(/NOPERM/);
      await expect(own.sendCommand(['SADD', 'qmcb:api-keys:revoked', 'x'])).rejects.toThrow(/NOPERM/);
    } finally {
      await closeRedisClient(own);
    }
    const nobody = await createRedisClient({ url: redis.url(), tlsCaFile: tls.ca, connectionName: 'deployment-nobody' });
    try {
      await expect(nobody.ping()).rejects.toThrow(/NOAUTH|WRONGPASS|offline/i);
    } finally {
      await closeRedisClient(nobody);
    }
    const clear = await createRedisClient({ url: `redis://comparison:${REDIS_PASSWORDS.COMPARISON}@127.0.0.1:${redis.port}`, connectionName: 'deployment-clear' });
    try {
      await expect(clear.ping()).rejects.toThrow();
    } finally {
      await closeRedisClient(clear);
    }
  });

  it("Kafka: SASL over TLS; a service's user cannot read another's dead letters, join its group, or get in without its password", async () => {
    const comparison = kafkaSettings('comparison', KAFKA_USERS.comparison);
    expect(await describeTopics(comparison, [TOPIC])).toEqual([TOPIC]);
    await expect(describeTopics(comparison, [`${TOPIC}.dlq.review`])).rejects.toThrow(/[Nn]ot authorized/);
    await joinGroup(comparison, 'comparison-deployment-probe', TOPIC);
    // The broker answers GROUP_AUTHORIZATION_FAILED, which kafkajs reports as no coordinator found for
    // the group: the same call for a group of its own has just worked, so it is the ACL that refuses.
    await expect(joinGroup(comparison, 'review', TOPIC)).rejects.toThrow(/Failed to find group coordinator|[Nn]ot authorized/);
    // A user name with a hyphen works in the broker's JAAS configuration, as docker-compose.yml writes it.
    expect(await describeTopics(kafkaSettings('survey-tasking', KAFKA_USERS['survey-tasking']), [TOPIC])).toEqual([TOPIC]);
    await expect(pingKafka(kafkaSettings('comparison', 'not-the-password'), 5_000)).rejects.toThrow(/SASL PLAIN authentication failed|[Aa]uthentication failed/);
    await expect(pingKafka({ ...comparison, ssl: undefined, sasl: undefined }, 3_000)).rejects.toThrow();
  });
});
