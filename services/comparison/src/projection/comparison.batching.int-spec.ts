import { DEPARTMENTS_BY_KIND, OUTCOME_DETERMINED, REVIEW_FINAL_APPROVED, SURVEY_TASK_CREATED, deterministicId } from '@qmcb/contracts';
import type { EventOf, FactKind, RegistrationEvent, SourceFacts } from '@qmcb/contracts';
import { checkCharacter, villagesOf } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { EventLogProducer, OutboxRelay, ProjectionRunner, metricValue, openDataSource, quietLogger } from '@qmcb/event-log';
import type { ProjectionHandler } from '@qmcb/event-log';
import { PersonIds } from '@qmcb/platform';
import { LogContext, PersonalDataSealer, PersonKeyColumn, PersonRecordRepository, RecordSealer, RegionPolicyProvider, allMigrations } from '@qmcb/service-kit';
import { createTestDatabase, createTestTopic, deleteTestTopic, testKafkaSettings } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import type { DataSource } from 'typeorm';
import { COMPARISON_MIGRATIONS } from '../comparison.module';
import { buildSourceRecordEvent } from '../ingestion/source-record-event';
import type { SourceRecordInput } from '../ingestion/source-record-event';
import { IdentityLinks } from '../linking/identity-links';
import { PersonLinkRepository } from '../linking/person-link.repository';
import { OutcomeRepository } from '../outcomes/outcome.repository';
import { RecompareDueRepository } from '../schedule/recompare-due.repository';
import { CoverageRecorder } from '../statistics/coverage-recorder';
import { CoverageRepository } from '../statistics/coverage.repository';
import { ComparisonProjection } from './comparison.projection';

jest.setTimeout(240_000);

const SCHEMA = 'comparison';
const MIGRATIONS = allMigrations(COMPARISON_MIGRATIONS);
const VILLAGES = villagesOf('440981').map((v) => v.code);
/** What key columns hold (ADR 0011 stage 5): person IDs. */
const KEYS = new PersonKeyColumn(new PersonIds(process.env['PERSON_ID_SECRET'] as string));

/** A small deterministic PRNG, so a failure replays. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A few hundred people, each with 2–8 events in a shuffled order: household records of every status,
 * insurance of both schemes and several regions (duplicates, lapses, benefits after death), tax,
 * welfare, deaths, enrolment, custody, snapshots and changes, older records arriving late, invalid
 * citizen IDs, disagreeing names, survey tasks and final approvals.
 */
function population(people: number, seed: number): RegistrationEvent[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const byPerson: RegistrationEvent[][] = [];
  for (let i = 0; i < people; i++) {
    const year = 1940 + Math.floor(r() * 80);
    const birth = `${year}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`;
    const id17 = `440981${birth.replace(/-/g, '')}${String(i % 1000).padStart(3, '0')}`;
    const citizenId = r() < 0.05 ? `${id17}${checkCharacter(id17) === '0' ? '1' : '0'}` : `${id17}${checkCharacter(id17)}`;
    const sex = Number(id17[16]) % 2 === 1 ? 'male' : 'female';
    const name = `张${i}`;
    const village = pick(VILLAGES);
    const records: { kind: FactKind; facts: SourceFacts }[] = [];
    const n = 2 + Math.floor(r() * 7);
    for (let k = 0; k < n; k++) {
      const roll = r();
      if (roll < 0.25) {
        records.push({
          kind: 'household',
          facts: {
            kind: 'household', name: r() < 0.1 ? `李${i}` : name, sex, birthDate: birth, villageCode: village,
            status: pick(['normal', 'normal', 'normal', 'normal', 'deceased', 'moved-out', 'military', 'prison'] as const),
            ...(r() < 0.8 ? { phone: `138${String(i).padStart(8, '0')}` } : {}), ...(r() < 0.8 ? { address: `高州市某村${i}号` } : {}),
          },
        });
      } else if (roll < 0.65) {
        records.push({
          kind: 'insurance',
          facts: {
            kind: 'insurance', insuranceType: pick(['pension', 'medical', 'unemployment', 'work-injury'] as const), scheme: pick(['employee', 'resident'] as const),
            status: pick(['active', 'active', 'active', 'ended', 'suspended'] as const), region: r() < 0.85 ? '440981' : '440982',
            ...(r() < 0.1 ? { receivingBenefit: true, benefitStatus: 'receiving' as const } : {}), ...(r() < 0.5 ? { name } : {}),
          },
        });
      } else if (roll < 0.75) records.push({ kind: 'tax', facts: { kind: 'tax', employed: r() < 0.7, ...(r() < 0.5 ? { name } : {}) } });
      else if (roll < 0.8) records.push({ kind: 'welfare', facts: { kind: 'welfare', category: 'extreme-poverty', active: r() < 0.8 } });
      else if (roll < 0.85) records.push({ kind: 'death', facts: { kind: 'death', deathDate: '2025-06-01' } });
      else if (roll < 0.93) records.push({ kind: 'enrolment', facts: { kind: 'enrolment', enrolled: r() < 0.8, level: 'higher', ...(r() < 0.5 ? { name, sex } : {}) } });
      else records.push({ kind: 'custody', facts: { kind: 'custody', inCustody: r() < 0.6 } });
    }
    const events: RegistrationEvent[] = records.map((rec, k) => {
      const department = DEPARTMENTS_BY_KIND[rec.kind][0];
      if (!department) throw new Error(`no department for ${rec.kind}`);
      const asOf = `2026-${String(1 + Math.floor(r() * 11)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}T00:00:00Z`;
      const input: SourceRecordInput = { sourceRecordId: `P${i}-${k}`, citizenId, mode: r() < 0.8 ? 'snapshot' : 'change', asOf, facts: rec.facts };
      return buildSourceRecordEvent(input, { department, actor: 'key:test', correlationId: deterministicId('corr', String(i)), recordedAt: '2026-11-20T00:00:00.000Z' });
    });
    const personKey = events[0]?.personKey ?? '';
    if (r() < 0.15) {
      const taskId = deterministicId('task', String(i));
      const task: EventOf<typeof SURVEY_TASK_CREATED> = {
        eventId: deterministicId('test-task', String(i)), type: SURVEY_TASK_CREATED, schemaVersion: 1, personKey,
        occurredAt: '2026-11-10T00:00:00.000Z', recordedAt: '2026-11-10T00:00:00.000Z', source: 'svc:survey-tasking', actor: 'svc:survey-tasking',
        correlationId: deterministicId('corr', String(i)), causationId: null, basedOnVersion: null,
        payload: { taskId, villageCode: village, reasons: ['UNINSURED'] },
      };
      events.push(task);
      if (r() < 0.6) {
        const approved: EventOf<typeof REVIEW_FINAL_APPROVED> = {
          eventId: deterministicId('test-approved', String(i)), type: REVIEW_FINAL_APPROVED, schemaVersion: 2, personKey,
          occurredAt: '2026-11-12T00:00:00.000Z', recordedAt: '2026-11-12T00:00:00.000Z', source: 'svc:review', actor: 'user:approver',
          correlationId: deterministicId('corr', String(i)), causationId: null, basedOnVersion: null,
          payload: {
            reviewId: deterministicId('review', String(i)), submissionId: deterministicId('submission', String(i)), channel: 'survey', reviewerId: 'approver', countyCode: '440981',
            request: {
              kind: 'registration-form',
              fields: {
                name, phone: '13900000000', employmentStatus: 'farmer', residenceAddress: '高州市某村', residenceDivision: village,
                insurance: [{ insuranceType: 'medical', scheme: 'resident', status: 'active', region: '440981' }], insuredElsewhere: false,
              },
              evidence: [],
              unknown: [],
            },
          },
        };
        events.push(approved);
      }
    }
    // A shuffled order, so triggers and other events interleave differently per person.
    for (let k = events.length - 1; k > 0; k--) {
      const j = Math.floor(r() * (k + 1));
      [events[k], events[j]] = [events[j] as RegistrationEvent, events[k] as RegistrationEvent];
    }
    byPerson.push(events);
  }
  // Interleave people: round-robin over their event lists, so one consumer batch holds several
  // events of many people.
  const out: RegistrationEvent[] = [];
  for (let k = 0; byPerson.some((es) => es.length > k); k++) for (const es of byPerson) if (es[k]) out.push(es[k] as RegistrationEvent);
  return out;
}

/** The comparison projection as the event-log runtime calls it (what its log transport does, without Nest). */
function comparisonHandler(): ProjectionHandler {
  const records = new PersonRecordRepository(RecordSealer.fromEnv(), KEYS);
  const projection = new ComparisonProjection(
    records,
    new OutcomeRepository(records, PersonalDataSealer.fromEnv()),
    new RegionPolicyProvider(),
    new IdentityLinks(new PersonLinkRepository(KEYS, PersonalDataSealer.fromEnv()), records),
    new CoverageRecorder(new CoverageRepository(records)),
    new RecompareDueRepository(KEYS),
    PersonalDataSealer.fromEnv(),
  );
  return { handle: (events, ctx) => projection.handle([...events], new LogContext(ctx)) };
}

type Row = Record<string, unknown>;

/**
 * The record without the bookkeeping that counts, names or places outcome events: how many events
 * were applied (`version`), the last one and its time (`lastEventId`, `updatedAt`: an outcome is
 * applied after the batch that decided it, as a rebuild applies it after its causes, so where it
 * lands among a person's events depends on the batch), and the recorded outcome's time and
 * predecessor (`previousOutcome` names the outcome actually on the log before it, which one event at
 * a time is an intermediate one bigger batches never emit). Everything else must be equal: what every
 * department said, the resolved fields, the flags, and the recorded outcome's event ID, reasons and
 * details.
 */
function withoutOutcomeBookkeeping(record: RegistrationRecord): unknown {
  const { version: _v, updatedAt: _u, lastEventId: _l, comparison, ...rest } = record;
  if (!comparison) return { ...rest, comparison };
  const { previousOutcome: _p, decidedAt: _d, ...decision } = comparison;
  return { ...rest, comparison: decision };
}

describe('comparison decides the same however the log is cut into batches', () => {
  const dbs: TestDatabase[] = [];
  const sources: DataSource[] = [];
  const topics: string[] = [];

  afterAll(async () => {
    for (const ds of sources) await ds.destroy();
    for (const db of dbs) await db.drop();
    for (const topic of topics) await deleteTestTopic(topic);
  });

  it('batches of one event and of 300: same records, same current outcomes; the big batches\' history is the other minus outcomes of intermediate states', async () => {
    // Each run on a log of its own, with its relay: a decision about another person (a link) goes to
    // that person through the log (ADR 0008), so both runs must see their own decisions come back.
    const settingsA = testKafkaSettings(await createTestTopic(2), 2, 'comparison-batch-test');
    const settingsB = testKafkaSettings(await createTestTopic(2), 2, 'comparison-batch-test');
    topics.push(settingsA.topic, settingsB.topic);
    const events = population(400, 20261123);
    // A few outcome events from the log itself (say, a replayed decision), after everything else: both
    // runs must record them. (Amid a batch, where an emitted decision lands relative to them depends on
    // the batch: emitted events are applied after the batch that decided them, as in a rebuild.)
    const foreign: EventOf<typeof OUTCOME_DETERMINED>[] = events.slice(0, 5).map((e, i) => ({
      eventId: deterministicId('foreign-outcome', String(i)), type: OUTCOME_DETERMINED, schemaVersion: 3, personKey: e.personKey,
      occurredAt: '2026-11-15T00:00:00.000Z', recordedAt: '2026-11-15T00:00:00.000Z', source: 'svc:comparison', actor: 'svc:comparison',
      correlationId: e.correlationId, causationId: e.eventId, basedOnVersion: 1,
      payload: { outcome: 'needs-survey', previousOutcome: 'none', reasons: [{ code: 'UNINSURED', rule: 'uninsured', ruleVersion: 1, detail: 'test' }], coverage: [] },
    }));
    const all = [...events, ...foreign];

    const producers = [await EventLogProducer.connect(settingsA, { logger: quietLogger() }), await EventLogProducer.connect(settingsB, { logger: quietLogger() })];
    const append = async (batch: RegistrationEvent[]): Promise<void> => {
      for (const p of producers) await p.append(batch);
    };
    const open = async (): Promise<DataSource> => {
      const db = await createTestDatabase();
      dbs.push(db);
      const ds = await openDataSource({ url: db.url, schema: SCHEMA, migrations: MIGRATIONS });
      sources.push(ds);
      return ds;
    };
    const [perEvent, batched] = [await open(), await open()];
    const handler = comparisonHandler();
    const runners = [
      new ProjectionRunner({
        name: 'cmp-one-by-one', groupId: `cmp-one-by-one-${settingsA.topic}`, dataSource: perEvent, schema: SCHEMA, handler, settings: settingsA, logger: quietLogger(),
        consumer: { applyBatchSize: 1 },
      }),
      new ProjectionRunner({
        name: 'cmp-batch', groupId: `cmp-batch-${settingsB.topic}`, dataSource: batched, schema: SCHEMA, handler, settings: settingsB, logger: quietLogger(),
        consumer: { applyBatchSize: 300 },
      }),
    ];
    const relays = [new OutboxRelay({ dataSource: perEvent, producer: producers[0] as EventLogProducer, schema: SCHEMA }), new OutboxRelay({ dataSource: batched, producer: producers[1] as EventLogProducer, schema: SCHEMA })];
    /** Until both have applied everything, their own decisions about other people included. */
    const settle = async (): Promise<void> => {
      for (const [i, r] of runners.entries()) {
        for (let quiet = 0; quiet < 2; ) {
          await r.waitUntilCaughtUp(180_000);
          const [{ n }] = (await [perEvent, batched][i]?.query(`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`)) as [{ n: number }];
          quiet = n === 0 ? quiet + 1 : 0;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    };
    try {
      // Most of the log before the runners start (big batches), the rest while they run.
      await append(events.slice(0, 2200));
      for (const r of runners) await r.start();
      for (const relay of relays) relay.start();
      for (let i = 2200; i < events.length; i += 150) await append(events.slice(i, i + 150));
      await settle();
      await append(foreign);
      await settle();
    } finally {
      for (const relay of relays) await relay.stop();
      for (const r of runners) await r.stop();
      for (const p of producers) await p.disconnect();
    }

    // No batch failed and was split.
    expect(await metricValue('qmcb_chunk_splits_total', { projection: 'cmp-batch' })).toBe(0);

    const read = async (ds: DataSource, text: string): Promise<Row[]> => ds.query(text);
    const records = async (ds: DataSource): Promise<Record<string, unknown>> => {
      const rows = await read(ds, `select person_key, record, sealed, division from person_record order by person_key`);
      const opened = await new PersonRecordRepository(RecordSealer.fromEnv(), KEYS).open(rows.map((r) => ({ person_key: String(r['person_key']), record: r['record'], sealed: r['sealed'] as Buffer | null })));
      return Object.fromEntries(rows.map((r) => [r['person_key'], { division: r['division'], record: withoutOutcomeBookkeeping(opened.get(KEYS.key(String(r['person_key']))) as RegistrationRecord) }]));
    };
    const current = async (ds: DataSource): Promise<Row[]> => read(ds, `select person_key, outcome, reason_codes, decided_at is not null as decided from current_outcome order by person_key`);
    const foreignIds = foreign.map((f) => f.eventId);
    interface Decided {
      id: string;
      outcome: string;
      reasons: unknown;
      /** The reasons with their details, sealed (deterministic: the same reasons of the same person seal to the same bytes). */
      sealed: string | null;
    }
    const history = async (ds: DataSource): Promise<Map<string, Decided[]>> => {
      const out = new Map<string, Decided[]>();
      // Per person in the order decided: the record version each decision was based on.
      for (const r of await ds.query(`select event_id, person_key, outcome, reasons, encode(reasons_sealed, 'hex') as sealed from outcome_history where event_id <> all($1::text[]) order by person_key, based_on_version`, [foreignIds])) {
        const key = String(r['person_key']);
        out.set(key, [...(out.get(key) ?? []), { id: String(r['event_id']), outcome: String(r['outcome']), reasons: r['reasons'], sealed: r['sealed'] as string | null }]);
      }
      return out;
    };

    // 1. The records: every fact, every resolved field, the decision and the flags are the same.
    const [a, b] = [await records(perEvent), await records(batched)];
    expect(Object.keys(a)).toHaveLength(400);
    expect(b).toEqual(a);

    // 2. The current outcome of every person (decided_at is the decision's wall-clock time in both paths).
    const [ca, cb] = [await current(perEvent), await current(batched)];
    expect(ca.length).toBeGreaterThan(300);
    expect(cb).toEqual(ca);

    // 2b. The statistics rows as they stand (coverage_current, issue 10): the same but for the time each started.
    const coverageRows = async (ds: DataSource): Promise<Row[]> => (await read(ds, `select * from coverage_current order by person_key`)).map(({ valid_from: _f, ...row }) => row);
    const [sa, sb] = [await coverageRows(perEvent), await coverageRows(batched)];
    expect(sa.length).toBeGreaterThan(300);
    expect(sb).toEqual(sa);

    // 3. outcome_history: batching legitimately leaves out the outcomes of intermediate states (a
    //    person whose decision changes several times within one chunk is emitted only the last
    //    change). Every outcome the batch path wrote is one the one-by-one path wrote too, with the same
    //    ID, outcome and reasons (its predecessor, version and time differ as above), and per person
    //    the last one is the same.
    const [ha, hb] = [await history(perEvent), await history(batched)];
    const byId = new Map([...ha.values()].flat().map((h) => [h.id, h]));
    for (const h of [...hb.values()].flat()) expect(byId.get(h.id)).toEqual(h);
    expect([...hb.keys()].sort()).toEqual([...ha.keys()].sort());
    for (const [person, seq] of ha) expect(hb.get(person)?.at(-1)).toEqual(seq.at(-1));
    const left = [...ha.values()].flat().length - [...hb.values()].flat().length;
    // The effect being tested actually happened: fewer outcome events than one by one.
    expect(left).toBeGreaterThan(50);

    // The outcomes that came from the log are recorded by both.
    for (const ds of [perEvent, batched]) {
      expect((await ds.query(`select count(*)::int as n from outcome_history where event_id = any($1::text[])`, [foreignIds]))[0]?.n).toBe(5);
    }

    // The recompare days (issue 9): one per person, the same however the log was cut.
    const dues = async (ds: DataSource): Promise<Row[]> => read(ds, `select person_key, to_char(due_date, 'YYYY-MM-DD') as due_date, because, basis_event_id from recompare_due order by person_key`);
    const [da, db] = [await dues(perEvent), await dues(batched)];
    expect(da.length).toBeGreaterThan(50);
    expect(db).toEqual(da);

    // 4. Every event of the log applied in both, once; the batch path emitted fewer outcomes.
    const ids = all.map((e) => e.eventId);
    for (const ds of [perEvent, batched]) {
      expect((await ds.query(`select count(*)::int as n from applied_event where event_id = any($1::text[]) and partition is not null`, [ids]))[0]?.n).toBe(all.length);
      // Everything else applied from the log is this run's own decisions about other people, sent
      // through the log (ADR 0008): each from its outbox, applied once.
      const back: Row[] = await ds.query(
        `select a.event_id, o.event->>'type' as type from applied_event a left join outbox o on o.event_id = a.event_id where a.partition is not null and a.event_id <> all($1::text[])`,
        [ids],
      );
      expect(back.filter((r) => r['type'] !== 'comparison.recompare-requested' && r['type'] !== 'comparison.link-proposed')).toEqual([]);
    }
    const emitted = async (ds: DataSource): Promise<number> => Number((await read(ds, `select count(*)::int as n from outbox`))[0]?.['n']);
    expect(await emitted(batched)).toBeLessThan(await emitted(perEvent));
  });
});
