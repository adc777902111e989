import { mintApiKey, mintToken } from '@qmcb/auth';
import type { RegistrationEvent } from '@qmcb/contracts';
import { checkCharacter, foldEvents } from '@qmcb/domain';
import { ensureTopics } from '@qmcb/event-log';
import { PERSON_ID_PATTERN, PersonIds } from '@qmcb/platform';
import type { KafkaSettings } from '@qmcb/event-log';
import { SERVICES, TEST_RATE_LIMITS, freeServicePort, httpJson, registrationFormSubmission, readAllEvents, startPrivateKafka, startPrivatePostgres, startPrivateRedis, startService, waitFor } from '@qmcb/testing';
import type { PrivateKafka, PrivatePostgres, PrivateRedis, RunningService, ServiceName } from '@qmcb/testing';
import { execFileSync } from 'child_process';
import { randomBytes, randomUUID } from 'crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { RecordSealer } from '@qmcb/service-kit';
import { Client } from 'pg';

/**
 * The fault suite: the four services on a Kafka broker, a PostgreSQL cluster and a Redis of this
 * test's own (the shared ones are never touched), under load while the broker restarts, the database
 * restarts (crashes), Redis is lost, and the review service is killed in the middle of HTTP
 * decisions; then a broker whose disk fills up and one that may not open its log directory. After
 * each fault: every projection equals the fold of the log (each event once), nothing accepted is
 * lost, nothing is doubled, no dead letter; refusals during the fault are said, never hidden.
 */
const ROOT = join(__dirname, '..');
const LOGS = join(ROOT, 'tmp', 'e2e-logs', 'faults');
const SECRETS = { AUTH_JWT_SECRET: randomBytes(32).toString('base64url'), API_KEY_SECRET: randomBytes(32).toString('base64url'), PERSON_ID_SECRET: randomBytes(32).toString('base64url') };
const TOPIC = 'registration.changes.v1';
const personIds = new PersonIds(SECRETS.PERSON_ID_SECRET);
const keyOfStored = (value: string): string => personIds.keyOf(value) ?? value;
const VILLAGE = '440981002001';
const TOWNSHIP = VILLAGE.slice(0, 9);
const KEY = { 'x-api-key': mintApiKey('public-security', 'ps-faults', SECRETS.API_KEY_SECRET) };
const bearer = (role: string, division: string, sub: string, purpose?: string): Record<string, string> => ({
  authorization: `Bearer ${mintToken({ sub, name: sub, role, division, ttlSeconds: 3600 }, SECRETS.AUTH_JWT_SECRET)}`,
  ...(purpose ? { 'x-purpose': purpose } : {}),
});
const CLERK = bearer('window-clerk', '440981', 'clerk-f', 'window-service');

/** Person n (n < 50,000): an 18-character citizen ID of the county, valid, one per n. */
function citizenId(n: number): string {
  const first17 = `440981${1950 + Math.floor(n / 1000)}0101${String(n % 1000).padStart(3, '0')}`;
  return `${first17}${checkCharacter(first17)}`;
}
const household = (n: number): object => ({
  sourceRecordId: `F-${n}`,
  citizenId: citizenId(n),
  mode: 'snapshot',
  asOf: '2026-11-01T00:00:00.000Z',
  facts: { kind: 'household', name: `居民${n}`, villageCode: VILLAGE, status: 'normal', hukouType: 'agricultural', phone: `139${String(n).padStart(8, '0')}`, address: `南宫居委会 ${n} 号` },
});

/** Posts records until each batch is acknowledged (202), as a department's system retries; the refusals met on the way. */
async function postUntilAccepted(url: string, people: number[], batch = 10): Promise<{ refusals: number[] }> {
  const refusals: number[] = [];
  for (let i = 0; i < people.length; i += batch) {
    const records = people.slice(i, i + batch).map(household);
    for (let attempt = 0; ; attempt += 1) {
      const status = await httpJson(url, 'POST', '/records', KEY, { records }).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 202) break;
      refusals.push(status);
      if (attempt > 200) throw new Error(`batch ${i / batch} never accepted (last ${status})`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return { refusals };
}

describe('fault suite (Kafka, PostgreSQL and Redis of its own)', () => {
  let kafka: PrivateKafka;
  let pg: PrivatePostgres;
  let redis: PrivateRedis;
  const services = {} as Record<ServiceName, RunningService>;
  const ports = {} as Record<ServiceName, number>;
  const sealer = RecordSealer.fromEnv();
  const settings = (): KafkaSettings => ({ brokers: [kafka.broker], clientId: 'faults', topic: TOPIC, partitions: 3, replication: 1 });
  const env = (name: ServiceName): NodeJS.ProcessEnv => ({
    ...SECRETS,
    KAFKA_BROKERS: kafka.broker,
    LOG_TOPIC: TOPIC,
    LOG_PARTITIONS: '3',
    DATABASE_URL: pg.url(`qmcb_${name.replace(/-/g, '_')}`),
    REDIS_URL: redis.url(),
    RATE_LIMITS: TEST_RATE_LIMITS,
    KAFKA_ENSURE_TOPICS: 'false',
    LOG_LEVEL: 'warn',
  });
  const start = async (name: ServiceName): Promise<void> => {
    services[name] = await startService(name, { env: env(name), port: ports[name], logDir: LOGS });
  };

  beforeAll(async () => {
    mkdirSync(LOGS, { recursive: true });
    // Each one kept as soon as it is up, and all three waited for, so that afterAll removes whichever
    // started when another one failed (no private broker or database left running behind a failed run).
    const started = await Promise.allSettled([
      startPrivateKafka().then((k) => (kafka = k)),
      startPrivatePostgres().then((p) => (pg = p)),
      startPrivateRedis().then((r) => (redis = r)),
    ]);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    // The log and the dead-letter topics first, as a deployment provisions them (four services creating
    // topics at once on a fresh broker may see a topic before its partitions are served).
    await ensureTopics(settings(), SERVICES.map((s) => ({ topic: `${TOPIC}.dlq.${s.name}`, partitions: 1 })));
    const admin = new Client({ connectionString: pg.url() });
    await admin.connect();
    for (const s of SERVICES) await admin.query(`CREATE DATABASE qmcb_${s.schema}`);
    await admin.end();
    for (const s of SERVICES) ports[s.name] = await freeServicePort();
    await Promise.all(SERVICES.map((s) => start(s.name)));
  }, 300_000);

  afterAll(async () => {
    await Promise.all(Object.values(services).map((s) => s.stop()));
    await kafka?.remove();
    await pg?.remove();
    await redis?.remove();
  });

  /**
   * Waits until every service folded every event of the log (each person's record at the version the
   * log gives, outboxes published), then checks each projection's records are exactly the fold of the
   * log with each event once, and that nothing went to a dead letter.
   */
  async function expectProjectionsExact(): Promise<{ events: RegistrationEvent[]; people: number }> {
    let expected = new Map<string, ReturnType<typeof foldEvents>>();
    let events: RegistrationEvent[] = [];
    await waitFor(
      async () => {
        events = await readAllEvents(settings());
        const seen = new Set<string>();
        const byPerson = new Map<string, RegistrationEvent[]>();
        for (const e of events) {
          if (seen.has(e.eventId) || e.personKey.startsWith('O-')) continue;
          seen.add(e.eventId);
          byPerson.set(e.personKey, [...(byPerson.get(e.personKey) ?? []), e]);
        }
        expected = new Map([...byPerson].map(([k, list]) => [k, foldEvents(list)]));
        for (const s of SERVICES) {
          const db = new Client({ connectionString: pg.url(`qmcb_${s.schema}`) });
          await db.connect();
          try {
            const { rows: pending } = await db.query(`SELECT 1 FROM ${s.schema}.outbox WHERE published_at IS NULL LIMIT 1`);
            const { rows } = await db.query<{ person_key: string; version: number }>(`SELECT person_key, version FROM ${s.schema}.person_record`);
            if (pending.length || rows.length !== expected.size || rows.some((r) => expected.get(keyOfStored(r.person_key))?.version !== Number(r.version))) return undefined;
          } finally {
            await db.end();
          }
        }
        return true;
      },
      { timeoutMs: 180_000, intervalMs: 1_000, message: 'every projection caught up with the log' },
    );
    for (const s of SERVICES) {
      const db = new Client({ connectionString: pg.url(`qmcb_${s.schema}`) });
      await db.connect();
      try {
        const { rows: stored } = await db.query<{ person_key: string; record: unknown; sealed: Buffer | null }>(`SELECT person_key, record, sealed FROM ${s.schema}.person_record`);
        // Keyed by person ID at rest (ADR 0011, stage 5).
        const rows = stored.map((r) => ({ ...r, person_key: keyOfStored(r.person_key) }));
        expect(stored.every((r) => PERSON_ID_PATTERN.test(r.person_key))).toBe(true);
        // Every record sealed at rest (ADR 0011), and each exactly the fold of the log.
        expect(rows.filter((r) => r.sealed === null).map((r) => r.person_key)).toEqual([]);
        expect(await sealer.open(rows)).toEqual(expected);
        expect((await db.query(`SELECT count(*)::int AS n FROM ${s.schema}.dead_letter`)).rows[0].n).toBe(0);
      } finally {
        await db.end();
      }
    }
    return { events, people: expected.size };
  }

  it('Kafka broker restarted under load: every batch accepted exactly once on every projection', async () => {
    const people = Array.from({ length: 200 }, (_, i) => i);
    const load = postUntilAccepted(services.comparison.url, people);
    await waitFor(async () => (await readAllEvents(settings())).length >= 60, { timeoutMs: 60_000, message: 'load under way' });
    await kafka.restart();
    const { refusals } = await load;
    const { events, people: count } = await expectProjectionsExact();
    expect(count).toBe(200);
    // Each record's event once on the projections, whatever the log holds of retried batches.
    const received = new Set(events.filter((e) => e.type === 'source.record-received').map((e) => e.eventId));
    expect(received.size).toBe(200);
    // Refusals during the restart were answered (503), never a 202 for records the log did not keep.
    expect(refusals.every((s) => s === 503 || s === 0)).toBe(true);
  });

  it('PostgreSQL crashed and restarted under load: the projections catch up exactly, nothing lost or doubled', async () => {
    const people = Array.from({ length: 100 }, (_, i) => 1000 + i);
    const load = postUntilAccepted(services.comparison.url, people);
    await new Promise((r) => setTimeout(r, 1_500));
    await pg.restart('immediate');
    await load;
    const { people: count } = await expectProjectionsExact();
    expect(count).toBe(300);
    for (const s of SERVICES) expect((await httpJson(services[s.name].url, 'GET', '/health')).status).toBe(200);
  });

  it('Redis lost: API keys and tokens refused (503, fail closed) while it is away, everything works again when it is back', async () => {
    await redis.kill();
    const refusedKey = await httpJson(services.comparison.url, 'POST', '/records', KEY, { records: [household(5000)] });
    expect(refusedKey).toEqual({ status: 503, body: { statusCode: 503, code: 'UNAVAILABLE', message: 'API key revocation list unavailable; retry later' } });
    const refusedToken = await httpJson(services['dynamic-update'].url, 'POST', '/persons/lookup', CLERK, { citizenId: citizenId(1) });
    expect(refusedToken).toEqual({ status: 503, body: { statusCode: 503, code: 'UNAVAILABLE', message: 'token revocation list unavailable; retry later' } });
    const health = await httpJson(services.review.url, 'GET', '/health');
    expect(health).toMatchObject({ status: 503, body: { status: 'down', checks: { redis: 'down', postgres: 'up', kafka: 'up' } } });
    await redis.start();
    const accepted = await waitFor(async () => {
      const r = await httpJson(services.comparison.url, 'POST', '/records', KEY, { records: [household(5000)] });
      return r.status === 202 ? r : undefined;
    }, { timeoutMs: 30_000, message: 'API keys accepted again' });
    expect(accepted.body.accepted).toBe(1);
    const lookup = await waitFor(async () => {
      const r = await httpJson(services['dynamic-update'].url, 'POST', '/persons/lookup', CLERK, { citizenId: citizenId(1) });
      return r.status === 200 ? r : undefined;
    }, { timeoutMs: 30_000, message: 'tokens accepted again' });
    expect(lookup.body.record.citizenId).toBe(citizenId(1));
    const { people: count } = await expectProjectionsExact();
    expect(count).toBe(301);
  });

  it('the review service killed while deciding: every decision taken once, the log and the projections agree', async () => {
    const surveyor = bearer('surveyor', VILLAGE, 'surveyor-f', 'survey');
    const reviewer = bearer('grassroots-reviewer', TOWNSHIP, 'reviewer-f', 'review');
    // The county's campaign gives the village to the surveyor (a surveyor sees only the targets given to them).
    const survey = services['survey-tasking'].url;
    const campaignId = randomUUID();
    const teamId = randomUUID();
    expect((await httpJson(survey, 'POST', '/campaigns', bearer('county-approver', '440981', 'county-f', 'survey'), { campaignId, countyCode: '440981', name: '故障演练', startsOn: '2026-11-01', deadline: '2099-12-31' })).status).toBe(201);
    const township = bearer('grassroots-reviewer', TOWNSHIP, 'township-f', 'survey');
    expect((await httpJson(survey, 'POST', `/campaigns/${campaignId}/teams`, township, { teamId, townshipCode: TOWNSHIP, name: '演练组', members: [{ surveyorId: 'surveyor-f', name: '调查员' }, { surveyorId: 'surveyor-g', name: '调查员二' }] })).status).toBe(201);
    expect((await httpJson(survey, 'POST', `/campaigns/${campaignId}/assignments`, township, { teamId, villageCodes: [VILLAGE], surveyorId: 'surveyor-f' })).status).toBe(201);
    const tasks = await waitFor(async () => {
      const r = await httpJson(survey, 'GET', `/tasks?division=${VILLAGE}&status=open&limit=24`, surveyor);
      return r.status === 200 && r.body.items.length === 24 ? (r.body.items as { taskId: string; person: { citizenId: string; name: string } }[]) : undefined;
    }, { timeoutMs: 60_000, message: 'open survey tasks' });
    for (const t of tasks) {
      const id = t.person.citizenId;
      // Every registered member of the household accounted for (三不漏), as the target's detail lists them.
      const detail = await httpJson(survey, 'GET', `/tasks/${t.taskId}`, surveyor);
      const members = (detail.body.household.members as { citizenId: string; name: string; relation: string | null }[]).map((m) => ({ citizenId: m.citizenId, name: m.name, relation: m.relation ?? '户主' }));
      const upload = registrationFormSubmission({ citizenId: id, name: t.person.name, residenceDivision: VILLAGE, residenceAddress: '广东省高州市石仔岭街道南宫居委会', members });
      const r = await httpJson(survey, 'POST', `/tasks/${t.taskId}/submissions`, surveyor, upload);
      expect([r.status, r.body]).toEqual([201, expect.objectContaining({ taskId: t.taskId, status: 'submitted' })]);
    }
    const items = await waitFor(async () => {
      const r = await httpJson(services.review.url, 'GET', `/reviews?stage=initial&status=pending&division=${VILLAGE}&limit=100`, reviewer);
      return r.status === 200 && r.body.total === 24 ? (r.body.items as { reviewId: string; version: number }[]) : undefined;
    }, { timeoutMs: 60_000, message: 'review items' });

    // All 24 decisions at once; the service is killed once a few have been answered.
    const answered = new Map<string, number>();
    let killed = false;
    const decisions = items.map((i) =>
      httpJson(services.review.url, 'POST', `/reviews/${i.reviewId}/initial-approval`, reviewer, { expectedVersion: i.version, comment: 'faults' }).then(
        async (r) => {
          answered.set(i.reviewId, r.status);
          if (!killed && answered.size >= 4) {
            killed = true;
            await services.review.kill();
          }
        },
        () => undefined,
      ),
    );
    await Promise.all(decisions);
    expect(killed).toBe(true);
    await start('review');
    // The reviewer retries what got no answer: done before the crash (409, at the next version) or done now (201).
    for (const i of items) {
      if (answered.get(i.reviewId) === 201) continue;
      const r = await httpJson(services.review.url, 'POST', `/reviews/${i.reviewId}/initial-approval`, reviewer, { expectedVersion: i.version, comment: 'faults' });
      expect([201, 409]).toContain(r.status);
      if (r.status === 409) expect(r.body.message).toBe(`review ${i.reviewId} is at version ${i.version + 1}, not ${i.version}: reload it and decide again`);
    }
    const { events } = await expectProjectionsExact();
    const approvals = events.filter((e) => e.type === 'review.initial-approved');
    const byItem = new Map<string, Set<string>>();
    for (const e of approvals) {
      const reviewId = (e.payload as { reviewId: string }).reviewId;
      byItem.set(reviewId, (byItem.get(reviewId) ?? new Set()).add(e.eventId));
    }
    expect([...byItem.keys()].sort()).toEqual(items.map((i) => i.reviewId).sort());
    expect([...byItem.values()].every((ids) => ids.size === 1)).toBe(true);
    const after = await httpJson(services.review.url, 'GET', `/reviews?stage=final&status=pending&division=${VILLAGE}&limit=100`, reviewer);
    expect(after.body.total).toBe(24);
  });
});

describe('the log directory fails (a broker of its own): reported, never hidden', () => {
  const SECRETS2 = { ...SECRETS };
  let pg: PrivatePostgres;
  let redis: PrivateRedis;

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
  }, 120_000);

  afterAll(async () => {
    await pg?.remove();
    await redis?.remove();
  });

  async function comparisonOn(kafka: PrivateKafka, database: string): Promise<RunningService> {
    const admin = new Client({ connectionString: pg.url() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    await ensureTopics({ brokers: [kafka.broker], clientId: 'faults-disk', topic: TOPIC, partitions: 1, replication: 1 }, [{ topic: `${TOPIC}.dlq.comparison`, partitions: 1 }]);
    return startService('comparison', {
      env: {
        ...SECRETS2,
        KAFKA_BROKERS: kafka.broker,
        LOG_TOPIC: TOPIC,
        LOG_PARTITIONS: '1',
        DATABASE_URL: pg.url(database),
        REDIS_URL: redis.url(),
        RATE_LIMITS: TEST_RATE_LIMITS,
        KAFKA_ENSURE_TOPICS: 'false',
        LOG_LEVEL: 'warn',
      },
      port: await freeServicePort(),
      logDir: LOGS,
      logName: database,
    });
  }

  const UNAVAILABLE = /^the registration log did not acknowledge the batch \(.+\); none of it counts as received: send it again$/;

  it('disk full: the append is refused with 503 and logged, /health says Kafka is down; once there is room, the batch is taken once', async () => {
    const mount = join(tmpdir(), `qmcb-full-${randomUUID()}`);
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mount]);
    let kafka: PrivateKafka | undefined;
    let service: RunningService | undefined;
    try {
      kafka = await startPrivateKafka({ logDir: join(mount, 'data') });
      service = await comparisonOn(kafka, 'qmcb_disk_full');
      expect((await httpJson(service.url, 'POST', '/records', KEY, { records: [household(1)] })).status).toBe(202);
      // Fill the disk to the last byte.
      const filler = join(mount, 'filler');
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(1024 * 1024, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (e) {
        expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
      for (let small = Buffer.alloc(1024, 1); ; ) {
        try {
          writeSync(fd, small);
        } catch {
          break;
        }
      }
      closeSync(fd);
      const big = { records: Array.from({ length: 200 }, (_, i) => household(100 + i)) };
      const refused = await httpJson(service.url, 'POST', '/records', KEY, big);
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ statusCode: 503, code: 'UNAVAILABLE', message: expect.stringMatching(UNAVAILABLE) });
      // The service's output reaches its log file through a pipe: give the line a moment to arrive.
      await waitFor(async () => readFileSync(service!.logFile, 'utf8').includes('the log did not acknowledge a batch') || undefined, {
        timeoutMs: 15_000,
        message: 'the refused append in the service log',
      });
      expect(readFileSync(kafka.serverLog, 'utf8')).toMatch(/No space left on device/);
      const health = await waitFor(async () => {
        const h = await httpJson(service!.url, 'GET', '/health');
        return h.body.checks.kafka === 'down' ? h : undefined;
      }, { timeoutMs: 60_000, message: 'Kafka reported down' });
      expect(health.status).toBe(503);

      rmSync(filler);
      if (kafka.running()) await kafka.stop();
      await kafka.start();
      const accepted = await waitFor(async () => {
        const r = await httpJson(service!.url, 'POST', '/records', KEY, big);
        return r.status === 202 ? r : undefined;
      }, { timeoutMs: 120_000, intervalMs: 1_000, message: 'the batch taken once there is room' });
      expect(accepted.body.accepted).toBe(200);
      const events = await readAllEvents({ brokers: [kafka.broker], clientId: 'faults-disk', topic: TOPIC, partitions: 1, replication: 1 });
      const received = new Set(events.filter((e) => e.type === 'source.record-received').map((e) => e.eventId));
      expect(received.size).toBe(201);
    } finally {
      await service?.stop();
      await kafka?.remove();
      execFileSync('umount', ['-l', mount]);
      rmSync(mount, { recursive: true, force: true });
    }
  }, 600_000);

  it('a log directory the broker may not write: the broker stops saying why, the service answers 503 and reports Kafka down; fixed, it works', async () => {
    let kafka: PrivateKafka | undefined;
    let service: RunningService | undefined;
    try {
      kafka = await startPrivateKafka({ runAs: 'nobody' });
      service = await comparisonOn(kafka, 'qmcb_log_dir_denied');
      expect((await httpJson(service.url, 'POST', '/records', KEY, { records: [household(1)] })).status).toBe(202);
      await kafka.stop();
      // The directory now belongs to root alone: the broker (user nobody) may not open it.
      execFileSync('chown', ['-R', 'root:root', kafka.logDir]);
      chmodSync(kafka.logDir, 0o700);
      await expect(kafka.start()).rejects.toThrow(/the process exited/);
      expect(readFileSync(kafka.serverLog, 'utf8')).toMatch(/Permission denied|AccessDenied|not writable|Failed to (create|load|validate)/);
      const refused = await httpJson(service.url, 'POST', '/records', KEY, { records: [household(2)] });
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(UNAVAILABLE) });
      const health = await httpJson(service.url, 'GET', '/health');
      expect(health).toMatchObject({ status: 503, body: { checks: { kafka: 'down' } } });

      execFileSync('chown', ['-R', 'nobody', kafka.logDir]);
      await kafka.start();
      const accepted = await waitFor(async () => {
        const r = await httpJson(service!.url, 'POST', '/records', KEY, { records: [household(2)] });
        return r.status === 202 ? r : undefined;
      }, { timeoutMs: 120_000, intervalMs: 1_000, message: 'accepted once the directory is writable' });
      expect(accepted.body.accepted).toBe(1);
      const events = await readAllEvents({ brokers: [kafka.broker], clientId: 'faults-perm', topic: TOPIC, partitions: 1, replication: 1 });
      expect(new Set(events.map((e) => e.eventId)).size).toBe(events.filter((e) => e.type === 'source.record-received').length + events.filter((e) => e.type !== 'source.record-received').length);
      expect(new Set(events.filter((e) => e.type === 'source.record-received').map((e) => e.eventId)).size).toBe(2);
    } finally {
      await service?.stop();
      await kafka?.remove();
    }
  }, 600_000);
});
