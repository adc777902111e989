import { deterministicId } from '@qmcb/contracts';
import { openDataSource } from '@qmcb/event-log';
import { allMigrations } from '@qmcb/service-kit';
import { createTestDatabase } from '@qmcb/testing';
import type { TestDatabase } from '@qmcb/testing';
import { REVIEW_MIGRATIONS } from '../review.module';
import { ReviewTables1700000003000 } from './1700000003000-review-tables';

/** A review schema of the first release, with items of the first form, migrated to items of every channel. */
describe('review migrations', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('carries a first-release item over: its form becomes a registration-form request, nothing else changes', async () => {
    const reviewId = deterministicId('review', 'item', 's1');
    const form = {
      name: '李明', phone: '13800138000', employmentStatus: 'farmer', residenceAddress: '南宫居委会 12 号', residenceDivision: '440981002001',
      insurance: [{ insuranceType: 'pension', scheme: 'resident', status: 'active', region: '440981' }], insuredElsewhere: false,
    };
    const old = await openDataSource({ url: db.url, schema: 'review', migrations: allMigrations([ReviewTables1700000003000]) });
    await old.query(
      `INSERT INTO review_item (review_id, submission_id, task_id, person_key, village_code, township_code, county_code, stage, status, form,
         surveyor_id, submitted_at, based_on_version, initial_reviewer, updated_at, version)
       VALUES ($1, $2, $3, '440981198503151234', '440981002001', '440981002', '440981', 'final', 'pending', $4, 'surveyor-1',
         '2026-11-20T00:00:00Z', 3, 'township-1', '2026-11-21T00:00:00Z', 2)`,
      [reviewId, deterministicId('s1'), deterministicId('t1'), JSON.stringify(form)],
    );
    await old.destroy();

    const migrated = await openDataSource({ url: db.url, schema: 'review', migrations: allMigrations(REVIEW_MIGRATIONS) });
    try {
      const [row] = await migrated.query(`SELECT channel, kind, request, before, reasons, submitter_id, stage, status, initial_reviewer, version, skip_initial FROM review_item WHERE review_id = $1`, [reviewId]);
      expect(row).toEqual({
        channel: 'survey',
        kind: 'registration-form',
        request: { kind: 'registration-form', fields: { ...form, notInsuredReason: null }, evidence: [], unknown: [] },
        before: {},
        reasons: [],
        submitter_id: 'surveyor-1',
        stage: 'final',
        status: 'pending',
        initial_reviewer: 'township-1',
        version: 2,
        skip_initial: false,
      });
    } finally {
      await migrated.destroy();
    }
  });
});
