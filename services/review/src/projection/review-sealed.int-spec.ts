import type { INestApplication } from '@nestjs/common';
import { LINK_PROPOSED, REVIEW_CHANGE_SUBMITTED, REVIEW_RETURNED, SOURCE_RECORD_RECEIVED, deterministicId, newEvent } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { checkCharacter, valuesBefore } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { applyEvents } from '@qmcb/event-log';
import { PersonIds } from '@qmcb/platform';
import { LogTransport, PLAIN_ROW_SEALERS, PersonRecordRepository, createServiceTestingApp, loadServiceConfig, runServiceCommand } from '@qmcb/service-kit';
import type { PlainRowSealer } from '@qmcb/service-kit';
import { createTestDatabase } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import { randomBytes } from 'crypto';
import { DataSource } from 'typeorm';
import { evolve, reviewIdFor } from '../items/review-item.decider';
import type { ReviewItem } from '../items/review-item.decider';
import { ReviewItemRepository } from '../items/review-item.repository';
import { evolve as evolveLink } from '../links/link-review.decider';
import type { LinkEvent, LinkReview } from '../links/link-review.decider';
import { LinkReviewRepository } from '../links/link-review.repository';
import { ReviewModule } from '../review.module';

/**
 * Review's tables at rest (ADR 0011, stage 4), through the log transport into the projection, on real
 * PostgreSQL and the keyring: no name, phone, address, citizen ID or mistyped ID readable in a row of
 * `review_item` or `link_review`; the repositories answer what the deciders fold; rows written before
 * sealing are read as they are, sealed when next written or in place by `seal-records`; an erased
 * person's are read as absent.
 */
const id = (first17: string): string => `${first17}${checkCharacter(first17)}`;
const P = id('44098119850101021');
const Q = id('44098119860202032');
const R = id('44098119870303043');
const S = id('44098119880404054');
const T = id('44098119890505065');
const VILLAGE = '440981002001';
const OLD_NAME = '欧阳明远';
const NAME = '欧阳明达';
const PHONE = '13912345678';
const OLD_PHONE = '13800138000';
const ADDRESS = '南宫居委会幸福路 18 号';
const CORRECTED_ID = id('44098119850101031');
const EVIDENCE = 'HK-44098119-0042';
const RETURN_REASON = `电话 ${PHONE} 打不通`;
// A mistyped ID: P's with another check character; 18 characters, so it is the record key too.
const AS_SENT = `${P.slice(0, 17)}${P[17] === '0' ? '1' : '0'}`;
const SOURCE_ID = 'SI-7305-118';

const origin = (at: string) => ({ source: 'svc:review', actor: 'user:window-1', occurredAt: at, correlationId: deterministicId('corr', at) });
const household = (person: string, n: number): RegistrationEvent =>
  newEvent(SOURCE_RECORD_RECEIVED, deterministicId('hh', person, String(n)), person, {
    department: 'public-security', sourceRecordId: `HJ-${person.slice(-4)}-${n}`, mode: 'snapshot', asOf: '2026-11-01T00:00:00.000Z', citizenIdAsSent: person, citizenIdValid: true,
    facts: { kind: 'household', name: OLD_NAME, villageCode: VILLAGE, status: 'normal', phone: OLD_PHONE, address: '南宫居委会 1 号' },
  }, { ...origin(`2026-11-0${n}T00:00:00.000Z`), source: 'svc:comparison', actor: 'svc:comparison' });
const request = {
  kind: 'correction' as const,
  fields: { citizenId: CORRECTED_ID, name: NAME, phone: PHONE, residenceAddress: ADDRESS },
  evidence: [{ kind: 'household-book' as const, reference: EVIDENCE }],
  unknown: [],
  note: `${NAME} 本人到窗口`,
};
const submitted = (person: string, n: number): RegistrationEvent =>
  newEvent(REVIEW_CHANGE_SUBMITTED, deterministicId('submitted', person, String(n)), person, {
    reviewId: reviewIdFor(deterministicId('submission', person, String(n))), submissionId: deterministicId('submission', person, String(n)),
    channel: 'window', submitterId: 'window-1', villageCode: VILLAGE, skipInitial: false, request,
  }, { ...origin('2026-11-03T00:00:00.000Z'), basedOnVersion: 1 });
const returned = (person: string, n: number): RegistrationEvent =>
  newEvent(REVIEW_RETURNED, deterministicId('returned', person, String(n)), person, {
    reviewId: reviewIdFor(deterministicId('submission', person, String(n))), submissionId: deterministicId('submission', person, String(n)),
    stage: 'initial', reviewerId: 'township-1', reason: RETURN_REASON, fieldsToFix: ['phone'],
  }, { ...origin('2026-11-04T00:00:00.000Z'), actor: 'user:township-1' });
const proposal = (person: string, n: number): RegistrationEvent =>
  newEvent(LINK_PROPOSED, deterministicId('proposal', person, String(n)), person, {
    linkId: deterministicId('link', person, String(n)), recordKey: AS_SENT, citizenIdAsSent: AS_SENT,
    sources: [{ department: 'social-insurance', sourceRecordId: SOURCE_ID }], scoring: 'id-link', scoringVersion: 1, score: 80, threshold: 80,
    criteria: [{ criterion: 'CITIZEN_ID_CHECK_CHARACTER', points: 50, detail: 'only the check character differs' }, { criterion: 'NAME', points: 30, detail: 'the same' }],
  }, { ...origin('2026-11-05T00:00:00.000Z'), source: 'svc:comparison', actor: 'svc:comparison' });

const PERSONAL = [OLD_NAME, NAME, PHONE, OLD_PHONE, ADDRESS, '幸福路', CORRECTED_ID, EVIDENCE, AS_SENT, SOURCE_ID];

describe('review’s tables sealed at rest (ADR 0011, stage 4; real PostgreSQL and keyring)', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let ds: DataSource;
  let transport: LogTransport;
  let items: ReviewItemRepository;
  let links: LinkReviewRepository;
  let env: Record<string, string | undefined>;
  let ids: PersonIds;

  beforeAll(async () => {
    db = await createTestDatabase();
    // A person ref secret of this run's own: fresh data keys in the shared keyring, so shredding one touches no other run or spec.
    env = { ...process.env, LOG_PERSON_REF_SECRET: randomBytes(32).toString('base64url'), DATABASE_URL: db.url, CONSUME: 'false', RELAY_OUTBOX: 'false', AUTH_JWT_SECRET: randomBytes(32).toString('base64url'), API_KEY_SECRET: randomBytes(32).toString('base64url') };
    const { config, kafka } = loadServiceConfig('review', env);
    app = await createServiceTestingApp(ReviewModule.register(config, kafka));
    ds = app.get(DataSource);
    transport = app.get(LogTransport);
    items = app.get(ReviewItemRepository);
    links = app.get(LinkReviewRepository);
    ids = new PersonIds(config.PERSON_ID_SECRET);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const apply = (events: RegistrationEvent[], offset: number): Promise<RegistrationEvent[]> =>
    ds.transaction(async (manager) => applyEvents(manager, transport, events.map((event, i) => ({ event, partition: 0, offset: String(offset + i) })), { rebuilding: false, partition: 0, sealer: await transport.sealer() }));
  const rows = async (table: 'review_item' | 'link_review', person: string): Promise<{ text: string; sealed: Buffer | null }[]> =>
    ds.query(`SELECT row_to_json(t)::text AS text, sealed FROM ${table} t WHERE person_key = $1`, [ids.idOf(person)]);
  const expectNothingReadable = (row: { text: string; sealed: Buffer | null } | undefined): void => {
    expect(row?.sealed).toBeInstanceOf(Buffer);
    for (const value of PERSONAL) {
      expect(row?.text).not.toContain(value);
      expect(row?.sealed?.includes(Buffer.from(value, 'utf8'))).toBe(false);
    }
  };
  const record = async (person: string): Promise<RegistrationRecord> => (await app.get(PersonRecordRepository).find(ds.manager, person)) as RegistrationRecord;
  /** The item the decider folds from the events (what the repository answered before sealing). */
  const expectedItem = async (person: string, n: number): Promise<ReviewItem> => {
    const opened = evolve(null, submitted(person, n), { villageCode: VILLAGE, skipInitial: false, before: valuesBefore(await record(person), request.fields), reasons: [] });
    return evolve(opened, returned(person, n)) as ReviewItem;
  };
  const expectedLink = (person: string, n: number): LinkReview => evolveLink(null, proposal(person, n) as LinkEvent, VILLAGE) as LinkReview;

  /** An item and a link review of the person as the previous version wrote them. */
  const insertPlain = async (person: string, n: number, updatedAt: string, initialComment: string | null): Promise<{ item: ReviewItem; link: LinkReview }> => {
    const item = await expectedItem(person, n);
    const link = expectedLink(person, n);
    // Rows as the previous version wrote them: sealed null, the values in their columns (times to the microsecond, as now() writes them);
    // their key columns re-keyed to person IDs (ADR 0011, stage 5), as the upgrade leaves them.
    await ds.query(
      `INSERT INTO review_item (review_id, submission_id, channel, kind, person_key, village_code, township_code, county_code, stage, status, request, before,
         submitter_id, submitted_at, based_on_version, initial_comment, return_reason, fields_to_fix, decided_at, updated_at, version)
       VALUES ($1, $2, 'window', 'correction', $3, $4, $5, $6, 'initial', 'returned', $7, $8, 'window-1', $9, 1, $10, $11, '{phone}', $12, $12, 2)`,
      [item.reviewId, item.submissionId, ids.idOf(person), VILLAGE, VILLAGE.slice(0, 9), VILLAGE.slice(0, 6), JSON.stringify(item.request), JSON.stringify(item.before), item.submittedAt, initialComment, RETURN_REASON, updatedAt],
    );
    await ds.query(
      `INSERT INTO link_review (link_id, person_key, record_key, citizen_id_as_sent, sources, score, threshold, criteria, village_code, township_code, county_code,
         stage, status, proposed_at, initial_comment, updated_at, version)
       VALUES ($1, $2, $3, $12, $4, 80, 80, $5, $6, $7, $8, 'initial', 'pending', $9, $10, $11, 1)`,
      [link.linkId, ids.idOf(person), ids.idOf(AS_SENT), JSON.stringify(link.sources), JSON.stringify(link.criteria), VILLAGE, VILLAGE.slice(0, 9), VILLAGE.slice(0, 6), link.proposedAt, initialComment, updatedAt, AS_SENT],
    );
    return { item, link };
  };

  it('keeps no name, phone, address, citizen ID or ID as sent readable, and answers what it answered before', async () => {
    await apply([household(P, 1), submitted(P, 1), returned(P, 1), proposal(P, 1)], 0);
    const [item] = await rows('review_item', P);
    expectNothingReadable(item);
    const [link] = await rows('link_review', P);
    expectNothingReadable(link);
    // What SQL selects on stays readable: the queue's columns, the reasons, the score and its criteria.
    expect(JSON.parse(item?.text as string)).toMatchObject({ village_code: VILLAGE, stage: 'initial', status: 'returned', channel: 'window', kind: 'correction', request: null, before: null, return_reason: null });
    expect(JSON.parse(link?.text as string)).toMatchObject({ score: 80, threshold: 80, citizen_id_as_sent: null, record_key: null, sources: null, criteria: expectedLink(P, 1).criteria });

    const expected = await expectedItem(P, 1);
    expect(JSON.stringify(expected.before)).toContain(OLD_PHONE);
    expect(await items.find(ds.manager, expected.reviewId)).toEqual(expected);
    expect(await items.forPerson(ds.manager, P)).toEqual([expected]);
    expect(await items.list(ds.manager, { within: '440981', sort: 'submittedAt', limit: 10, offset: 0 })).toEqual({ total: 1, items: [expected] });
    expect(await ds.transaction((m) => items.findMany(m, [expected.reviewId]))).toEqual(new Map([[expected.reviewId, expected]]));
    const expectedL = expectedLink(P, 1);
    expect(expectedL.citizenIdAsSent).toBe(AS_SENT);
    expect(await links.find(ds.manager, expectedL.linkId)).toEqual(expectedL);
    expect(await links.list(ds.manager, { within: '440981', limit: 10, offset: 0 })).toEqual({ total: 1, items: [expectedL] });
  });

  it('holds no citizen ID in any row of any table: key columns hold person IDs (ADR 0011, stage 5)', async () => {
    // After the flow above: P's record, a submitted and returned item, a link review of a mistyped ID.
    const tables: { schema: string; table: string }[] = await ds.query(
      `SELECT table_schema AS schema, table_name AS table FROM information_schema.tables
        WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE' ORDER BY 1, 2`,
    );
    expect(tables.map((t) => `${t.schema}.${t.table}`)).toEqual(expect.arrayContaining(['review.person_record', 'review.review_item', 'review.link_review']));
    const texts: string[] = [];
    for (const { schema, table } of tables) {
      const found: { text: string }[] = await ds.query(`SELECT to_jsonb(x)::text AS text FROM "${schema}"."${table}" x`);
      texts.push(...found.map((r) => r.text));
    }
    expect(texts.length).toBeGreaterThan(3);
    for (const citizenId of [P, CORRECTED_ID, AS_SENT]) expect(texts.filter((t) => t.includes(citizenId))).toEqual([]);
    // The rows are the person's, by person ID.
    const keyed = async (table: string): Promise<string[]> => (await ds.query(`SELECT person_key FROM ${table}`)).map((r: { person_key: string }) => r.person_key);
    expect([await keyed('person_record'), await keyed('review_item'), await keyed('link_review')]).toEqual([[ids.idOf(P)], [ids.idOf(P)], [ids.idOf(P)]]);
  });

  it('seals the same values to the same bytes when written again (a projection equals its rebuild)', async () => {
    const [before] = await rows('review_item', P);
    const item = (await items.forPerson(ds.manager, P))[0] as ReviewItem;
    await ds.transaction((m) => items.saveMany(m, [JSON.parse(JSON.stringify(item)) as ReviewItem]));
    expect((await rows('review_item', P))[0]?.sealed?.equals(before?.sealed as Buffer)).toBe(true);
  });

  it('reads rows written before sealing as they are, and seals them when they are next written', async () => {
    await apply([household(Q, 1)], 10);
    const item = await expectedItem(Q, 1);
    const link = expectedLink(Q, 1);
    // Rows as the version before stages 4 and 5 wrote them: sealed null, the values in their columns, the citizen ID as the key.
    await ds.query(
      `INSERT INTO review_item (review_id, submission_id, channel, kind, person_key, village_code, township_code, county_code, stage, status, request, before,
         submitter_id, submitted_at, based_on_version, return_reason, fields_to_fix, decided_at, updated_at, version)
       VALUES ($1, $2, 'window', 'correction', $3, $4, $5, $6, 'initial', 'returned', $7, $8, 'window-1', $9, 1, $10, '{phone}', $11, $11, 2)`,
      [item.reviewId, item.submissionId, Q, VILLAGE, VILLAGE.slice(0, 9), VILLAGE.slice(0, 6), JSON.stringify(item.request), JSON.stringify(item.before), item.submittedAt, RETURN_REASON, item.updatedAt],
    );
    await ds.query(
      `INSERT INTO link_review (link_id, person_key, record_key, citizen_id_as_sent, sources, score, threshold, criteria, village_code, township_code, county_code,
         stage, status, proposed_at, updated_at, version)
       VALUES ($1, $2, $3, $3, $4, 80, 80, $5, $6, $7, $8, 'initial', 'pending', $9, $9, 1)`,
      [link.linkId, Q, AS_SENT, JSON.stringify(link.sources), JSON.stringify(link.criteria), VILLAGE, VILLAGE.slice(0, 9), VILLAGE.slice(0, 6), link.proposedAt],
    );
    expect((await ds.query(`SELECT row_to_json(t)::text AS text FROM review_item t WHERE person_key = $1`, [Q]))[0]?.text).toContain(PHONE);
    expect(await items.find(ds.manager, item.reviewId)).toEqual(item);
    expect(await links.find(ds.manager, link.linkId)).toEqual(link);

    await ds.transaction(async (m) => {
      await items.saveMany(m, [...(await items.findMany(m, [item.reviewId])).values()]);
      await links.saveMany(m, [...(await links.findMany(m, [link.linkId])).values()]);
    });
    // Written again: sealed, and re-keyed.
    expectNothingReadable((await rows('review_item', Q))[0]);
    expectNothingReadable((await rows('link_review', Q))[0]);
    expect(await ds.query(`SELECT person_key FROM review_item WHERE person_key = $1 UNION ALL SELECT person_key FROM link_review WHERE person_key = $1`, [Q])).toEqual([]);
    expect(await items.find(ds.manager, item.reviewId)).toEqual(item);
    expect(await links.find(ds.manager, link.linkId)).toEqual(link);
  });

  it('seal-records seals rows written before in place, in steps, reading back the same; versions and times stay; an erased person’s are left', async () => {
    await apply([household(R, 1), household(S, 1)], 20);
    const r1 = await insertPlain(R, 1, '2026-11-04T00:00:00.123456Z', null);
    const r2 = await insertPlain(R, 2, '2026-11-04T08:30:00.654321Z', `${NAME} 电话 ${PHONE} 已核实`);
    await insertPlain(S, 1, '2026-11-04T09:00:00.000001Z', null);
    // S erased: their key shredded, their rows not deleted yet (the erasure does that).
    const log = await transport.sealer();
    expect(await log.keyring.shred(log.personRef(S), 'int test of ADR 0011 stage 4')).toBe(true);
    const personalColumns = { review_item: ['request', 'before', 'initial_comment', 'return_reason', 'reject_reason', 'close_reason'], link_review: ['record_key', 'citizen_id_as_sent', 'sources', 'initial_comment', 'decision_note'] };
    /** Every column but the sealed and the personal ones, as PostgreSQL holds them (times to the microsecond). */
    const rest = async (table: 'review_item' | 'link_review'): Promise<string[]> =>
      (await ds.query(`SELECT (to_jsonb(t) - 'sealed' - $1::text[])::text AS text FROM ${table} t ORDER BY 1`, [personalColumns[table]])).map((r: { text: string }) => r.text);
    const reads = async (): Promise<unknown> => ({
      forPerson: await items.forPerson(ds.manager, R),
      items: await Promise.all([r1, r2].map(({ item }) => items.find(ds.manager, item.reviewId))),
      links: await Promise.all([r1, r2].map(({ link }) => links.find(ds.manager, link.linkId))),
      list: await links.list(ds.manager, { within: '440981', limit: 10, offset: 0 }),
    });
    const readBefore = await reads();
    expect((readBefore as { forPerson: ReviewItem[] }).forPerson.map((i) => i.initialComment)).toEqual([null, `${NAME} 电话 ${PHONE} 已核实`]);
    const restBefore = { review_item: await rest('review_item'), link_review: await rest('link_review') };

    // The sealers seal-records finds in review's module, in steps of one item and two link reviews.
    const sealers = app.get<PlainRowSealer[]>(PLAIN_ROW_SEALERS, { strict: false });
    expect(sealers.map((t) => t.table)).toEqual(['review_item', 'link_review']);
    const counts = async (): Promise<number[]> => Promise.all(sealers.map((t) => t.countPlain(ds.manager)));
    expect(await counts()).toEqual([3, 3]);
    for (const table of sealers) {
      let after: string | null = null;
      let sealed = 0;
      let steps = 0;
      for (;;) {
        const step: { last: string | null; sealed: number } = await ds.transaction((m) => table.sealPlainRows(m, after, table.table === 'review_item' ? 1 : 2));
        if (step.last === null) break;
        after = step.last;
        sealed += step.sealed;
        steps += 1;
      }
      expect({ table: table.table, sealed, steps }).toEqual({ table: table.table, sealed: 2, steps: table.table === 'review_item' ? 3 : 2 });
    }
    // Only S's rows are left plain, to the erasure.
    expect(await counts()).toEqual([1, 1]);
    for (const table of ['review_item', 'link_review'] as const) {
      const ofR = await rows(table, R);
      expect(ofR).toHaveLength(2);
      for (const row of ofR) expectNothingReadable(row);
      const [ofS] = await rows(table, S);
      expect(ofS?.sealed).toBeNull();
      expect(ofS?.text).toContain(table === 'link_review' ? AS_SENT : PHONE);
    }
    expect(await reads()).toEqual(readBefore);
    expect({ review_item: await rest('review_item'), link_review: await rest('link_review') }).toEqual(restBefore);
  });

  it('refuses a sealed value moved to another person’s row', async () => {
    const [ofP] = await rows('review_item', P);
    const item = (await items.forPerson(ds.manager, Q))[0] as ReviewItem;
    await ds.query(`UPDATE review_item SET sealed = $1 WHERE review_id = $2`, [ofP?.sealed, item.reviewId]);
    await expect(items.find(ds.manager, item.reviewId)).rejects.toThrow(/unable to authenticate/);
    await ds.transaction((m) => items.saveMany(m, [item]));
  });

  it('reads nothing of a person whose key is shredded, and does not write them again', async () => {
    const log = await transport.sealer();
    const item = (await items.forPerson(ds.manager, P))[0] as ReviewItem;
    const link = (await links.list(ds.manager, { within: '440981', limit: 10, offset: 0 })).items.find((l) => l.personKey === P) as LinkReview;
    expect(await log.keyring.shred(log.personRef(P), 'int test of ADR 0011 stage 4')).toBe(true);
    expect(await items.forPerson(ds.manager, P)).toEqual([]);
    expect(await links.find(ds.manager, link.linkId)).toBeNull();
    await ds.query(`DELETE FROM review_item WHERE person_key = $1`, [ids.idOf(P)]);
    await ds.query(`DELETE FROM link_review WHERE person_key = $1`, [ids.idOf(P)]);
    await ds.transaction(async (m) => {
      await items.saveMany(m, [item]);
      await links.saveMany(m, [link]);
    });
    expect([await rows('review_item', P), await rows('link_review', P)]).toEqual([[], []]);
  });

  it('`npm run projection -- review seal-records` seals them too, and reports the erased person’s as left to the erasure', async () => {
    await apply([household(T, 1)], 30);
    const { item, link } = await insertPlain(T, 1, '2026-11-06T00:00:00.000123Z', `${NAME} 本人`);
    const readBefore = [await items.find(ds.manager, item.reviewId), await links.find(ds.manager, link.linkId)];
    const out: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const saved = { ...process.env };
    Object.assign(process.env, env, { LOG_LEVEL: 'error' });
    try {
      expect(await runServiceCommand('review', (config, kafka) => ReviewModule.register(config, kafka), ['seal-records'])).toBe(0);
    } finally {
      process.env = saved;
      write.mockRestore();
    }
    // T's rows sealed; S's (erased in the test before) left to the erasure.
    expect(out.join('')).toContain('seal-records review: review_item done, 1 sealed; 1 left as they are');
    expect(out.join('')).toContain('seal-records review: link_review done, 1 sealed; 1 left as they are');
    expectNothingReadable((await rows('review_item', T))[0]);
    expectNothingReadable((await rows('link_review', T))[0]);
    expect([await items.find(ds.manager, item.reviewId), await links.find(ds.manager, link.linkId)]).toEqual(readBefore);
  });
});
