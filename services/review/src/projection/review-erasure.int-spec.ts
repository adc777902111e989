import type { INestApplication } from '@nestjs/common';
import { LINK_PROPOSED, PERSON_ERASED, SOURCE_RECORD_RECEIVED, deterministicId, newEvent } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { checkCharacter } from '@qmcb/domain';
import { applyEvents, commitAsynchronously, personRefOf } from '@qmcb/event-log';
import { PersonIds } from '@qmcb/platform';
import { LogTransport, PersonRecordRepository, createServiceTestingApp, loadServiceConfig } from '@qmcb/service-kit';
import { createTestDatabase } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import { randomBytes } from 'crypto';
import { DataSource } from 'typeorm';
import { ReviewModule } from '../review.module';

/**
 * `person.erased` through the log transport into review's projection (ADR 0010), on real
 * PostgreSQL: in its place in a batch, the person's rows go, their ref is recorded, and their
 * events after it (in the same batch or a later one) are passed over; another person is untouched.
 */
const id = (first17: string): string => `${first17}${checkCharacter(first17)}`;
const P = id('44098119850101021');
const Q = id('44098119860202032');
const VILLAGE = '440981002001';
const origin = (at: string) => ({ source: 'svc:comparison', actor: 'svc:comparison', occurredAt: at, correlationId: deterministicId('corr', at) });
const household = (person: string, n: number, name: string): RegistrationEvent =>
  newEvent(SOURCE_RECORD_RECEIVED, deterministicId('hh', person, String(n)), person, {
    department: 'public-security', sourceRecordId: `HJ-${person.slice(-4)}-${n}`, mode: 'snapshot', asOf: '2026-11-01T00:00:00.000Z', citizenIdAsSent: person, citizenIdValid: true,
    facts: { kind: 'household', name, villageCode: VILLAGE, status: 'normal', phone: '13800138000', address: '南宫居委会 1 号' },
  }, origin(`2026-11-0${n}T00:00:00.000Z`));
const proposal = (person: string, n: number): RegistrationEvent =>
  newEvent(LINK_PROPOSED, deterministicId('proposal', person, String(n)), person, {
    linkId: deterministicId('link', person, String(n)), recordKey: `X-${String(n).repeat(32)}`, citizenIdAsSent: `${person.slice(0, 17)}${person[17] === '0' ? '1' : '0'}`,
    sources: [{ department: 'social-insurance', sourceRecordId: `SI-${n}` }], scoring: 'id-link', scoringVersion: 1, score: 80, threshold: 80,
    criteria: [{ criterion: 'CITIZEN_ID_CHECK_CHARACTER', points: 60, detail: 'check character differs' }, { criterion: 'NAME', points: 20, detail: 'same name' }],
  }, origin('2026-11-05T00:00:00.000Z'));
const erasure = (person: string): RegistrationEvent =>
  newEvent(PERSON_ERASED, deterministicId('keyring', 'erase', person), person, { reason: 'PIPL art. 47 request 9', requestedBy: 'operator:ops-1' }, { ...origin('2026-11-06T00:00:00.000Z'), source: 'ops:keyring', actor: 'operator:ops-1' });

describe('person.erased in review’s projection (real PostgreSQL)', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let ds: DataSource;
  let transport: LogTransport;
  let refSecret: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { ...process.env, DATABASE_URL: db.url, CONSUME: 'false', RELAY_OUTBOX: 'false', AUTH_JWT_SECRET: randomBytes(32).toString('base64url'), API_KEY_SECRET: randomBytes(32).toString('base64url') };
    const { config, kafka } = loadServiceConfig('review', env);
    refSecret = kafka.sealing?.refSecret as string;
    app = await createServiceTestingApp(ReviewModule.register(config, kafka));
    ds = app.get(DataSource);
    transport = app.get(LogTransport);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const apply = (events: RegistrationEvent[], offset: number): Promise<RegistrationEvent[]> =>
    ds.transaction(async (manager) => applyEvents(manager, transport, events.map((event, i) => ({ event, partition: 0, offset: String(offset + i) })), { rebuilding: false, partition: 0, sealer: await transport.sealer() }));
  // Key columns hold the person ID (ADR 0011, stage 5).
  const count = async (table: string, person: string): Promise<number> =>
    Number((await ds.query(`SELECT count(*) AS n FROM ${table} WHERE person_key = $1`, [app.get(PersonIds).idOf(person)]))[0].n);
  const counts = async (person: string): Promise<number[]> => [await count('person_record', person), await count('link_review', person), await count('review_item', person)];

  it('deletes the person’s rows in its place in the batch, records their ref, and passes over their later events', async () => {
    // Before the erasure in the batch: applied (then deleted); after it: passed over.
    await apply([household(P, 1, '李明'), household(Q, 1, '王芳'), proposal(P, 1), proposal(Q, 2), erasure(P), household(P, 2, '李明'), proposal(P, 3)], 0);
    expect(await counts(P)).toEqual([0, 0, 0]);
    expect(await counts(Q)).toEqual([1, 1, 0]);
    expect(await ds.query(`SELECT person_ref, event_id FROM erased_person`)).toEqual([{ person_ref: personRefOf(refSecret, P), event_id: erasure(P).eventId }]);
    // The erasure is in the audit trail once (who asked, why, whom: by person ID, never the citizen ID), written with the deletion.
    const audited = (await ds.query(`SELECT entry FROM audit.audit_event WHERE action = 'erase'`)) as { entry: string }[];
    expect(audited.map((r) => r.entry).join('\n')).not.toContain(P);
    expect(audited.map((r) => JSON.parse(r.entry))).toEqual([
      {
        v: 1, service: 'review', requestId: erasure(P).correlationId, actor: 'operator:ops-1', role: 'operator', division: null, source: 'ops:keyring', method: null, route: null,
        action: 'erase', purpose: 'erasure', purposeRef: erasure(P).eventId, people: [app.get(PersonIds).idOf(P)], count: 1, result: 'ok', status: null, code: null,
        detail: 'PIPL art. 47 request 9 (requested by operator:ops-1)',
      },
    ]);
    const q = (await app.get(PersonRecordRepository).find(ds.manager, Q)) as { version: number; name: string };
    expect([q.version, q.name]).toEqual([2, '王芳']);

    // A later batch (an event appended before the key was shredded): still nothing of theirs.
    const applied = await apply([household(P, 3, '李明'), household(Q, 4, '王芳'), erasure(P)], 10);
    expect(applied.map((e) => e.eventId)).toEqual([household(P, 3, '李明').eventId, household(Q, 4, '王芳').eventId]);
    expect(await counts(P)).toEqual([0, 0, 0]);
    expect(await count('person_record', Q)).toBe(1);
    expect((await ds.query(`SELECT count(*) AS n FROM erased_person`))[0].n).toBe('1');
    // The second erasure event of the person (a re-run of the command) was passed over: still one entry.
    expect((await ds.query(`SELECT count(*)::int AS n FROM audit.audit_event WHERE action = 'erase'`))[0].n).toBe(1);
  });

  it('deletes rows not re-keyed yet too, which hold the citizen ID as written before ADR 0011 stage 5', async () => {
    const U = id('44098119880404054');
    await apply([household(U, 1, '赵六'), proposal(U, 4)], 30);
    const idOfU = app.get(PersonIds).idOf(U);
    // As the version before stage 5 wrote them: the citizen ID in the key columns.
    await ds.query(`UPDATE person_record SET person_key = $1 WHERE person_key = $2`, [U, idOfU]);
    await ds.query(`UPDATE link_review SET person_key = $1 WHERE person_key = $2`, [U, idOfU]);
    const plain = async (): Promise<number[]> => [
      Number((await ds.query(`SELECT count(*) AS n FROM person_record WHERE person_key = $1`, [U]))[0].n),
      Number((await ds.query(`SELECT count(*) AS n FROM link_review WHERE person_key = $1`, [U]))[0].n),
    ];
    expect(await plain()).toEqual([1, 1]);
    await apply([erasure(U)], 32);
    expect(await plain()).toEqual([0, 0]);
    expect(await counts(U)).toEqual([0, 0, 0]);
  });

  it('commits a batch holding an erasure durably, where consumer batches commit asynchronously', async () => {
    // `keyring erase` shreds the key once the groups are past the event: a commit of the erasure that a
    // PostgreSQL crash could lose would never be applied again.
    const R = id('44098119870303043');
    const setting = async (qr: ReturnType<DataSource['createQueryRunner']>): Promise<string> => (await qr.query('SHOW synchronous_commit'))[0].synchronous_commit;
    const qr = ds.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      await commitAsynchronously(qr);
      await applyEvents(qr.manager, transport, [{ event: household(R, 1, '张三'), partition: 0, offset: '20' }], { rebuilding: false, partition: 0, sealer: await transport.sealer() });
      expect(await setting(qr)).toBe('off');
      await applyEvents(qr.manager, transport, [{ event: erasure(R), partition: 0, offset: '21' }], { rebuilding: false, partition: 0, sealer: await transport.sealer() });
      expect(await setting(qr)).toBe('on');
      expect(await qr.query('SELECT count(*)::int AS n FROM person_record WHERE person_key = ANY($1)', [[R, app.get(PersonIds).idOf(R)]])).toEqual([{ n: 0 }]);
    } finally {
      await qr.rollbackTransaction();
      await qr.release();
    }
  });
});
