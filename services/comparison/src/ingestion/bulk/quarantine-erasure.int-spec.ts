import type { INestApplication } from '@nestjs/common';
import { PERSON_ERASED, deterministicId, newEvent } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { checkCharacter } from '@qmcb/domain';
import { applyEvents, sealerFor, sealingFromEnv } from '@qmcb/event-log';
import { LogTransport, PersonalDataSealer, createServiceTestingApp, loadServiceConfig } from '@qmcb/service-kit';
import { createTestDatabase } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import { randomBytes, randomUUID } from 'crypto';
import { DataSource } from 'typeorm';
import { ComparisonModule } from '../../comparison.module';
import { LoadStore, QuarantinePlainRows } from './load-store';

/**
 * Quarantined lines of bulk loads are sealed at rest (ADR 0011), and `person.erased` (ADR 0010)
 * still deletes every line that carries the person's citizen ID: found by the person refs kept
 * beside the sealed line, or, for a line quarantined before sealing, in its text.
 */
const id = (first17: string): string => `${first17}${checkCharacter(first17)}`;
const P = id('44098119850101021');
const Q = id('44098119860202032');
const erasure = (person: string): RegistrationEvent =>
  newEvent(PERSON_ERASED, deterministicId('keyring', 'erase', person), person, { reason: 'PIPL art. 47 request 11', requestedBy: 'operator:ops-1' }, {
    source: 'ops:keyring', actor: 'operator:ops-1', occurredAt: '2026-11-06T00:00:00.000Z', correlationId: deterministicId('corr', person),
  });
const counts = { rows: 3, accepted: 0, duplicates: 0, quarantined: 3, quarantinedByReason: { matches: 3 } };
const violations = [{ field: 'facts.villageCode', rule: 'matches', message: 'facts.villageCode must be a 12-digit village/community code' }];

describe('quarantined lines sealed at rest, and erased (real PostgreSQL and keyring)', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let ds: DataSource;
  let transport: LogTransport;
  let store: LoadStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { ...process.env, DATABASE_URL: db.url, CONSUME: 'false', RELAY_OUTBOX: 'false', AUTH_JWT_SECRET: randomBytes(32).toString('base64url'), API_KEY_SECRET: randomBytes(32).toString('base64url') };
    const { config, kafka } = loadServiceConfig('comparison', env);
    app = await createServiceTestingApp(ComparisonModule.register(config, kafka));
    ds = app.get(DataSource);
    transport = app.get(LogTransport);
    store = new LoadStore(ds, app.get(PersonalDataSealer));
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('keeps each line as sent but sealed, and deletes the lines naming an erased person, old and new', async () => {
    const loadId = randomUUID();
    await store.create({ loadId, department: 'public-security', format: 'csv', fileName: 'households.csv', actor: 'key:ps-int', startedAt: new Date() });
    // P's ID in a line of its own and inside a longer run of digits; Q's in another.
    const lines = [`HJ-1,${P},snapshot,2026-11-01T00:00:00Z,household,李明,4409810020`, `HJ-2,${Q},snapshot,2026-11-01T00:00:00Z,household,王芳,4409810020`, `HJ-3,99${P}00,snapshot`];
    await store.commitChunk(loadId, [], lines.map((raw, i) => ({ line: i + 2, raw, violations })), counts);

    const text: { t: string }[] = await ds.query(`SELECT row_to_json(q)::text AS t FROM load_quarantine q WHERE load_id = $1`, [loadId]);
    expect(text.filter((r) => r.t.includes(P) || r.t.includes(Q) || r.t.includes('李明') || r.t.includes('王芳'))).toEqual([]);
    expect((await store.quarantine(loadId, 10, 0)).items.map((i) => i.raw)).toEqual(lines);

    // seal-records seals a line kept as text before (in steps, by load and line), then it reads the same.
    const older = randomUUID();
    await store.create({ loadId: older, department: 'public-security', format: 'csv', fileName: 'older.csv', actor: 'key:ps-int', startedAt: new Date() });
    await ds.query(`INSERT INTO load_quarantine (load_id, line, reason, raw, violations) VALUES ($1, 2, 'matches', $2, $3), ($1, 3, 'matches', $4, $3)`, [older, `HJ-5,${P},李明`, JSON.stringify(violations), `HJ-6,${Q},王芳`]);
    const plainRows = new QuarantinePlainRows(app.get(PersonalDataSealer));
    const plainBefore = await ds.transaction((m) => plainRows.countPlain(m));
    const steps: { last: string | null; sealed: number }[] = [];
    for (let after: string | null = null; ; ) {
      const step: { last: string | null; sealed: number } = await ds.transaction((m) => plainRows.sealPlainRows(m, after, 1));
      steps.push(step);
      if (step.last === null) break;
      after = step.last;
    }
    expect(plainBefore).toBe(2);
    expect(steps.map((s) => s.sealed)).toEqual([1, 1, 0]);
    const olderText: { t: string }[] = await ds.query(`SELECT row_to_json(q)::text AS t FROM load_quarantine q WHERE load_id = $1`, [older]);
    expect(olderText.filter((r) => r.t.includes(P) || r.t.includes('李明') || r.t.includes('"raw":"'))).toEqual([]);
    expect((await store.quarantine(older, 10, 0)).items.map((i) => i.raw)).toEqual([`HJ-5,${P},李明`, `HJ-6,${Q},王芳`]);

    // A line quarantined before sealing (plain `raw`), of an earlier load.
    const oldLoad = randomUUID();
    await store.create({ loadId: oldLoad, department: 'public-security', format: 'csv', fileName: 'old.csv', actor: 'key:ps-int', startedAt: new Date() });
    await ds.query(`INSERT INTO load_quarantine (load_id, line, reason, raw, violations) VALUES ($1, 2, 'matches', $2, $3)`, [oldLoad, `HJ-0,${P},snapshot,李明`, JSON.stringify(violations)]);
    expect((await store.quarantine(oldLoad, 10, 0)).items.map((i) => i.raw)).toEqual([`HJ-0,${P},snapshot,李明`]);

    const sealer = await sealerFor({ sealing: sealingFromEnv(process.env) });
    await sealer.keyring.getOrCreate([sealer.personRef(P)]);
    await ds.transaction((manager) => applyEvents(manager, transport, [{ event: erasure(P), partition: 0, offset: '0' }], { rebuilding: false, partition: 0, sealer }));

    expect((await store.quarantine(loadId, 10, 0)).items.map((i) => i.line)).toEqual([3]);
    expect((await store.quarantine(oldLoad, 10, 0)).total).toBe(0);
    expect((await store.quarantine(older, 10, 0)).items.map((i) => i.line)).toEqual([3]);
  });
});
