import { HOUSEHOLD_MOVED_IN, LINK_CONFIRMED, LINK_REJECTED, PERSON_ERASED, deterministicId, newEvent } from '@qmcb/contracts';
import type { Department, RegistrationEvent, SourceFacts } from '@qmcb/contracts';
import { checkCharacter, personKeyFor } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { EventLogProducer, OutboxRelay, ProjectionRunner, metricValue, openDataSource, quietLogger } from '@qmcb/event-log';
import type { ProjectionContext, ProjectionHandler } from '@qmcb/event-log';
import { AuditRecorder, AuditService, AuditStore, PersonIds, runInRequest } from '@qmcb/platform';
import { LogContext, PersonalDataSealer, PersonKeyColumn, PersonRecordRepository, RecordSealer, RegionPolicyProvider, allMigrations } from '@qmcb/service-kit';
import type { PersonErasedEvent } from '@qmcb/service-kit';
import { createTestDatabase, createTestTopic, deleteTestTopic, testKafkaSettings } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import type { DataSource } from 'typeorm';
import { COMPARISON_MIGRATIONS } from '../comparison.module';
import { ExchangeService } from '../exchange/exchange.service';
import { NonLocalInsuredRepository } from '../exchange/non-local-insured.repository';
import type { ExchangeLine } from '../exchange/non-local-insured';
import { buildSourceRecordEvent } from '../ingestion/source-record-event';
import { OutcomeRepository } from '../outcomes/outcome.repository';
import { ComparisonProjection, COMPARISON_KEY_COLUMNS } from '../projection/comparison.projection';
import { CoverageRecorder } from '../statistics/coverage-recorder';
import { CoverageRepository } from '../statistics/coverage.repository';
import { RecompareDueRepository } from '../schedule/recompare-due.repository';
import { IdentityLinks } from './identity-links';
import { linkIdOf } from './link.decider';
import { PersonLinkRepository } from './person-link.repository';

jest.setTimeout(240_000);

/**
 * Linking records under mistyped IDs (docs/design/identity-linking.md) through the real runtime: a
 * topic, the comparison projection under a ProjectionRunner, PostgreSQL. Each person of the county is
 * one case; the assertions read person_link, current_outcome, coverage_current and the exchange.
 * Key columns hold person IDs (ADR 0011 stage 5): the assertions look rows up by `keys.stored` and
 * read keys back with `keys.key`.
 */
const COUNTY = '440981';
const VILLAGE = '440981002001';
const AS_OF = '2026-10-01T00:00:00.000Z';

function idOf(body: string): string {
  return body + checkCharacter(body);
}
/** The body with its digit at `i` replaced by `digit`, keeping the true ID's check character (a one-digit typo). */
function oneDigit(id: string, i: number, digit: string): string {
  return id.slice(0, i) + digit + id.slice(i + 1);
}
function transposed(id: string, i: number): string {
  return id.slice(0, i) + id[i + 1] + id[i] + id.slice(i + 2);
}
function checkTypo(id: string): string {
  return id.slice(0, 17) + (id[17] === '0' ? '1' : '0');
}

let n = 0;
function record(citizenId: string, department: Department, facts: SourceFacts): RegistrationEvent {
  n += 1;
  return buildSourceRecordEvent(
    { sourceRecordId: `R-${n}`, citizenId, mode: 'snapshot', asOf: AS_OF, facts },
    { department, actor: 'key:test', correlationId: deterministicId('corr', String(n)), recordedAt: new Date().toISOString() },
  );
}
const household = (id: string, name: string, birthDate: string): RegistrationEvent =>
  record(id, 'public-security', { kind: 'household', name, birthDate, villageCode: VILLAGE, status: 'normal', phone: '13800138000', address: '高州市南宫居委会1号' } as SourceFacts);
const medical = (id: string): RegistrationEvent => record(id, 'social-insurance', { kind: 'insurance', insuranceType: 'medical', scheme: 'resident', status: 'active', region: COUNTY } as SourceFacts);
const pension = (id: string, identity: { name?: string; birthDate?: string } = {}): RegistrationEvent =>
  record(id, 'social-insurance', { kind: 'insurance', insuranceType: 'pension', scheme: 'resident', status: 'active', region: COUNTY, ...identity } as SourceFacts);

// The people (born 1985: 41 on the decision dates, working age).
const A = idOf('44098119850101001'); // check-character typo, household first
const B = idOf('44098119850202003'); // one digit, the typo'd record first
const C = idOf('44098119850303005'); // transposition
const D = idOf('44098119850404007'); // one digit, name only: weak
const E1 = idOf('44098119850505011'); // two people named alike, one digit from the typo
const E2 = idOf('44098119850505013');
const TYPO_A = checkTypo(A);
const TYPO_B = oneDigit(B, 15, '1'); // 440981198502020 1 3 → sequence 013
const TYPO_C = transposed(C, 10); // 1985 03 03 → 1985 30 03? month digits swapped: 0 3 → 3 0
const TYPO_D = oneDigit(D, 14, '9');
const TYPO_E = oneDigit(E1, 16, '2'); // sequence 012: one digit from 011 and from 013
const F = idOf('44098119850606015'); // one digit, the typo'd record first; the person moves into the county (business event)
const TYPO_F = oneDigit(F, 15, '2');

describe('identity linking through the comparison projection (real Kafka and PostgreSQL)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let topic: string;
  let producer: EventLogProducer;
  let runner: ProjectionRunner;
  let relay: OutboxRelay;
  const keys = new PersonKeyColumn(new PersonIds(process.env['PERSON_ID_SECRET'] as string));
  const newRecords = (): PersonRecordRepository => new PersonRecordRepository(RecordSealer.fromEnv(), keys);
  let projection: ComparisonProjection;
  /** Until the projection has applied everything, what it sent to other partitions through the log included. */
  const settle = async (): Promise<void> => {
    for (let quiet = 0; quiet < 2; ) {
      await runner.waitUntilCaughtUp(120_000);
      const [{ n }] = (await ds.query(`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`)) as [{ n: number }];
      quiet = n === 0 ? quiet + 1 : 0;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const handler = (): ProjectionHandler => {
    const records = newRecords();
    const links = new PersonLinkRepository(keys, PersonalDataSealer.fromEnv());
    projection = new ComparisonProjection(records, new OutcomeRepository(records, PersonalDataSealer.fromEnv()), new RegionPolicyProvider(), new IdentityLinks(links, records), new CoverageRecorder(new CoverageRepository(records)), new RecompareDueRepository(keys), PersonalDataSealer.fromEnv());
    return { handle: (events, ctx) => projection.handle([...events], new LogContext(ctx)) };
  };
  const append = async (...events: RegistrationEvent[]): Promise<void> => {
    await producer.append(events);
    await settle();
  };
  const outcome = async (id: string): Promise<[string, string[]] | null> => {
    const rows: { outcome: string; reason_codes: string[] }[] = await ds.query(`SELECT outcome, reason_codes FROM current_outcome WHERE person_key = $1`, [keys.stored(personKeyFor(id))]);
    return rows[0] ? [rows[0].outcome, rows[0].reason_codes] : null;
  };
  /** Every link, in person key order. */
  const links = async (): Promise<string[]> =>
    ((await ds.query(`SELECT record_key, person_key, status, score FROM person_link`)) as { record_key: string; person_key: string; status: string; score: number }[])
      .map((r) => ({ ...r, record_key: keys.key(r.record_key), person_key: keys.key(r.person_key) }))
      .sort((a, b) => (a.person_key < b.person_key ? -1 : a.person_key > b.person_key ? 1 : 0))
      .map((r) => `${r.record_key}->${r.person_key} ${r.status} ${r.score}`);
  const pensionStatus = async (id: string): Promise<string | null> =>
    ((await ds.query(`SELECT pension_status FROM coverage_current WHERE person_key = $1`, [keys.stored(personKeyFor(id))])) as { pension_status: string | null }[])[0]?.pension_status ?? null;
  const waiting = async (): Promise<string[]> => (await ds.query(`SELECT DISTINCT record_key FROM link_waiting`)).map((r: { record_key: string }) => keys.key(r.record_key)).sort();

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await openDataSource({ url: db.url, schema: 'comparison', migrations: allMigrations(COMPARISON_MIGRATIONS) });
    topic = await createTestTopic(3);
    const settings = testKafkaSettings(topic, 3, 'identity-links-test');
    producer = await EventLogProducer.connect(settings, { logger: quietLogger() });
    runner = new ProjectionRunner({ name: 'cmp-links', groupId: `cmp-links-${topic}`, dataSource: ds, schema: 'comparison', handler: handler(), settings, logger: quietLogger() });
    await runner.start();
    // Decisions about people of other partitions reach them through the log.
    relay = new OutboxRelay({ dataSource: ds, producer, schema: 'comparison' });
    relay.start();
  });

  afterAll(async () => {
    await relay?.stop();
    await runner?.stop();
    await producer?.disconnect();
    await ds?.destroy();
    await db?.drop();
    if (topic) await deleteTestTopic(topic);
  });

  it('links a check-character typo to the person already here: proposed, the person flagged INACCURATE_CITIZEN_ID with the pension counted, the records exempt as linked', async () => {
    await append(household(A, '李明', '1985-01-01'), medical(A));
    expect(await outcome(A)).toEqual(['needs-survey', ['PARTLY_INSURED_NO_PENSION']]);
    expect(await pensionStatus(A)).toBe('not-insured');
    await append(pension(TYPO_A, { name: '李明' }));
    expect(await links()).toEqual([`${personKeyFor(TYPO_A)}->${A} proposed 80`]);
    expect(await outcome(A)).toEqual(['needs-survey', ['INACCURATE_CITIZEN_ID']]);
    expect(await outcome(TYPO_A)).toEqual(['exempt', ['LINKED_TO_PERSON']]);
    expect(await pensionStatus(A)).toBe('insured-here');
    // The records never went through a survey target of their own: their first outcome was already the link.
    const history: { outcome: string }[] = await ds.query(`SELECT outcome FROM outcome_history WHERE person_key = $1`, [keys.stored(personKeyFor(TYPO_A))]);
    expect(history.map((h) => h.outcome)).toEqual(['exempt']);
    const person = (await newRecords().find(ds.manager, A)) as RegistrationRecord;
    expect(person.links[personKeyFor(TYPO_A)]).toMatchObject({ status: 'proposed', citizenIdAsSent: TYPO_A, score: 80 });
  });

  it('links records that arrived first when the person arrives (one digit, name and birth date): they wait until then', async () => {
    await append(pension(TYPO_B, { name: '王芳', birthDate: '1985-02-02' }));
    expect(await outcome(TYPO_B)).toEqual(['needs-survey', ['INACCURATE_CITIZEN_ID', 'MISSING_PHONE', 'MISSING_ADDRESS']]);
    expect(await waiting()).toContain(personKeyFor(TYPO_B));
    await append(household(B, '王芳', '1985-02-02'), medical(B));
    expect((await links()).filter((l) => l.includes(B))).toEqual([`${personKeyFor(TYPO_B)}->${B} proposed 80`]);
    expect(await outcome(B)).toEqual(['needs-survey', ['INACCURATE_CITIZEN_ID']]);
    expect(await outcome(TYPO_B)).toEqual(['exempt', ['LINKED_TO_PERSON']]);
    expect(await waiting()).not.toContain(personKeyFor(TYPO_B));
  });

  it('links records that arrived first when the person moves into the county (household.moved-in, dynamic update)', async () => {
    await append(pension(TYPO_F, { name: '赵磊', birthDate: '1985-06-06' }));
    expect(await waiting()).toContain(personKeyFor(TYPO_F));
    const origin = { source: 'svc:dynamic-update', actor: 'key:ps-1', occurredAt: '2026-10-02T01:00:00.000Z', recordedAt: new Date().toISOString(), correlationId: 'moved-in' };
    const payload = { department: 'public-security' as const, businessId: 'QR-F', movedOn: '2026-10-02', villageCode: VILLAGE, name: '赵磊', birthDate: '1985-06-06', address: '高州市南宫居委会6号' };
    await append(newEvent(HOUSEHOLD_MOVED_IN, deterministicId('test', 'moved-in', F), F, payload, origin));
    expect((await links()).filter((l) => l.includes(F))).toEqual([`${personKeyFor(TYPO_F)}->${F} proposed 80`]);
    expect(await outcome(TYPO_F)).toEqual(['exempt', ['LINKED_TO_PERSON']]);
    expect(await outcome(F)).toEqual(['needs-survey', ['INACCURATE_CITIZEN_ID', 'MISSING_PHONE']]);
    expect(await pensionStatus(F)).toBe('insured-here');
    expect(await waiting()).not.toContain(personKeyFor(TYPO_F));
  });

  it('links a transposition with name and birth date; leaves a one-digit typo with only the name (weak) and a typo as close to two people of the same name (ambiguous)', async () => {
    await append(household(C, '张伟', '1985-03-03'), medical(C), household(D, '刘洋', '1985-04-04'), medical(D), household(E1, '陈静', '1985-05-05'), household(E2, '陈静', '1985-05-05'));
    await append(pension(TYPO_C, { name: '张伟', birthDate: '1985-03-03' }), pension(TYPO_D, { name: '刘洋' }), pension(TYPO_E, { name: '陈静', birthDate: '1985-05-05' }));
    expect((await links()).filter((l) => l.includes(C) || l.includes(D) || l.includes(E1) || l.includes(E2))).toEqual([`${personKeyFor(TYPO_C)}->${C} proposed 80`]);
    expect(await outcome(TYPO_D)).toEqual(['needs-survey', ['INACCURATE_CITIZEN_ID', 'MISSING_PHONE', 'MISSING_ADDRESS']]);
    expect(await outcome(D)).toEqual(['needs-survey', ['PARTLY_INSURED_NO_PENSION']]);
    expect(await waiting()).toEqual([personKeyFor(TYPO_D), personKeyFor(TYPO_E)].sort());
  });

  it('re-compares both sides when a link is confirmed, and when one is rejected (never proposed again)', async () => {
    const review = (type: typeof LINK_CONFIRMED | typeof LINK_REJECTED, person: string, typo: string): RegistrationEvent => {
      const origin = { source: 'svc:review', actor: 'user:approver-1', occurredAt: new Date().toISOString(), correlationId: 'review' };
      const base = { linkId: linkIdOf(personKeyFor(typo), person), recordKey: personKeyFor(typo), reviewerId: 'approver-1' };
      return type === LINK_CONFIRMED
        ? newEvent(LINK_CONFIRMED, deterministicId('test', 'confirm', person), person, { ...base, comment: 'ID checked at the window' }, origin)
        : newEvent(LINK_REJECTED, deterministicId('test', 'reject', person), person, { ...base, reason: 'another person' }, origin);
    };
    await append(review(LINK_CONFIRMED, A, TYPO_A), review(LINK_REJECTED, C, TYPO_C));
    expect(await outcome(A)).toEqual(['registered', ['COMPLETE']]);
    expect(await outcome(TYPO_A)).toEqual(['exempt', ['LINKED_TO_PERSON']]);
    expect(await outcome(C)).toEqual(['needs-survey', ['PARTLY_INSURED_NO_PENSION']]);
    expect(await outcome(TYPO_C)).toEqual(['needs-survey', ['INACCURATE_CITIZEN_ID', 'MISSING_PHONE', 'MISSING_ADDRESS']]);
    expect(await pensionStatus(C)).toBe('not-insured');
    // Another record under the same mistyped ID: the rejected person is not proposed again.
    await append(medical(TYPO_C));
    expect((await links()).filter((l) => l.includes(C))).toEqual([`${personKeyFor(TYPO_C)}->${C} rejected 80`]);
    expect(await links()).toContain(`${personKeyFor(TYPO_A)}->${A} confirmed 80`);
    expect(await metricValue('qmcb_chunk_splits_total', { projection: 'cmp-links' })).toBe(0);
  });

  it('exports none of the mistyped records to the higher registry as non-local insured', async () => {
    const lines: ExchangeLine[] = [];
    await new AuditStore(ds).migrate();
    const exchange = new ExchangeService(ds, new NonLocalInsuredRepository(newRecords()), new AuditService(new AuditRecorder(ds, { service: 'comparison' }, new PersonIds('identity-links-int-person-id-secret-0123'))));
    const registry = { kind: 'system', department: 'higher-registry', keyId: 'hr-1' } as const;
    // As the platform leaves the request for the handler (an export discloses its batches to the audit).
    const request = { requestId: 'req-links', source: '127.0.0.1', method: 'GET', principal: registry, purpose: 'cross-region-exchange' as const, unmasked: true, people: new Set<string>(), audited: false };
    const result = await runInRequest(request, () =>
      exchange.exportNonLocalInsured(registry, COUNTY, {
        closed: () => false,
        write: async (chunk) => {
          for (const line of chunk.split('\n').filter(Boolean)) lines.push(JSON.parse(line) as ExchangeLine);
        },
      }),
    );
    expect(result.people).toBe(0);
    expect(lines).toEqual([]);
  });
  it('keeps no citizen ID and no name at rest in any table of the schema, mistyped IDs included (ADR 0011: key columns hold person IDs, the ID as sent and the reasons are sealed)', async () => {
    // Another department's name for C: an outcome whose reasons name both (INACCURATE_NAME).
    await append(pension(C, { name: '张卫' }));
    const history = await new OutcomeRepository(newRecords(), PersonalDataSealer.fromEnv()).historyOf(ds.manager, C);
    expect(history.at(-1)?.reasons.find((r) => r.code === 'INACCURATE_NAME')?.detail).toMatch(/张伟.*张卫|张卫.*张伟/);
    const citizenIds = [A, B, C, D, E1, E2, F, TYPO_A, TYPO_B, TYPO_C, TYPO_D, TYPO_E, TYPO_F];
    const names = ['李明', '王芳', '张伟', '张卫', '刘洋', '陈静', '赵磊'];
    // The person keys too (a surrogate key, X-…, is the key of records under a mistyped ID), and the
    // 17 digits of each ID before its check character (what records waiting for a person are found by).
    const forbidden = [...new Set([...citizenIds, ...citizenIds.map(personKeyFor), ...citizenIds.map((id) => id.slice(0, 17)), ...names])];
    const tables: string[] = (
      (await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'comparison' AND table_type = 'BASE TABLE' ORDER BY table_name`)) as { table_name: string }[]
    ).map((t) => t.table_name);
    const rowsOf: Record<string, number> = {};
    const found: string[] = [];
    for (const table of tables) {
      const rows: { row: string }[] = await ds.query(`SELECT to_jsonb(x)::text AS row FROM comparison."${table}" x`);
      rowsOf[table] = rows.length;
      for (const { row } of rows) for (const id of forbidden) if (row.includes(id)) found.push(`${table}: ${id}`);
    }
    expect(found).toEqual([]);
    // What the flow above wrote is there to look at: every table that holds a person key has rows.
    const keyed = ['person_record', 'outcome_history', 'current_outcome', 'coverage_current', 'coverage_history', 'recompare_due', 'person_link', 'link_waiting'];
    expect(keyed.filter((t) => !((rowsOf[t] ?? 0) > 0))).toEqual([]);
    // Every link keeps the ID as sent, sealed, and reads it back as sent.
    const sealed: { n: number; plain: number }[] = await ds.query(
      `SELECT count(*) FILTER (WHERE citizen_id_as_sent_sealed IS NOT NULL)::int AS n, count(citizen_id_as_sent)::int AS plain FROM person_link`,
    );
    expect(sealed).toEqual([{ n: rowsOf['person_link'], plain: 0 }]);
    const active = await new PersonLinkRepository(keys, PersonalDataSealer.fromEnv()).activeInvolving(ds.manager, [A]);
    expect(active.map((l) => [l.recordKey, l.personKey, l.status, l.citizenIdAsSent])).toEqual([[personKeyFor(TYPO_A), A, 'confirmed', TYPO_A]]);
  });
  it('erases a person from every key column by what it holds (the person ID): their rows go, the records linked to them wait for a person again', async () => {
    const stored = keys.stored(A);
    const rowsOf = async (): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const { table, column } of COMPARISON_KEY_COLUMNS) out[`${table}.${column}`] = ((await ds.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`, [stored])) as [{ n: number }])[0].n;
      return out;
    };
    const before = await rowsOf();
    expect(before).toMatchObject({ 'person_record.person_key': 1, 'current_outcome.person_key': 1, 'coverage_current.person_key': 1, 'person_link.person_key': 1, 'recompare_due.person_key': 1 });
    expect(before['outcome_history.person_key']).toBeGreaterThan(1);
    expect(await waiting()).not.toContain(personKeyFor(TYPO_A));

    const erased = newEvent(PERSON_ERASED, deterministicId('keyring', 'erase', A), A, { reason: 'PIPL art. 47 request 12', requestedBy: 'operator:ops-1' }, {
      source: 'ops:keyring', actor: 'operator:ops-1', occurredAt: new Date().toISOString(), correlationId: deterministicId('corr', A),
    }) as PersonErasedEvent;
    const context = (manager: ProjectionContext['manager']): LogContext =>
      new LogContext({ manager, rebuilding: false, partition: -1, emit: () => undefined, enqueue: () => Promise.resolve() });
    await ds.transaction((manager) => projection.erase(erased, context(manager)));

    expect(Object.entries(await rowsOf()).filter(([, n]) => n > 0)).toEqual([]);
    expect((await links()).filter((l) => l.includes(A))).toEqual([]);
    // The records under the mistyped ID are someone's still: waiting for a person again, as a rebuild leaves them.
    expect(await waiting()).toContain(personKeyFor(TYPO_A));
    expect(await outcome(TYPO_A)).toEqual(['exempt', ['LINKED_TO_PERSON']]);
  });
});
