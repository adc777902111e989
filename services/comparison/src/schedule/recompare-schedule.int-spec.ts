import type { INestApplication } from '@nestjs/common';
import { mintApiKey } from '@qmcb/auth';
import { COMPARISON_RECOMPARE_DUE, OUTCOME_DETERMINED } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { checkCharacter } from '@qmcb/domain';
import { EventLogProducer } from '@qmcb/event-log';
import { Clock, PersonKeyColumn, createServiceTestingApp, loadServiceConfig } from '@qmcb/service-kit';
import { createTestDatabase, createTestTopic, deleteTestTopic, readAllEvents, testKafkaSettings, waitFor } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import type { AddressInfo } from 'net';
import { DataSource } from 'typeorm';
import { ComparisonModule } from '../comparison.module';
import { RecompareDueRepository } from './recompare-due.repository';
import { RecompareScheduler, recompareDueEvent } from './recompare-scheduler';
import { randomBytes } from 'crypto';

/**
 * Time on the real broker, PostgreSQL and Redis, with a clock the test controls: a person whose
 * records never change is compared again on the day they turn 60, once, whatever sweeps run.
 */
const KEY_SECRET = randomBytes(32).toString('base64url');
const VILLAGE = '440981002001';
const FIRST17 = '44098119660315123';
const CITIZEN_ID = `${FIRST17}${checkCharacter(FIRST17)}`;

class ControlledClock extends Clock {
  constructor(private at: string) {
    super();
  }

  set(at: string): void {
    this.at = at;
  }

  override now(): Date {
    return new Date(this.at);
  }
}

describe('recompare days (controlled clock)', () => {
  let topic: string;
  let db: TestDatabase;
  const apps: INestApplication[] = [];
  const clock = new ControlledClock('2026-03-10T10:00:00+08:00');

  async function start(consume: boolean): Promise<INestApplication> {
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      LOG_TOPIC: topic,
      CONSUMER_GROUP: `comparison-${topic}`,
      CONSUME: String(consume),
      RELAY_OUTBOX: String(consume),
      API_KEY_SECRET: KEY_SECRET,
      AUTH_JWT_SECRET: randomBytes(32).toString('base64url'),
      // The test sweeps by hand.
      RECOMPARE_SWEEP_INTERVAL_MS: '0',
    };
    const { config, kafka } = loadServiceConfig('comparison', env);
    const app = await createServiceTestingApp(ComparisonModule.register(config, kafka, { clock, env }));
    apps.push(app);
    return app;
  }

  beforeAll(async () => {
    topic = await createTestTopic(3);
    db = await createTestDatabase();
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.close();
    await db?.drop();
    if (topic) await deleteTestTopic(topic);
  });

  const ofPerson = async (): Promise<RegistrationEvent[]> => (await readAllEvents(testKafkaSettings(topic))).filter((e) => e.personKey === CITIZEN_ID);

  it('compares a person again on the day they turn 60, without any new record, once', async () => {
    const app = await start(true);
    const replica = await start(false);
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    const dataSource = app.get(DataSource);
    const dues = app.get(RecompareDueRepository);
    // Key columns hold the person ID (ADR 0011 stage 5).
    const stored = app.get(PersonKeyColumn).stored(CITIZEN_ID);

    // Household here, resident medical insurance, no pension: 59 years old in March 2026.
    const posted = await fetch(`${url}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': mintApiKey('public-security', 'ps-int', KEY_SECRET) },
      body: JSON.stringify({
        records: [
          {
            sourceRecordId: 'HJ-1',
            citizenId: CITIZEN_ID,
            mode: 'snapshot',
            asOf: '2026-03-01T00:00:00.000Z',
            facts: { kind: 'household', name: '王五', villageCode: VILLAGE, status: 'normal', phone: '13800138000', address: '广东省高州市石仔岭街道南宫居委会 3 号' },
          },
        ],
      }),
    });
    expect(posted.status).toBe(202);
    const medical = await fetch(`${url}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': mintApiKey('social-insurance', 'si-int', KEY_SECRET) },
      body: JSON.stringify({
        records: [{ sourceRecordId: 'YB-1', citizenId: CITIZEN_ID, mode: 'snapshot', asOf: '2026-03-02T00:00:00.000Z', facts: { kind: 'insurance', insuranceType: 'medical', scheme: 'resident', status: 'active', region: '440981' } }],
      }),
    });
    expect(medical.status).toBe(202);

    const codesNow = async (): Promise<string[] | null> => {
      const rows: { reason_codes: string[] }[] = await dataSource.query(`SELECT reason_codes FROM current_outcome WHERE person_key = $1`, [stored]);
      return rows[0]?.reason_codes ?? null;
    };
    await waitFor(async () => JSON.stringify(await codesNow()) === JSON.stringify(['PARTLY_INSURED_NO_PENSION']), { timeoutMs: 60_000, message: 'the first decision' });
    // The day is known from the last comparison: the 60th birthday.
    const row = await waitFor(() => dues.forPerson(dataSource.manager, CITIZEN_ID), { timeoutMs: 30_000, message: 'the due row' });
    expect(row).toMatchObject({ personKey: CITIZEN_ID, dueDate: '2026-03-15', because: ['age 60 (retirementAge)', 'age 60 (pensionAgeCheck)'] });

    // The evening before, in China: nothing is due.
    clock.set('2026-03-14T23:59:59+08:00');
    expect(await app.get(RecompareScheduler).sweep()).toBe(0);

    // Just after midnight in China (still 14 March in UTC): both processes sweep at once; one event.
    clock.set('2026-03-15T00:00:01+08:00');
    const swept = await Promise.all([app.get(RecompareScheduler).sweep(), replica.get(RecompareScheduler).sweep()]);
    expect(swept.sort()).toEqual([0, 1]);
    expect(await app.get(RecompareScheduler).sweep()).toBe(0);

    await waitFor(async () => JSON.stringify(await codesNow()) === JSON.stringify(['AGE_60_NO_PENSION']), { timeoutMs: 60_000, message: 'the decision of the day' });
    const events = await waitFor(async () => {
      const es = await ofPerson();
      const dueIds = new Set(es.filter((e) => e.type === COMPARISON_RECOMPARE_DUE).map((e) => e.eventId));
      return es.some((e) => e.type === OUTCOME_DETERMINED && e.causationId !== null && dueIds.has(e.causationId)) ? es : undefined;
    }, { timeoutMs: 30_000, message: 'the outcome on the log' });
    const due = events.filter((e) => e.type === COMPARISON_RECOMPARE_DUE);
    expect(due).toEqual([recompareDueEvent(row, due[0]?.recordedAt ?? '')]);
    expect(due[0]).toMatchObject({ occurredAt: '2026-03-14T16:00:00.000Z', source: 'svc:comparison', causationId: row.basisEventId, payload: { dueDate: '2026-03-15', because: ['age 60 (retirementAge)', 'age 60 (pensionAgeCheck)'] } });
    const outcome = events.filter((e) => e.type === OUTCOME_DETERMINED).at(-1);
    expect(outcome).toMatchObject({ causationId: due[0]?.eventId, payload: { outcome: 'needs-survey', reasons: [{ code: 'AGE_60_NO_PENSION' }] } });
    // No day is ahead of a 60-year-old in the default policy: the row is gone.
    await waitFor(async () => (await dues.forPerson(dataSource.manager, CITIZEN_ID)) === null, { timeoutMs: 30_000, message: 'the row removed' });

    // The same event appended again (a sweep whose mark was lost) changes nothing anywhere.
    const history = async (): Promise<number> => (await dataSource.query(`SELECT count(*)::int AS n FROM outcome_history WHERE person_key = $1`, [stored]))[0].n;
    const before = { outcomes: await history(), version: (await dataSource.query(`SELECT version FROM person_record WHERE person_key = $1`, [stored]))[0].version };
    const producer = app.get(EventLogProducer);
    await producer.append([recompareDueEvent(row, '2026-03-16T00:00:00.000Z')]);
    const sentinel = await fetch(`${url}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': mintApiKey('tax', 'tax-int', KEY_SECRET) },
      body: JSON.stringify({ records: [{ sourceRecordId: 'T-1', citizenId: CITIZEN_ID, mode: 'snapshot', asOf: '2026-03-16T00:00:00.000Z', facts: { kind: 'tax', employed: false } }] }),
    });
    expect(sentinel.status).toBe(202);
    // The tax record after the repeat is applied: the repeat was skipped, the tax record counted.
    await waitFor(async () => (await dataSource.query(`SELECT version FROM person_record WHERE person_key = $1`, [stored]))[0].version === before.version + 1, {
      timeoutMs: 30_000,
      message: 'the sentinel applied',
    });
    expect(await history()).toBe(before.outcomes);
  });
});
