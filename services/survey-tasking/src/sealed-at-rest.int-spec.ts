import { randomBytes, randomUUID } from 'crypto';
import { checkCharacter } from '@qmcb/domain';
import { closeSealers, openDataSource, sealerFor, sealingFromEnv } from '@qmcb/event-log';
import type { LogSealer } from '@qmcb/event-log';
import { PersonIds } from '@qmcb/platform';
import { PersonalDataSealer, PersonKeyColumn } from '@qmcb/service-kit';
import { createTestDatabase } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import type { DataSource } from 'typeorm';
import { HouseholdMemberRepository } from './households/household-member.repository';
import type { MemberRow } from './households/household-member.repository';
import { SURVEY_MIGRATIONS } from './survey-tasking.module';
import type { SurveyTarget } from './targets/survey-target.decider';
import { SurveyTaskRepository } from './targets/survey-task.repository';
import type { TargetPerson } from './targets/target-person';
import { SurveyVisitRepository } from './visits/survey-visit.repository';
import type { VisitRow } from './visits/survey-visit.repository';

/**
 * ADR 0011, stage 4: survey tasking's personal values at rest, read straight from PostgreSQL
 * (`row_to_json`): visits' payloads, household members, targets' persons and notes are sealed under
 * the person's data key; the repositories answer exactly what was written; rows written before
 * sealing read as before; an erased person's values open no more and are not written again.
 * Stage 5: `person_key` holds the person ID, so no citizen ID is readable in any column either.
 */
const valid = (first17: string): string => `${first17}${checkCharacter(first17)}`;
const A = valid('44098119750315131');
const B = valid('44098119770601142');
const C = valid('44098120000120151');
const D = valid('44098119900909171');
const VILLAGE = '440981002001';
const HOUSEHOLD = `${VILLAGE}-0001`;
const NAME_A = '欧阳明远';
const NAME_B = '司马芳菲';
const NAME_C = '诸葛小强';
const PHONE = '13912345678';
const ADDRESS = '南宫居委会幸福路 18 号';
const WHERE = '深圳市宝安区福永街道打工';
const NOTE = '邻居说他在深圳电子厂';
const RETURNED = '电话号码与本人不符';
/** Everything personal this spec writes: none of it may be readable in a row. */
const PERSONAL = [NAME_A, NAME_B, NAME_C, PHONE, ADDRESS, '幸福路', WHERE, NOTE, RETURNED, A, B, C, D, '1975-03-15', '1977-06-01', '配偶'];

const personOf = (key: string, name: string): TargetPerson => ({
  citizenId: key, name, sex: 'male', birthDate: '1975-03-15', hukouDivision: VILLAGE, hukouAddress: ADDRESS, hukouStatus: 'normal', residenceDivision: VILLAGE,
  residenceAddress: ADDRESS, phone: PHONE, householdNo: '0001', relation: '户主', insurance: [{ insuranceType: 'pension', scheme: 'resident', status: 'active', region: '440981' }],
});

const target = (personKey: string, over: Partial<SurveyTarget> = {}): SurveyTarget => ({
  taskId: randomUUID(), personKey, villageCode: VILLAGE, origin: 'comparison', status: 'away', reasons: ['UNINSURED'], submissionId: null, surveyorId: 'sv-1',
  campaignId: null, teamId: null, responsibleId: 'sv-1', assignedAt: '2026-11-02T00:00:00.000Z', visits: 1, lastVisitId: randomUUID(), lastOutcome: 'away',
  lastVisitAt: '2026-11-03T00:00:00.000Z', revisitOn: null, whereRegion: '440306', whereText: WHERE, visitNote: NOTE, returnReason: RETURNED, fieldsToFix: ['phone'],
  closedReason: null, finishedAt: null, foundInTaskId: null, createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-03T00:00:00.000Z', version: 3, ...over,
});

const member = (personKey: string, name: string, relation: string): MemberRow => ({
  personKey, householdKey: HOUSEHOLD, villageCode: VILLAGE, householdNo: '0001', citizenId: personKey, name, relation, sex: 'female', birthDate: '1977-06-01',
  hukouStatus: 'normal', source: 'household', foundTaskId: null,
});

describe('survey tasking sealed at rest (ADR 0011, stage 4; real PostgreSQL and keyring)', () => {
  let db: TestDatabase;
  const env = {
    ...process.env,
    KEYRING_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LOG_PERSON_REF_SECRET: randomBytes(32).toString('base64url'),
  };
  let ds: DataSource;
  let log: LogSealer;
  let visits: SurveyVisitRepository;
  let members: HouseholdMemberRepository;
  let tasks: SurveyTaskRepository;
  // What the key columns hold (ADR 0011, stage 5).
  const ids = new PersonIds(process.env.PERSON_ID_SECRET as string);
  const idOf = (key: string): string => ids.idOf(key);

  /** Each row of the table as PostgreSQL returns it (`row_to_json`), key columns included. */
  const rowsOf = async (table: string): Promise<string[]> =>
    (await ds.query(`SELECT row_to_json(t)::text AS text FROM ${table} t ORDER BY 1`)).map((r: { text: string }) => r.text);
  const expectNothingPersonal = async (table: string, column: string): Promise<void> => {
    const rows = await rowsOf(table);
    expect(rows.length).toBeGreaterThan(0);
    for (const text of rows) for (const value of PERSONAL) expect({ table, text, found: text.includes(value) }).toEqual({ table, text, found: false });
    const sealed: { bytes: Buffer }[] = await ds.query(`SELECT ${column} AS bytes FROM ${table} WHERE ${column} IS NOT NULL`);
    expect(sealed.length).toBe(rows.length);
    for (const { bytes } of sealed) for (const value of PERSONAL) expect(bytes.includes(Buffer.from(value, 'utf8'))).toBe(false);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    // The keyring in this spec's own database (its own master key and refs).
    Object.assign(env, { KEYRING_DATABASE_URL: db.url });
    ds = await openDataSource({ url: db.url, schema: 'probe', migrations: SURVEY_MIGRATIONS });
    log = await sealerFor({ sealing: sealingFromEnv(env) });
    const sealer = PersonalDataSealer.fromEnv(env);
    const keys = new PersonKeyColumn(ids);
    visits = new SurveyVisitRepository(sealer, keys);
    members = new HouseholdMemberRepository(sealer, keys);
    tasks = new SurveyTaskRepository(sealer, keys);
  });

  afterAll(async () => {
    await closeSealers();
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  });

  const visitOf = (task: SurveyTarget): VisitRow => ({
    recordId: task.lastVisitId as string, visitId: task.lastVisitId as string, taskId: task.taskId, personKey: task.personKey, surveyorId: 'sv-1', outcome: 'away',
    visitedAt: '2026-11-03T00:00:00.000Z', submissionId: null, recordedAt: '2026-11-03T00:00:01.000Z',
    payload: { taskId: task.taskId, visitId: task.lastVisitId, surveyorId: 'sv-1', outcome: 'away', visitedAt: '2026-11-03T00:00:00.000Z', reason: NOTE, whereRegion: '440306', whereText: WHERE, evidence: [] },
  });
  const formOf = (task: SurveyTarget): VisitRow => {
    const submissionId = randomUUID();
    return {
      recordId: submissionId, visitId: randomUUID(), taskId: task.taskId, personKey: task.personKey, surveyorId: 'sv-1', outcome: 'collected', visitedAt: '2026-11-04T00:00:00.000Z',
      submissionId, recordedAt: '2026-11-04T00:00:01.000Z',
      payload: {
        taskId: task.taskId, submissionId, surveyorId: 'sv-1',
        request: { fields: { name: NAME_A, citizenId: A, phone: PHONE, residenceAddress: ADDRESS } },
        household: { members: [{ citizenId: B, name: NAME_B, relation: '配偶' }, { citizenId: C, name: NAME_C, relation: '子' }] },
      },
    };
  };

  // PostgreSQL answers the two timestamps as Dates (as it always has).
  const asRead = (v: VisitRow): unknown => ({ ...v, visitedAt: new Date(v.visitedAt), recordedAt: new Date(v.recordedAt) });

  const ta = target(A);
  const tb = target(B, { status: 'returned', whereText: null, visitNote: null });

  it('survey_visit: no payload readable; find and the ledger’s latest forms answer exactly what was written', async () => {
    const visit = visitOf(ta);
    const form = formOf(ta);
    await ds.transaction((m) => visits.insertMany(m, [visit, form]));
    await expectNothingPersonal('survey_visit', 'sealed');
    expect(await ds.query(`SELECT count(*)::int AS n FROM survey_visit WHERE payload IS NOT NULL`)).toEqual([{ n: 0 }]);
    expect(await visits.find(ds.manager, visit.recordId)).toEqual(asRead(visit));
    expect(await visits.find(ds.manager, form.recordId)).toEqual(asRead(form));
    expect(await visits.latestForms(ds.manager, [ta.taskId])).toEqual(new Map([[ta.taskId, form.payload]]));
    // The same visit again (a retry, a rebuild) writes the same bytes.
    const before = await ds.query(`SELECT sealed FROM survey_visit WHERE record_id = $1`, [visit.recordId]);
    await ds.query(`DELETE FROM survey_visit WHERE record_id = $1`, [visit.recordId]);
    await ds.transaction((m) => visits.insertMany(m, [visit]));
    expect(await ds.query(`SELECT sealed FROM survey_visit WHERE record_id = $1`, [visit.recordId])).toEqual(before);
  });

  it('survey_household_member: no citizen ID, name, relation, sex or birth date readable; read back as written, each member under their own key', async () => {
    const rows = [member(A, NAME_A, '户主'), member(B, NAME_B, '配偶')];
    await ds.transaction((m) => members.upsertMany(m, rows));
    await expectNothingPersonal('survey_household_member', 'sealed');
    expect(await ds.query(`SELECT household_no, hukou_status, source FROM survey_household_member ORDER BY person_key`)).toEqual([
      { household_no: '0001', hukou_status: 'normal', source: 'household' },
      { household_no: '0001', hukou_status: 'normal', source: 'household' },
    ]);
    expect(await members.ofHouseholds(ds.manager, [HOUSEHOLD])).toEqual(rows);
    expect(await members.findMany(ds.manager, [A, B])).toEqual(new Map([[A, rows[0]], [B, rows[1]]]));
    // The projection compares a member as JSON with what it reads: the same fields in the same order.
    expect(JSON.stringify((await members.findMany(ds.manager, [B])).get(B))).toBe(JSON.stringify(rows[1]));
    // B's values are sealed under B's key, not the household head's: they open only as B's.
    const [{ sealed }] = await ds.query(`SELECT sealed FROM survey_household_member WHERE person_key = $1`, [idOf(B)]);
    await expect(PersonalDataSealer.fromEnv(env).open('survey_household_member.sealed', [{ personKey: A, sealed }])).rejects.toThrow(/unable to authenticate/);
  });

  it('survey_task: no person or note readable; every reader answers exactly what was written', async () => {
    await ds.transaction((m) => tasks.saveMany(m, [ta, tb]));
    await ds.transaction((m) => tasks.updatePeople(m, [{ personKey: A, householdKey: HOUSEHOLD, person: personOf(A, NAME_A) }, { personKey: B, householdKey: HOUSEHOLD, person: personOf(B, NAME_B) }]));
    await expectNothingPersonal('survey_task', 'person_sealed');
    await expectNothingPersonal('survey_task', 'notes_sealed');
    expect(await ds.query(`SELECT person, where_text, visit_note, return_reason FROM survey_task WHERE person_key = $1`, [idOf(A)])).toEqual([{ person: {}, where_text: null, visit_note: null, return_reason: null }]);
    const stored = { ...ta, townshipCode: '440981002', countyCode: '440981', householdKey: HOUSEHOLD, person: personOf(A, NAME_A) };
    expect(await tasks.find(ds.manager, ta.taskId)).toEqual(stored);
    const many = new Map((await tasks.findMany(ds.manager, [ta.taskId, tb.taskId])).map((t) => [t.taskId, [t.person.name, t.whereText, t.visitNote, t.returnReason]]));
    expect(many).toEqual(new Map([[ta.taskId, [NAME_A, WHERE, NOTE, RETURNED]], [tb.taskId, [NAME_B, null, null, RETURNED]]]));
    expect((await tasks.currentOf(ds.manager, [A], false)).get(A)).toEqual(stored);
    expect(await tasks.forPerson(ds.manager, A)).toEqual([stored]);
    expect((await tasks.list(ds.manager, { within: VILLAGE, status: 'away', limit: 10, offset: 0 })).items).toEqual([stored]);
    const scope = { campaignId: randomUUID(), countyCode: '440981', open: true };
    expect((await tasks.ledgerPage(ds.manager, scope, VILLAGE, null, 10)).find((t) => t.taskId === ta.taskId)).toEqual(stored);
  });

  it('survey_task: the same person again leaves the row untouched (the surveyors’ downloads do not bring it again)', async () => {
    const xid = async (): Promise<string> => (await ds.query(`SELECT synced_xid::text AS x FROM survey_task WHERE person_key = $1`, [idOf(A)]))[0].x;
    const before = await xid();
    await ds.transaction((m) => tasks.updatePeople(m, [{ personKey: A, householdKey: HOUSEHOLD, person: JSON.parse(JSON.stringify(personOf(A, NAME_A))) }]));
    expect(await xid()).toBe(before);
    await ds.transaction((m) => tasks.updatePeople(m, [{ personKey: A, householdKey: HOUSEHOLD, person: { ...personOf(A, NAME_A), phone: '13700000000' } }]));
    expect(await xid()).not.toBe(before);
    expect((await tasks.find(ds.manager, ta.taskId))?.person.phone).toBe('13700000000');
  });

  it('reads rows written before sealing as they are, and seals them when they are next written', async () => {
    const legacy = target(C);
    const legacyPerson = personOf(C, NAME_C);
    const legacyMember = member(C, NAME_C, '子');
    const legacyVisit = { ...visitOf(legacy), personKey: C };
    // Rows as stage 4 found them (their values plain), their key columns re-keyed (stage 5's upgrade).
    await ds.query(
      `INSERT INTO survey_task (task_id, person_key, village_code, township_code, county_code, origin, status, reasons, surveyor_id, responsible_id, assigned_at, visits,
         last_visit_id, last_outcome, last_visit_at, where_region, where_text, visit_note, return_reason, fields_to_fix, created_at, updated_at, version, household_key, person)
       VALUES ($1, $2, $3, '440981002', '440981', 'comparison', 'away', '{UNINSURED}', 'sv-1', 'sv-1', $4, 1, $5, 'away', $6, '440306', $7, $8, $9, '{phone}', $10, $11, 3, $12, $13)`,
      [legacy.taskId, idOf(C), VILLAGE, legacy.assignedAt, legacy.lastVisitId, legacy.lastVisitAt, WHERE, NOTE, RETURNED, legacy.createdAt, legacy.updatedAt, HOUSEHOLD, JSON.stringify(legacyPerson)],
    );
    await ds.query(
      `INSERT INTO survey_household_member (person_key, household_key, village_code, household_no, citizen_id, name, relation, sex, birth_date, hukou_status, source)
       VALUES ($1, $2, $3, '0001', $5, $4, '子', 'female', '1977-06-01', 'normal', 'household')`,
      [idOf(C), HOUSEHOLD, VILLAGE, NAME_C, C],
    );
    await ds.query(
      `INSERT INTO survey_visit (record_id, visit_id, task_id, person_key, surveyor_id, outcome, visited_at, payload, recorded_at) VALUES ($1, $1, $2, $3, 'sv-1', 'away', $4, $5, $6)`,
      [legacyVisit.recordId, legacy.taskId, idOf(C), legacyVisit.visitedAt, JSON.stringify(legacyVisit.payload), legacyVisit.recordedAt],
    );
    expect(await tasks.find(ds.manager, legacy.taskId)).toEqual({ ...legacy, townshipCode: '440981002', countyCode: '440981', householdKey: HOUSEHOLD, person: legacyPerson });
    expect((await members.findMany(ds.manager, [C])).get(C)).toEqual(legacyMember);
    expect(await visits.find(ds.manager, legacyVisit.recordId)).toEqual(asRead(legacyVisit));

    await ds.transaction(async (m) => {
      await tasks.saveMany(m, [{ ...legacy, version: 4 }]);
      await tasks.updatePeople(m, [{ personKey: C, householdKey: HOUSEHOLD, person: legacyPerson }]);
      await members.upsertMany(m, [legacyMember]);
    });
    await expectNothingPersonal('survey_task', 'person_sealed');
    await expectNothingPersonal('survey_household_member', 'sealed');
    expect(await tasks.find(ds.manager, legacy.taskId)).toEqual({ ...legacy, version: 4, townshipCode: '440981002', countyCode: '440981', householdKey: HOUSEHOLD, person: legacyPerson });
    expect((await members.findMany(ds.manager, [C])).get(C)).toEqual(legacyMember);
  });

  it('seal-records seals the rows written before in place, in steps, reading back the same; the download marks stay', async () => {
    const legacy = target(D);
    const person = personOf(D, NAME_C);
    await ds.query(
      `INSERT INTO survey_task (task_id, person_key, village_code, township_code, county_code, origin, status, reasons, visits, where_text, visit_note, return_reason, created_at, updated_at, version, household_key, person)
       VALUES ($1, $2, $3, '440981002', '440981', 'comparison', 'away', '{UNINSURED}', 1, $4, $5, $6, $7, $8, 3, $9, $10),
              ($11, $2, $3, '440981002', '440981', 'comparison', 'closed', '{UNINSURED}', 0, NULL, NULL, NULL, $7, $8, 1, $9, '{}')`,
      [legacy.taskId, idOf(D), VILLAGE, WHERE, NOTE, RETURNED, '2026-10-01T00:00:00.000Z', legacy.updatedAt, HOUSEHOLD, JSON.stringify(person), randomUUID()],
    );
    await ds.query(
      `INSERT INTO survey_household_member (person_key, household_key, village_code, household_no, citizen_id, name, relation, sex, birth_date, hukou_status, source)
       VALUES ($1, $2, $3, '0001', $5, $4, '配偶', 'female', '1977-06-01', 'normal', 'household')`,
      [idOf(D), HOUSEHOLD, VILLAGE, NAME_C, D],
    );
    const readBefore = { tasks: await tasks.forPerson(ds.manager, D), members: await members.findMany(ds.manager, [D]), visits: await visits.latestForms(ds.manager, [ta.taskId]) };
    const plainVisits = await visits.countPlain(ds.manager);
    expect([await tasks.countPlain(ds.manager), await members.countPlain(ds.manager), plainVisits]).toEqual([2, 1, 1]);
    const marks = async (): Promise<unknown> => ds.query(`SELECT task_id, synced_xid::text FROM survey_task ORDER BY task_id`);
    const marksBefore = await marks();
    for (const table of [tasks, members, visits]) {
      let after: string | null = null;
      let sealed = 0;
      for (;;) {
        const step: { last: string | null; sealed: number } = await ds.transaction((m) => table.sealPlainRows(m, after, 1));
        if (step.last === null) break;
        after = step.last;
        sealed += step.sealed;
      }
      expect({ table: table.table, sealed, left: await table.countPlain(ds.manager) }).toEqual({ table: table.table, sealed: table === tasks ? 2 : 1, left: 0 });
    }
    for (const [table, column] of [['survey_task', 'notes_sealed'], ['survey_household_member', 'sealed'], ['survey_visit', 'sealed']] as const) await expectNothingPersonal(table, column);
    // The target whose person was never set keeps `{}` unsealed, as a target written now would.
    expect(await ds.query(`SELECT count(*)::int AS n FROM survey_task WHERE person_sealed IS NULL AND person = '{}'::jsonb AND notes_sealed IS NOT NULL`)).toEqual([{ n: 1 }]);
    expect({ tasks: await tasks.forPerson(ds.manager, D), members: await members.findMany(ds.manager, [D]), visits: await visits.latestForms(ds.manager, [ta.taskId]) }).toEqual(readBefore);
    expect(await marks()).toEqual(marksBefore);
  });

  it('seal-records writes a member still keyed by the citizen ID (before stage 5) again under the person ID, and the old row goes', async () => {
    const E = valid('44098119800808181');
    const other = `${VILLAGE}-0002`;
    await ds.query(
      `INSERT INTO survey_household_member (person_key, household_key, village_code, household_no, citizen_id, name, relation, sex, birth_date, hukou_status, source)
       VALUES ($1, $2, $3, '0002', $1, $4, '户主', 'female', '1977-06-01', 'normal', 'household')`,
      [E, other, VILLAGE, NAME_C],
    );
    let after: string | null = null;
    let sealed = 0;
    for (;;) {
      const step: { last: string | null; sealed: number } = await ds.transaction((m) => members.sealPlainRows(m, after, 1));
      if (step.last === null) break;
      after = step.last;
      sealed += step.sealed;
    }
    expect([sealed, await members.countPlain(ds.manager)]).toEqual([1, 0]);
    expect(await ds.query(`SELECT person_key, citizen_id, sealed IS NOT NULL AS sealed FROM survey_household_member WHERE household_key = $1`, [other])).toEqual([
      { person_key: idOf(E), citizen_id: null, sealed: true },
    ]);
    expect(await members.ofHouseholds(ds.manager, [other])).toEqual([{ ...member(E, NAME_C, '户主'), householdKey: other, householdNo: '0002' }]);
    await ds.query(`DELETE FROM survey_household_member WHERE household_key = $1`, [other]);
  });

  it('opens nothing of an erased person (their key shredded) and writes nothing of theirs again; the other members read on', async () => {
    expect(await log.keyring.shred(log.personRef(B), 'int test of ADR 0011 stage 4')).toBe(true);
    // Before the erasure deletes B's rows (ADR 0010), or in any copy of them: nothing of B opens.
    expect((await members.ofHouseholds(ds.manager, [HOUSEHOLD])).map((m) => m.personKey).sort()).toEqual([A, C, D].sort());
    expect(await tasks.find(ds.manager, tb.taskId)).toBeNull();
    expect(await tasks.forPerson(ds.manager, B)).toEqual([]);
    expect((await tasks.find(ds.manager, ta.taskId))?.person.name).toBe(NAME_A);
    for (const table of ['survey_task', 'survey_household_member', 'survey_visit']) await ds.query(`DELETE FROM ${table} WHERE person_key = $1`, [idOf(B)]);
    await ds.transaction(async (m) => {
      await tasks.saveMany(m, [tb]);
      await tasks.updatePeople(m, [{ personKey: B, householdKey: HOUSEHOLD, person: personOf(B, NAME_B) }]);
      await members.upsertMany(m, [member(B, NAME_B, '配偶')]);
      await visits.insertMany(m, [{ ...visitOf(tb), personKey: B }]);
    });
    for (const table of ['survey_task', 'survey_household_member', 'survey_visit']) {
      expect(await ds.query(`SELECT count(*)::int AS n FROM ${table} WHERE person_key = $1`, [idOf(B)])).toEqual([{ n: 0 }]);
    }
  });
});
