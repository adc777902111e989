import { Injectable } from '@nestjs/common';
import type { Channel } from '@qmcb/contracts';
import { PersonalDataSealer, PersonKeyColumn, sealPlainRowsInPlace } from '@qmcb/service-kit';
import type { PlainRowSealer } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';
import type { ItemStage, ItemStatus, ReviewItem } from './review-item.decider';

const COLUMNS = `review_id AS "reviewId", submission_id AS "submissionId", channel, kind, task_id AS "taskId", person_key AS "personKey",
  village_code AS "villageCode", township_code AS "townshipCode", county_code AS "countyCode", stage, status, request, before, reasons,
  submitter_id AS "submitterId", submitted_at AS "submittedAt", based_on_version AS "basedOnVersion", skip_initial AS "skipInitial",
  initial_reviewer AS "initialReviewer", initial_comment AS "initialComment", final_reviewer AS "finalReviewer",
  return_reason AS "returnReason", fields_to_fix AS "fieldsToFix", reject_code AS "rejectCode", reject_reason AS "rejectReason",
  close_code AS "closeCode", close_reason AS "closeReason", decided_at AS "decidedAt", updated_at AS "updatedAt", version, sealed`;

/** Where an item's personal values are sealed (the AAD's place, ADR 0011). */
export const ITEM_PLACE = 'review_item.sealed';

/**
 * What of an item is personal, sealed in `sealed` (ADR 0011, stage 4): the change request (the
 * collected form: name, phone, address, citizen ID, household members, evidence), the record's
 * values before it, and the reviewers' free text. Their plain columns are null in a sealed row.
 */
type ItemPersonal = Pick<ReviewItem, 'request' | 'before' | 'initialComment' | 'returnReason' | 'rejectReason' | 'closeReason'>;

const personalOf = (i: ReviewItem | RawItem): ItemPersonal => ({
  request: i.request,
  before: i.before,
  initialComment: i.initialComment,
  returnReason: i.returnReason,
  rejectReason: i.rejectReason,
  closeReason: i.closeReason,
});

type Time = Date | string;
type RawItem = Omit<ReviewItem, 'submittedAt' | 'updatedAt' | 'decidedAt'> & { submittedAt: Time; updatedAt: Time; decidedAt: Time | null; sealed: Buffer | null };

const iso = (v: Time): string => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

function item(r: RawItem, personal: ItemPersonal): ReviewItem {
  const { sealed: _sealed, ...rest } = r;
  return { ...rest, ...personal, submittedAt: iso(r.submittedAt), updatedAt: iso(r.updatedAt), decidedAt: r.decidedAt === null ? null : iso(r.decidedAt) };
}

export const QUEUE_SORTS = ['submittedAt', '-submittedAt'] as const;
export type QueueSort = (typeof QUEUE_SORTS)[number];

export interface ItemFilter {
  /** Division code prefix within which items lie (village code). */
  within: string;
  stage?: ItemStage;
  status?: ItemStatus;
  channel?: Channel;
  /** Items of people flagged for this reason code. */
  reason?: string;
  /** Only items submitted before this moment (waiting at least so long). */
  submittedBefore?: string;
  sort: QueueSort;
  limit: number;
  offset: number;
}

export interface QueueFigures {
  stage: 'initial' | 'final';
  pending: number;
  overdue: number;
  /** The oldest pending item's submission time; null when the queue is empty. */
  oldestSubmittedAt: string | null;
  /** Average waiting time of the pending items, in seconds (0 when empty). */
  averageWaitSeconds: number;
}

/**
 * `review_item`: every review item's current state. All SQL of the table.
 *
 * At rest (ADR 0011, stage 4) an item's personal values are `sealed` under the person's data key
 * (`ItemPersonal`); reads open them, one keyring look-up per page. A row written before that has
 * `sealed` null and its values in their columns: read as it is, sealed when next written, by
 * `seal-records` (`sealPlainRows`) or by a rebuild. An item of a person whose key is shredded
 * (erased) is read as absent and not written. `person_key` holds the person ID (stage 5,
 * `PersonKeyColumn`): converted here, so callers and answers deal in person keys.
 */
@Injectable()
export class ReviewItemRepository implements PlainRowSealer {
  readonly table = 'review_item';

  constructor(
    private readonly sealer: PersonalDataSealer,
    private readonly keys: PersonKeyColumn,
  ) {}

  /** A row as selected with COLUMNS, its person key column turned back into the person key. */
  private keyed(r: RawItem): RawItem {
    return { ...r, personKey: this.keys.key(r.personKey) };
  }

  async countPlain(manager: EntityManager): Promise<number> {
    const [{ n }] = (await manager.query(`SELECT count(*)::int AS n FROM review_item WHERE sealed IS NULL`)) as [{ n: number }];
    return n;
  }

  /**
   * Seals items written before sealing (`seal-records`), by review ID: their personal values as they
   * are, locked; only `sealed` is set and those columns nulled, so version, `updated_at` and every
   * other column stay as they were. An erased person's items are left to the erasure.
   */
  sealPlainRows(manager: EntityManager, after: string | null, limit: number): Promise<{ last: string | null; sealed: number }> {
    return sealPlainRowsInPlace<RawItem>(manager, this.sealer, {
      table: 'review_item',
      idColumn: 'review_id',
      columns: COLUMNS,
      place: ITEM_PLACE,
      idOf: (r) => r.reviewId,
      personKeyOf: (r) => this.keys.key(r.personKey),
      valueOf: personalOf,
      cleared: ['request', 'before', 'initial_comment', 'return_reason', 'reject_reason', 'close_reason'],
    }, after, limit);
  }

  /** The items of rows read with COLUMNS, opened, in order; an erased person's are left out. */
  private async items(stored: readonly RawItem[]): Promise<ReviewItem[]> {
    const rows = stored.map((r) => this.keyed(r));
    const opened = await this.sealer.open<ItemPersonal>(
      ITEM_PLACE,
      rows.map((r) => ({ personKey: r.personKey, sealed: r.sealed, plain: personalOf(r) })),
    );
    const out: ReviewItem[] = [];
    rows.forEach((r, i) => {
      const personal = opened[i];
      if (personal !== undefined) out.push(item(r, personal));
    });
    return out;
  }

  async find(manager: EntityManager, reviewId: string, forUpdate = false): Promise<ReviewItem | null> {
    const rows: RawItem[] = await manager.query(`SELECT ${COLUMNS} FROM review_item WHERE review_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [reviewId]);
    return (await this.items(rows))[0] ?? null;
  }

  /** These items, locked for the batch (or the decisions) that change them, in review ID order. */
  async findMany(manager: EntityManager, reviewIds: readonly string[], forUpdate = true): Promise<Map<string, ReviewItem>> {
    const out = new Map<string, ReviewItem>();
    if (reviewIds.length === 0) return out;
    const rows: RawItem[] = await manager.query(
      `SELECT ${COLUMNS} FROM review_item WHERE review_id = ANY($1::uuid[]) ORDER BY review_id${forUpdate ? ' FOR UPDATE' : ''}`,
      [[...new Set(reviewIds)]],
    );
    for (const i of await this.items(rows)) out.set(i.reviewId, i);
    return out;
  }

  async forPerson(manager: EntityManager, personKey: string): Promise<ReviewItem[]> {
    const rows: RawItem[] = await manager.query(`SELECT ${COLUMNS} FROM review_item WHERE person_key = $1 ORDER BY submitted_at, review_id`, [this.keys.stored(personKey)]);
    return this.items(rows);
  }

  /** Items of a person still waiting for a decision (to show conflicting proposals). */
  async pendingForPerson(manager: EntityManager, personKey: string): Promise<ReviewItem[]> {
    const rows: RawItem[] = await manager.query(
      `SELECT ${COLUMNS} FROM review_item WHERE person_key = $1 AND status = 'pending' ORDER BY submitted_at, review_id`,
      [this.keys.stored(personKey)],
    );
    return this.items(rows);
  }

  async list(manager: EntityManager, f: ItemFilter): Promise<{ total: number; items: ReviewItem[] }> {
    const params = [`${f.within}%`, f.stage ?? null, f.status ?? null, f.channel ?? null, f.reason ?? null, f.submittedBefore ?? null];
    const where = `village_code LIKE $1 AND ($2::text IS NULL OR stage = $2) AND ($3::text IS NULL OR status = $3)
      AND ($4::text IS NULL OR channel = $4) AND ($5::text IS NULL OR reasons @> ARRAY[$5::text])
      AND ($6::timestamptz IS NULL OR submitted_at < $6)`;
    const [{ total }] = (await manager.query(`SELECT count(*)::int AS total FROM review_item WHERE ${where}`, params)) as [{ total: number }];
    const order = f.sort === '-submittedAt' ? 'submitted_at DESC, review_id DESC' : 'submitted_at, review_id';
    const rows: RawItem[] = await manager.query(`SELECT ${COLUMNS} FROM review_item WHERE ${where} ORDER BY ${order} LIMIT $7 OFFSET $8`, [...params, f.limit, f.offset]);
    return { total, items: await this.items(rows) };
  }

  /** Pending items per stage within a division: how many, how many overdue, the oldest, the average wait. */
  async figures(manager: EntityManager, within: string, overdueBefore: string, now: string): Promise<QueueFigures[]> {
    const rows: { stage: 'initial' | 'final'; pending: number; overdue: number; oldest: Time | null; avg: number | null }[] = await manager.query(
      `SELECT stage, count(*)::int AS pending, count(*) FILTER (WHERE submitted_at < $2)::int AS overdue, min(submitted_at) AS oldest,
              avg(extract(epoch FROM ($3::timestamptz - submitted_at)))::float8 AS avg
         FROM review_item WHERE status = 'pending' AND village_code LIKE $1 GROUP BY stage`,
      [`${within}%`, overdueBefore, now],
    );
    return (['initial', 'final'] as const).map((stage) => {
      const r = rows.find((x) => x.stage === stage);
      return {
        stage,
        pending: r?.pending ?? 0,
        overdue: r?.overdue ?? 0,
        oldestSubmittedAt: r?.oldest ? iso(r.oldest) : null,
        averageWaitSeconds: r?.avg ? Math.round(r.avg) : 0,
      };
    });
  }

  /** Pending and overdue items per county and stage, over the whole projection (gauges). */
  async countyFigures(manager: EntityManager, overdueBefore: string): Promise<{ county: string; stage: string; pending: number; overdue: number; oldest: string | null }[]> {
    const rows: { county: string; stage: string; pending: number; overdue: number; oldest: Time | null }[] = await manager.query(
      `SELECT county_code AS county, stage, count(*)::int AS pending, count(*) FILTER (WHERE submitted_at < $1)::int AS overdue, min(submitted_at) AS oldest
         FROM review_item WHERE status = 'pending' GROUP BY county_code, stage ORDER BY county_code, stage`,
      [overdueBefore],
    );
    return rows.map((r) => ({ ...r, oldest: r.oldest ? iso(r.oldest) : null }));
  }

  /**
   * Upserts items in one statement (at most one row per item), their personal values sealed, the person
   * key as stored (a row written before stage 5 is re-keyed); an erased person's items are not written.
   */
  async saveMany(manager: EntityManager, all: readonly ReviewItem[]): Promise<void> {
    if (all.length === 0) return;
    const sealed = await this.sealer.seal(ITEM_PLACE, all.map((i) => ({ personKey: i.personKey, value: personalOf(i) })));
    const items = all.flatMap((i, n) => {
      const bytes = sealed[n];
      // An erased person (key shredded) is not written again: ADR 0010 deleted their rows.
      return bytes ? [{ ...i, personKey: this.keys.stored(i.personKey), request: null, before: null, initialComment: null, returnReason: null, rejectReason: null, closeReason: null, sealed: bytes.toString('base64') }] : [];
    });
    if (items.length === 0) return;
    await manager.query(
      `INSERT INTO review_item (review_id, submission_id, channel, kind, task_id, person_key, village_code, township_code, county_code, stage, status,
         request, before, reasons, submitter_id, submitted_at, based_on_version, skip_initial, initial_reviewer, initial_comment, final_reviewer,
         return_reason, fields_to_fix, reject_code, reject_reason, close_code, close_reason, decided_at, updated_at, version, sealed)
       SELECT i."reviewId", i."submissionId", i.channel, i.kind, i."taskId", i."personKey", i."villageCode", i."townshipCode", i."countyCode",
              i.stage, i.status, i.request, i.before, ARRAY(SELECT jsonb_array_elements_text(i.reasons)), i."submitterId", i."submittedAt",
              i."basedOnVersion", i."skipInitial", i."initialReviewer", i."initialComment", i."finalReviewer", i."returnReason",
              ARRAY(SELECT jsonb_array_elements_text(i."fieldsToFix")), i."rejectCode", i."rejectReason", i."closeCode", i."closeReason",
              i."decidedAt", i."updatedAt", i.version, decode(i.sealed, 'base64')
         FROM jsonb_to_recordset($1::jsonb) AS i("reviewId" uuid, "submissionId" uuid, channel text, kind text, "taskId" uuid, "personKey" text,
              "villageCode" text, "townshipCode" text, "countyCode" text, stage text, status text, request jsonb, before jsonb, reasons jsonb,
              "submitterId" text, "submittedAt" timestamptz, "basedOnVersion" int, "skipInitial" boolean, "initialReviewer" text,
              "initialComment" text, "finalReviewer" text, "returnReason" text, "fieldsToFix" jsonb, "rejectCode" text, "rejectReason" text,
              "closeCode" text, "closeReason" text, "decidedAt" timestamptz, "updatedAt" timestamptz, version int, sealed text)
       ON CONFLICT (review_id) DO UPDATE SET person_key = EXCLUDED.person_key, sealed = EXCLUDED.sealed, request = EXCLUDED.request, stage = EXCLUDED.stage, status = EXCLUDED.status, before = EXCLUDED.before,
         based_on_version = EXCLUDED.based_on_version, initial_reviewer = EXCLUDED.initial_reviewer, initial_comment = EXCLUDED.initial_comment,
         final_reviewer = EXCLUDED.final_reviewer, return_reason = EXCLUDED.return_reason, fields_to_fix = EXCLUDED.fields_to_fix,
         reject_code = EXCLUDED.reject_code, reject_reason = EXCLUDED.reject_reason, close_code = EXCLUDED.close_code,
         close_reason = EXCLUDED.close_reason, decided_at = EXCLUDED.decided_at, updated_at = EXCLUDED.updated_at, version = EXCLUDED.version`,
      [JSON.stringify(items)],
    );
  }
}
