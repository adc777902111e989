import { checkCharacter, personKeyFor } from '@qmcb/domain';
import { openDataSource } from '@qmcb/event-log';
import { PersonIds } from '@qmcb/platform';
import { PersonalDataSealer, PersonKeyColumn, PersonRecordRepository, RecordSealer, allMigrations } from '@qmcb/service-kit';
import type { PlainRowSealer } from '@qmcb/service-kit';
import { createTestDatabase } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import type { DataSource } from 'typeorm';
import { COMPARISON_MIGRATIONS } from '../comparison.module';
import { blockingKeys } from '../linking/id-neighbours';
import { PersonLinkRepository } from '../linking/person-link.repository';
import { OutcomeRepository } from '../outcomes/outcome.repository';
import { LinkWaitingPlainRows, OutcomeReasonsPlainRows, PersonLinkPlainRows } from './comparison-plain-rows';

/**
 * Comparison rows written before ADR 0011 sealed them (an outcome's reasons with their details, a
 * link's citizen ID as sent, the blocking keys of records waiting for a person) are sealed in place
 * by `seal-records`, in steps; the repositories read the same before and after, and no table holds
 * the IDs or the names any more.
 */
const id = (first17: string): string => `${first17}${checkCharacter(first17)}`;
const P = id('44098119850101023');
const TYPO = `${P.slice(0, 15)}${P[16]}${P[15]}${P[17]}`; // the last two digits of the body swapped
const DETAIL = 'sources disagree on the name: public-security name=李明; social-insurance pension.name=李铭';

describe('seal-records for comparison rows written before sealing (real PostgreSQL and keyring)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const keys = new PersonKeyColumn(new PersonIds(process.env['PERSON_ID_SECRET'] as string));
  const personal = PersonalDataSealer.fromEnv();
  const links = new PersonLinkRepository(keys, personal);
  const outcomes = new OutcomeRepository(new PersonRecordRepository(RecordSealer.fromEnv(), keys), personal);

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await openDataSource({ url: db.url, schema: 'comparison', migrations: allMigrations(COMPARISON_MIGRATIONS) });
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('seals each table in steps; what the repositories read is the same, and no row holds the IDs or the names', async () => {
    expect(TYPO).not.toBe(P);
    const record = keys.stored(personKeyFor(TYPO));
    const person = keys.stored(P);
    // As the previous version wrote them (key columns already re-keyed).
    await ds.query(`INSERT INTO person_link (record_key, person_key, link_id, status, score, citizen_id_as_sent) VALUES ($1, $2, 'L-1', 'proposed', 80, $3)`, [record, person, TYPO]);
    await ds.query(
      `INSERT INTO outcome_history (event_id, person_key, outcome, previous_outcome, reasons, based_on_version, decided_at) VALUES ('E-1', $1, 'needs-survey', 'none', $2, 3, '2026-11-01T00:00:00Z')`,
      [person, JSON.stringify([{ code: 'INACCURATE_NAME', rule: 'inaccurate-information', ruleVersion: 1, detail: DETAIL }])],
    );
    const blocks = blockingKeys(TYPO.slice(0, 17));
    await ds.query(`INSERT INTO link_waiting (block_key, record_key) SELECT b, $2 FROM unnest($1::text[]) AS b`, [blocks, record]);

    const read = async (): Promise<unknown> => ({
      links: await links.activeInvolving(ds.manager, [P]),
      history: await outcomes.historyOf(ds.manager, P),
      // The person's own blocking keys meet the typo's (one transposition apart).
      waiting: await links.waitingUnder(ds.manager, blockingKeys(P.slice(0, 17))),
    });
    const before = await read();
    expect(before).toEqual({
      links: [{ recordKey: personKeyFor(TYPO), personKey: P, linkId: 'L-1', status: 'proposed', score: 80, citizenIdAsSent: TYPO }],
      history: [{ eventId: 'E-1', outcome: 'needs-survey', previousOutcome: 'none', reasons: [{ code: 'INACCURATE_NAME', rule: 'inaccurate-information', ruleVersion: 1, detail: DETAIL }], basedOnVersion: 3, decidedAt: '2026-11-01T00:00:00.000Z' }],
      waiting: [personKeyFor(TYPO)],
    });

    const sealers: PlainRowSealer[] = [new OutcomeReasonsPlainRows(keys, personal), new PersonLinkPlainRows(keys, personal), new LinkWaitingPlainRows(personal)];
    const count = async (): Promise<number[]> => Promise.all(sealers.map((s) => ds.transaction((m) => s.countPlain(m))));
    expect(await count()).toEqual([1, 1, 33]);
    const sealAll = async (sealer: PlainRowSealer): Promise<number[]> => {
      const steps: number[] = [];
      for (let after: string | null = null; ; ) {
        const step: { last: string | null; sealed: number } = await ds.transaction((m) => sealer.sealPlainRows(m, after, 10));
        steps.push(step.sealed);
        if (step.last === null) return steps;
        after = step.last;
      }
    };
    expect(await Promise.all(sealers.map(sealAll))).toEqual([[1, 0], [1, 0], [10, 10, 10, 3, 0]]);
    expect(await count()).toEqual([0, 0, 0]);
    // Nothing left to seal: a second run changes nothing.
    expect(await Promise.all(sealers.map(sealAll))).toEqual([[0], [0], [0]]);

    expect(await read()).toEqual(before);
    const forbidden = [P, TYPO, P.slice(0, 17), TYPO.slice(0, 17), personKeyFor(TYPO), '李明', '李铭'];
    const found: string[] = [];
    for (const table of ['person_link', 'outcome_history', 'link_waiting']) {
      const rows: { row: string }[] = await ds.query(`SELECT to_jsonb(x)::text AS row FROM comparison.${table} x`);
      for (const { row } of rows) for (const f of forbidden) if (row.includes(f)) found.push(`${table}: ${f}`);
    }
    expect(found).toEqual([]);
  });
});
