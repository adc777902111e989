import type { PersonPrincipal, SystemPrincipal } from '@qmcb/auth';
import { SOURCE_RECORD_RECEIVED, deterministicId } from '@qmcb/contracts';
import type { Department, EventOf, SourceFacts } from '@qmcb/contracts';
import { checkCharacter, foldEvents } from '@qmcb/domain';
import { openDataSource } from '@qmcb/event-log';
import { AuditRecorder, AuditService, AuditStore, PersonIds, runInRequest } from '@qmcb/platform';
import type { RequestContext } from '@qmcb/platform';
import type { Principal } from '@qmcb/auth';
import { PersonKeyColumn, PersonRecordRepository, RecordSealer, allMigrations } from '@qmcb/service-kit';
import { createTestDatabase } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import type { DataSource } from 'typeorm';
import { COMPARISON_MIGRATIONS } from '../comparison.module';
import { EXPORT_FETCH_SIZE, ExchangeService, MAX_CONCURRENT_EXPORTS } from './exchange.service';
import type { LineSink } from './exchange.service';
import { NonLocalInsuredRepository } from './non-local-insured.repository';
import type { ExchangeLine } from './non-local-insured';

/**
 * The export against real PostgreSQL, over many cursor batches: exactly the non-local insured, in
 * stored key order (the person ID, ADR 0011 stage 5), each batch audited before it is sent; a person gets only the people filed in
 * their division; a reader that goes away stops it after the batch in flight.
 */
const COUNTY = '440981';
const PEOPLE = 1600; // two thirds exported: three batches of EXPORT_FETCH_SIZE
const AS_OF = '2026-11-01T00:00:00.000Z';

function citizenId(i: number): string {
  const first17 = `${i % 3 === 0 ? '440106' : COUNTY}198001${String(1 + (i % 28)).padStart(2, '0')}${String(Math.floor(i / 28)).padStart(3, '0')}`;
  return `${first17}${checkCharacter(first17)}`;
}

function received(id: string, n: number, department: Department, facts: SourceFacts): EventOf<typeof SOURCE_RECORD_RECEIVED> {
  return {
    eventId: deterministicId('int', id, String(n)),
    type: SOURCE_RECORD_RECEIVED,
    schemaVersion: 1,
    personKey: id,
    occurredAt: AS_OF,
    recordedAt: AS_OF,
    source: `dept:${department}`,
    actor: 'int',
    correlationId: 'int',
    causationId: null,
    basedOnVersion: null,
    payload: { department, sourceRecordId: `r-${n}`, mode: 'snapshot', citizenIdAsSent: id, citizenIdValid: true, asOf: AS_OF, facts },
  };
}

/** i % 3: 0 no household (non-local), 1 household here (local), 2 household in another county (non-local). */
function person(i: number) {
  const id = citizenId(i);
  const events = [received(id, 1, 'social-insurance', { kind: 'insurance', insuranceType: 'pension', scheme: 'employee', status: 'active', region: COUNTY, name: `人${i}` } as SourceFacts)];
  if (i % 3 !== 0) {
    const villageCode = i % 3 === 1 ? '440981002001' : '440902001001';
    events.push(received(id, 2, 'public-security', { kind: 'household', name: `人${i}`, villageCode, status: 'normal' } as SourceFacts));
  }
  const record = foldEvents(events);
  if (!record) throw new Error('no record');
  return record;
}

function collector(closeAfterWrites = Number.POSITIVE_INFINITY): LineSink & { lines: ExchangeLine[]; writes: number } {
  const sink = {
    lines: [] as ExchangeLine[],
    writes: 0,
    closed: () => sink.writes >= closeAfterWrites,
    write: async (chunk: string) => {
      sink.writes += 1;
      for (const line of chunk.split('\n').filter(Boolean)) sink.lines.push(JSON.parse(line) as ExchangeLine);
    },
  };
  return sink;
}

/** As the platform's interceptor leaves it for the handler: the caller, the purpose, whether values are shown in full. */
function request(principal: Principal, unmasked = true): RequestContext {
  return { requestId: `req-${Math.random()}`, source: '127.0.0.1', method: 'GET', principal, purpose: 'cross-region-exchange', unmasked, people: new Set(), audited: false };
}

describe('non-local insured export (real PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let exchange: ExchangeService;
  const ids = new PersonIds('exchange-int-person-id-secret-0123456789');
  /** What person_key holds (ADR 0011 stage 5): the export is in its order. */
  const keys = new PersonKeyColumn(new PersonIds(process.env['PERSON_ID_SECRET'] as string));
  const byStored = (a: string, b: string): number => (keys.stored(a) < keys.stored(b) ? -1 : keys.stored(a) > keys.stored(b) ? 1 : 0);
  const approver: PersonPrincipal = { kind: 'person', sub: 'county-1', name: 'county-1', role: 'county-approver', division: COUNTY };
  const registry: SystemPrincipal = { kind: 'system', department: 'higher-registry', keyId: 'hr-1' };
  /** Everyone the higher registry gets: no household here (i % 3 = 0) or a household in another county (2). */
  const expectedKeys: string[] = [];
  /** Whom the county approver gets: only those filed in the county (no household anywhere: filed where insured). */
  const filedHere: string[] = [];
  const run = (principal: Principal, sink: LineSink, unmasked = true) => runInRequest(request(principal, unmasked), () => exchange.exportNonLocalInsured(principal, COUNTY, sink));

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await openDataSource({ url: db.url, schema: 'comparison', migrations: allMigrations(COMPARISON_MIGRATIONS) });
    const people = Array.from({ length: PEOPLE }, (_, i) => person(i));
    await dataSource.transaction((manager) => new PersonRecordRepository(RecordSealer.fromEnv(), keys).saveMany(manager, people));
    people.forEach((record, i) => {
      if (i % 3 !== 1) expectedKeys.push(record.personKey);
      if (i % 3 === 0) filedHere.push(record.personKey);
    });
    expectedKeys.sort(byStored);
    filedHere.sort(byStored);
    await new AuditStore(dataSource).migrate();
    exchange = new ExchangeService(dataSource, new NonLocalInsuredRepository(new PersonRecordRepository(RecordSealer.fromEnv(), keys)), new AuditService(new AuditRecorder(dataSource, { service: 'comparison' }, ids)));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  /** People disclosed to an actor, by the export's audit entries (one per batch, before it was sent). */
  const audited = async (actor: string): Promise<string[]> =>
    (await new AuditStore(dataSource, ids).search({ actor, limit: 1000 })).filter((e) => e.action === 'access' && e.result === 'partial').flatMap((e) => e.people);

  it('streams the higher registry exactly the non-local insured in person ID order over several batches, each audited before it is sent', async () => {
    const sink = collector();
    const result = await run(registry, sink);
    expect(expectedKeys.length).toBeGreaterThan(2 * EXPORT_FETCH_SIZE);
    expect(result).toEqual({ people: expectedKeys.length, lines: expectedKeys.length, aborted: false });
    expect(sink.lines.map((l) => l.citizenId)).toEqual(expectedKeys);
    expect(sink.writes).toBeGreaterThan(2);
    expect(await audited('key:hr-1')).toEqual(expectedKeys);
  });

  it('gives a county approver only the people filed in their county (whom GET /persons would show them), never those filed elsewhere', async () => {
    const sink = collector();
    const result = await run(approver, sink);
    expect(filedHere.length).toBeGreaterThan(EXPORT_FETCH_SIZE);
    expect(result).toEqual({ people: filedHere.length, lines: filedHere.length, aborted: false });
    expect(sink.lines.map((l) => l.citizenId)).toEqual(filedHere);
    expect(await audited('user:county-1')).toEqual(filedHere);
  });

  it('masks every line for a caller whose role and purpose do not need the full values', async () => {
    const admin: PersonPrincipal = { kind: 'person', sub: 'admin-1', name: 'admin-1', role: 'admin', division: COUNTY };
    const sink = collector();
    await run(admin, sink, false);
    expect(sink.lines).toHaveLength(filedHere.length);
    const first = sink.lines[0] as ExchangeLine & { facts: { name?: string } };
    expect(first.citizenId).toBe(`${filedHere[0]?.slice(0, 6)}********${filedHere[0]?.slice(-4)}`);
    expect(first.facts.name).toMatch(/^人\*\*$/);
  });

  it('stops after the batch in flight when the reader goes away, and releases its connection', async () => {
    const sink = collector(1);
    const before = (await audited('key:hr-1')).length;
    const result = await run(registry, sink);
    expect(result.aborted).toBe(true);
    expect(sink.writes).toBe(1);
    expect(result.people).toBe(sink.lines.length);
    expect(result.people).toBeLessThan(expectedKeys.length);
    expect((await audited('key:hr-1')).length - before).toBe(result.people);
    // Nothing left open: a full export still runs.
    expect((await run(registry, collector())).people).toBe(expectedKeys.length);
  });

  it('refuses a third concurrent export with 503 until a slot is released', () => {
    const releases = Array.from({ length: MAX_CONCURRENT_EXPORTS }, () => exchange.acquire());
    expect(() => exchange.acquire()).toThrow(expect.objectContaining({ code: 'UNAVAILABLE' }));
    releases[0]();
    releases[0]();
    const again = exchange.acquire();
    expect(() => exchange.acquire()).toThrow(expect.objectContaining({ code: 'UNAVAILABLE' }));
    again();
    releases[1]();
  });
});
