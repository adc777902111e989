import { Injectable } from '@nestjs/common';
import { PersonalDataSealer, PersonKeyColumn, sealPlainRowsInPlace } from '@qmcb/service-kit';
import type { PlainRowSealer } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';
import type { LinkReview, LinkReviewStage, LinkReviewStatus } from './link-review.decider';

const COLUMNS = `link_id AS "linkId", person_key AS "personKey", record_key AS "recordKey", citizen_id_as_sent AS "citizenIdAsSent", sources,
  score, threshold, criteria, village_code AS "villageCode", township_code AS "townshipCode", county_code AS "countyCode", stage, status,
  proposed_at AS "proposedAt", initial_reviewer AS "initialReviewer", initial_comment AS "initialComment", decided_by AS "decidedBy",
  decision_note AS "decisionNote", decided_at AS "decidedAt", updated_at AS "updatedAt", version, sealed`;

/** Where a link review's personal values are sealed (the AAD's place, ADR 0011). */
export const LINK_PLACE = 'link_review.sealed';

/**
 * What of a link review is personal, sealed in `sealed` (ADR 0011, stage 4): the mistyped ID (as
 * sent, and the record key, which is that ID when it has 18 characters), the department records
 * held under it, and the reviewers' free text. Their plain columns are null in a sealed row; the
 * score and its criteria (names, points, fixed wording) stay plain.
 */
type LinkPersonal = Pick<LinkReview, 'recordKey' | 'citizenIdAsSent' | 'sources' | 'initialComment' | 'decisionNote'>;

const personalOf = (r: LinkReview | Raw): LinkPersonal => ({
  recordKey: r.recordKey,
  citizenIdAsSent: r.citizenIdAsSent,
  sources: r.sources,
  initialComment: r.initialComment,
  decisionNote: r.decisionNote,
});

type Time = Date | string;
type Raw = Omit<LinkReview, 'proposedAt' | 'updatedAt' | 'decidedAt'> & { proposedAt: Time; updatedAt: Time; decidedAt: Time | null; sealed: Buffer | null };

const iso = (v: Time): string => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

function review(r: Raw, personal: LinkPersonal): LinkReview {
  const { sealed: _sealed, ...rest } = r;
  return { ...rest, ...personal, proposedAt: iso(r.proposedAt), updatedAt: iso(r.updatedAt), decidedAt: r.decidedAt === null ? null : iso(r.decidedAt) };
}

export interface LinkReviewFilter {
  /** Division code prefix of the person's village. */
  within: string;
  stage?: LinkReviewStage;
  status?: LinkReviewStatus;
  limit: number;
  offset: number;
}

/**
 * `link_review`: the review of every proposed identity link. All SQL of the table.
 *
 * At rest (ADR 0011, stage 4) a review's personal values are `sealed` under the data key of the
 * person it is proposed to (`LinkPersonal`); reads open them, one keyring look-up per page. A row
 * written before that has `sealed` null and its values in their columns: read as it is, sealed when
 * next written, by `seal-records` (`sealPlainRows`) or by a rebuild. A review of a person whose key
 * is shredded (erased) is read as absent and not written. `person_key` holds the person ID (stage 5,
 * `PersonKeyColumn`), as may `record_key` in a row not sealed yet: converted here, so callers and
 * answers deal in person keys.
 */
@Injectable()
export class LinkReviewRepository implements PlainRowSealer {
  readonly table = 'link_review';

  constructor(
    private readonly sealer: PersonalDataSealer,
    private readonly keys: PersonKeyColumn,
  ) {}

  /** A row as selected with COLUMNS, its key columns turned back into person keys (`record_key` is null in a sealed row). */
  private keyed(r: Raw): Raw {
    return { ...r, personKey: this.keys.key(r.personKey), recordKey: r.recordKey === null ? r.recordKey : this.keys.key(r.recordKey) };
  }

  async countPlain(manager: EntityManager): Promise<number> {
    const [{ n }] = (await manager.query(`SELECT count(*)::int AS n FROM link_review WHERE sealed IS NULL`)) as [{ n: number }];
    return n;
  }

  /**
   * Seals reviews written before sealing (`seal-records`), by link ID: their personal values as they
   * are, locked; only `sealed` is set and those columns nulled, so version, `updated_at` and every
   * other column stay as they were. An erased person's reviews are left to the erasure.
   */
  sealPlainRows(manager: EntityManager, after: string | null, limit: number): Promise<{ last: string | null; sealed: number }> {
    return sealPlainRowsInPlace<Raw>(manager, this.sealer, {
      table: 'link_review',
      idColumn: 'link_id',
      columns: COLUMNS,
      place: LINK_PLACE,
      idOf: (r) => r.linkId,
      personKeyOf: (r) => this.keys.key(r.personKey),
      valueOf: (r) => personalOf(this.keyed(r)),
      cleared: ['record_key', 'citizen_id_as_sent', 'sources', 'initial_comment', 'decision_note'],
    }, after, limit);
  }

  /** The reviews of rows read with COLUMNS, opened, in order; an erased person's are left out. */
  private async reviews(stored: readonly Raw[]): Promise<LinkReview[]> {
    const rows = stored.map((r) => this.keyed(r));
    const opened = await this.sealer.open<LinkPersonal>(LINK_PLACE, rows.map((r) => ({ personKey: r.personKey, sealed: r.sealed, plain: personalOf(r) })));
    const out: LinkReview[] = [];
    rows.forEach((r, i) => {
      const personal = opened[i];
      if (personal !== undefined) out.push(review(r, personal));
    });
    return out;
  }

  async find(manager: EntityManager, linkId: string, forUpdate = false): Promise<LinkReview | null> {
    const rows: Raw[] = await manager.query(`SELECT ${COLUMNS} FROM link_review WHERE link_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [linkId]);
    return (await this.reviews(rows))[0] ?? null;
  }

  /** These reviews, locked for the batch that changes them, in link ID order. */
  async findMany(manager: EntityManager, linkIds: readonly string[]): Promise<Map<string, LinkReview>> {
    const out = new Map<string, LinkReview>();
    if (linkIds.length === 0) return out;
    const rows: Raw[] = await manager.query(`SELECT ${COLUMNS} FROM link_review WHERE link_id = ANY($1::uuid[]) ORDER BY link_id FOR UPDATE`, [[...new Set(linkIds)]]);
    for (const r of await this.reviews(rows)) out.set(r.linkId, r);
    return out;
  }

  /** The queue within a division, oldest proposal first. */
  async list(manager: EntityManager, f: LinkReviewFilter): Promise<{ total: number; items: LinkReview[] }> {
    const params = [`${f.within}%`, f.stage ?? null, f.status ?? null];
    const where = `village_code LIKE $1 AND ($2::text IS NULL OR stage = $2) AND ($3::text IS NULL OR status = $3)`;
    const [{ total }] = (await manager.query(`SELECT count(*)::int AS total FROM link_review WHERE ${where}`, params)) as [{ total: number }];
    const rows: Raw[] = await manager.query(`SELECT ${COLUMNS} FROM link_review WHERE ${where} ORDER BY proposed_at, link_id LIMIT $4 OFFSET $5`, [...params, f.limit, f.offset]);
    return { total, items: await this.reviews(rows) };
  }

  /**
   * Upserts reviews in one statement (at most one row per link), their personal values sealed, the person
   * key as stored (a row written before stage 5 is re-keyed); an erased person's are not written.
   */
  async saveMany(manager: EntityManager, all: readonly LinkReview[]): Promise<void> {
    if (all.length === 0) return;
    const sealed = await this.sealer.seal(LINK_PLACE, all.map((r) => ({ personKey: r.personKey, value: personalOf(r) })));
    const reviews = all.flatMap((r, n) => {
      const bytes = sealed[n];
      // An erased person (key shredded) is not written again: ADR 0010 deleted their rows.
      return bytes ? [{ ...r, personKey: this.keys.stored(r.personKey), recordKey: null, citizenIdAsSent: null, sources: null, initialComment: null, decisionNote: null, sealed: bytes.toString('base64') }] : [];
    });
    if (reviews.length === 0) return;
    await manager.query(
      `INSERT INTO link_review (link_id, person_key, record_key, citizen_id_as_sent, sources, score, threshold, criteria, village_code, township_code,
         county_code, stage, status, proposed_at, initial_reviewer, initial_comment, decided_by, decision_note, decided_at, updated_at, version, sealed)
       SELECT r."linkId", r."personKey", r."recordKey", r."citizenIdAsSent", r.sources, r.score, r.threshold, r.criteria, r."villageCode",
              r."townshipCode", r."countyCode", r.stage, r.status, r."proposedAt", r."initialReviewer", r."initialComment", r."decidedBy",
              r."decisionNote", r."decidedAt", r."updatedAt", r.version, decode(r.sealed, 'base64')
         FROM jsonb_to_recordset($1::jsonb) AS r("linkId" uuid, "personKey" text, "recordKey" text, "citizenIdAsSent" text, sources jsonb,
              score int, threshold int, criteria jsonb, "villageCode" text, "townshipCode" text, "countyCode" text, stage text, status text,
              "proposedAt" timestamptz, "initialReviewer" text, "initialComment" text, "decidedBy" text, "decisionNote" text,
              "decidedAt" timestamptz, "updatedAt" timestamptz, version int, sealed text)
       ON CONFLICT (link_id) DO UPDATE SET person_key = EXCLUDED.person_key, sealed = EXCLUDED.sealed, record_key = EXCLUDED.record_key,
         citizen_id_as_sent = EXCLUDED.citizen_id_as_sent, sources = EXCLUDED.sources, stage = EXCLUDED.stage, status = EXCLUDED.status, initial_reviewer = EXCLUDED.initial_reviewer,
         initial_comment = EXCLUDED.initial_comment, decided_by = EXCLUDED.decided_by, decision_note = EXCLUDED.decision_note,
         decided_at = EXCLUDED.decided_at, updated_at = EXCLUDED.updated_at, version = EXCLUDED.version`,
      [JSON.stringify(reviews)],
    );
  }
}
