import { closeSealers, openDataSource } from '@qmcb/event-log';
import { PersonIds } from '@qmcb/platform';
import { PersonalDataSealer, PersonKeyColumn } from '@qmcb/service-kit';
import { createTestDatabase } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import type { DataSource } from 'typeorm';
import { OPS_MIGRATIONS } from '../ops/ops-data-source';
import { FeedEntryRepository } from './feed-entry.repository';
import type { FeedEntry } from './feed-entry.repository';

/**
 * The feed's numbering against real PostgreSQL, while entries are written, numbered and read at the
 * same time: a reader going from its cursor reads every entry once, in number order, and numbers are
 * given without a gap (a number seen is never followed by a smaller one).
 */
const SCHEMA = 'feed_int_ops';
const WRITERS = 4;
const PER_WRITER = 300;

describe('feed numbering under concurrent writes (real PostgreSQL)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const feed = new FeedEntryRepository(PersonalDataSealer.fromEnv(), new PersonKeyColumn(new PersonIds(process.env.PERSON_ID_SECRET as string)));

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await openDataSource({ url: db.url, schema: SCHEMA, migrations: OPS_MIGRATIONS, poolSize: 8 });
  });

  afterAll(async () => {
    await closeSealers();
    await ds?.destroy();
    await db?.drop();
  });

  const entry = (writer: number, k: number): FeedEntry => ({
    eventId: `w${writer}-${k}`,
    personKey: `44098119900101${String(writer).padStart(3, '0')}X`,
    version: k + 1,
    type: 'insurance.contribution-paid',
    divisionBefore: '440981',
    divisionAfter: '440981',
    occurredAt: '2026-01-01T00:00:00.000Z',
    recordedAt: '2026-01-01T00:00:00.000Z',
    source: 'dept:social-insurance',
    actor: 'key:x',
    changes: [{ item: 'x', from: k, to: k + 1 }],
  });

  it('reads every entry once, in order, while writers commit out of order and the sequencer runs', async () => {
    let writing = true;
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      for (let k = 0; k < PER_WRITER; k += 3) {
        // Transactions that stay open a little, so later ones commit first.
        await ds.transaction(async (m) => {
          await feed.insertMany(m, SCHEMA, [entry(w, k), entry(w, k + 1), entry(w, k + 2)]);
          await new Promise((r) => setTimeout(r, (k * 7 + w * 13) % 5));
        });
      }
    });
    const sequencer = (async () => {
      while (writing) {
        await ds.transaction((m) => feed.sequence(m, 50));
        await new Promise((r) => setTimeout(r, 1));
      }
      while ((await ds.transaction((m) => feed.sequence(m, 5000))) > 0);
    })();
    const seen: { seq: number; eventId: string }[] = [];
    let numbered = false;
    const reader = (async () => {
      let cursor = 0;
      // Reads while everything runs, then to the end once everything is numbered.
      for (;;) {
        const last = numbered;
        const page = await feed.page(ds.manager, { division: '440981', kinds: [] }, cursor, 37);
        seen.push(...page.entries.map((e) => ({ seq: e.seq, eventId: e.eventId })));
        cursor = page.cursor;
        if (page.entries.length === 0) {
          if (last) return;
          await new Promise((r) => setTimeout(r, 1));
        }
      }
    })();
    await Promise.all(writers);
    writing = false;
    await sequencer;
    numbered = true;
    await reader;
    expect(seen.map((s) => s.seq)).toEqual(Array.from({ length: WRITERS * PER_WRITER }, (_, i) => i + 1));
    expect(new Set(seen.map((s) => s.eventId)).size).toBe(WRITERS * PER_WRITER);
    // Per writer (a person), the entries keep their order.
    for (let w = 0; w < WRITERS; w++) {
      const mine = seen.filter((s) => s.eventId.startsWith(`w${w}-`)).map((s) => Number(s.eventId.split('-')[1]));
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
  });
});
