import type { PersonalDataSealer, PersonKeyColumn, PlainRowSealer } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';
import { CITIZEN_ID_AS_SENT, blockRefOf } from '../linking/person-link.repository';
import { OUTCOME_REASONS } from '../outcomes/outcome.repository';

/**
 * `seal-records` for the comparison rows written before their personal values were sealed (ADR 0011):
 * each step locks up to `limit` plain rows after `after` (in the table's own key order), seals them in
 * place as the repositories write them now, and leaves an erased person's rows to the erasure. What
 * the repositories read is the same before and after. The key columns are re-keyed before (service-kit's
 * re-keying runs first); a row not re-keyed yet is sealed under the key it holds (`PersonKeyColumn.key`).
 */

/** `outcome_history` rows whose reasons keep their details plain: sealed whole in `reasons_sealed`, `reasons` left with code, rule and version. */
export class OutcomeReasonsPlainRows implements PlainRowSealer {
  readonly table = 'outcome_history';

  constructor(
    private readonly keys: PersonKeyColumn,
    private readonly personal: PersonalDataSealer,
  ) {}

  async countPlain(manager: EntityManager): Promise<number> {
    const [row]: { n: number }[] = await manager.query(`SELECT count(*)::int AS n FROM outcome_history WHERE reasons_sealed IS NULL`);
    return Number(row?.n ?? 0);
  }

  async sealPlainRows(manager: EntityManager, after: string | null, limit: number): Promise<{ last: string | null; sealed: number }> {
    const rows: { event_id: string; person_key: string; reasons: { code: string; rule: string; ruleVersion: number }[] }[] = await manager.query(
      `SELECT event_id, person_key, reasons FROM outcome_history
        WHERE reasons_sealed IS NULL AND ($1::text IS NULL OR event_id > $1) ORDER BY event_id LIMIT $2 FOR UPDATE`,
      [after, limit],
    );
    if (rows.length === 0) return { last: null, sealed: 0 };
    const sealed = await this.personal.seal(OUTCOME_REASONS, rows.map((r) => ({ personKey: this.keys.key(r.person_key), value: r.reasons })));
    const kept = rows.flatMap((r, i) => {
      const bytes = sealed[i];
      return bytes ? [{ event_id: r.event_id, reasons: r.reasons.map((x) => ({ code: x.code, rule: x.rule, ruleVersion: x.ruleVersion })), sealed: bytes.toString('base64') }] : [];
    });
    if (kept.length > 0) {
      await manager.query(
        `UPDATE outcome_history h SET reasons = k.reasons, reasons_sealed = decode(k.sealed, 'base64')
           FROM jsonb_to_recordset($1::jsonb) AS k(event_id text, reasons jsonb, sealed text) WHERE h.event_id = k.event_id`,
        [JSON.stringify(kept)],
      );
    }
    return { last: (rows[rows.length - 1] as { event_id: string }).event_id, sealed: kept.length };
  }
}

/** `person_link` rows that keep the citizen ID as sent plain: sealed under the link's person, the plain column nulled; key order `link_id`. */
export class PersonLinkPlainRows implements PlainRowSealer {
  readonly table = 'person_link';

  constructor(
    private readonly keys: PersonKeyColumn,
    private readonly personal: PersonalDataSealer,
  ) {}

  async countPlain(manager: EntityManager): Promise<number> {
    const [row]: { n: number }[] = await manager.query(`SELECT count(*)::int AS n FROM person_link WHERE citizen_id_as_sent IS NOT NULL`);
    return Number(row?.n ?? 0);
  }

  async sealPlainRows(manager: EntityManager, after: string | null, limit: number): Promise<{ last: string | null; sealed: number }> {
    const rows: { link_id: string; record_key: string; person_key: string; citizen_id_as_sent: string }[] = await manager.query(
      `SELECT link_id, record_key, person_key, citizen_id_as_sent FROM person_link
        WHERE citizen_id_as_sent IS NOT NULL AND ($1::text IS NULL OR link_id > $1) ORDER BY link_id LIMIT $2 FOR UPDATE`,
      [after, limit],
    );
    if (rows.length === 0) return { last: null, sealed: 0 };
    const sealed = await this.personal.seal(CITIZEN_ID_AS_SENT, rows.map((r) => ({ personKey: this.keys.key(r.person_key), value: r.citizen_id_as_sent })));
    const kept = rows.flatMap((r, i) => {
      const bytes = sealed[i];
      return bytes ? [{ record_key: r.record_key, person_key: r.person_key, sealed: bytes.toString('base64') }] : [];
    });
    if (kept.length > 0) {
      await manager.query(
        `UPDATE person_link l SET citizen_id_as_sent = NULL, citizen_id_as_sent_sealed = decode(k.sealed, 'base64')
           FROM jsonb_to_recordset($1::jsonb) AS k(record_key text, person_key text, sealed text) WHERE l.record_key = k.record_key AND l.person_key = k.person_key`,
        [JSON.stringify(kept)],
      );
    }
    return { last: (rows[rows.length - 1] as { link_id: string }).link_id, sealed: kept.length };
  }
}

/** A blocking key as written before the blind index (`s<i>:` or `t<i>:` and digits). */
const PLAIN_BLOCK_KEY = `block_key ~ '^[st][0-9]{1,2}:'`;

/** `link_waiting` rows whose blocking key is the key itself: replaced by its blind index; key order `<block key> <record key>`. */
export class LinkWaitingPlainRows implements PlainRowSealer {
  readonly table = 'link_waiting';

  constructor(private readonly personal: PersonalDataSealer) {}

  async countPlain(manager: EntityManager): Promise<number> {
    const [row]: { n: number }[] = await manager.query(`SELECT count(*)::int AS n FROM link_waiting WHERE ${PLAIN_BLOCK_KEY}`);
    return Number(row?.n ?? 0);
  }

  async sealPlainRows(manager: EntityManager, after: string | null, limit: number): Promise<{ last: string | null; sealed: number }> {
    const key = `block_key || ' ' || record_key`;
    const rows: { block_key: string; record_key: string; k: string }[] = await manager.query(
      `SELECT block_key, record_key, ${key} AS k FROM link_waiting
        WHERE ${PLAIN_BLOCK_KEY} AND ($1::text IS NULL OR ${key} > $1) ORDER BY ${key} LIMIT $2 FOR UPDATE`,
      [after, limit],
    );
    if (rows.length === 0) return { last: null, sealed: 0 };
    const refs = await Promise.all(rows.map((r) => blockRefOf(this.personal, r.block_key)));
    // Delete and insert (the indexed row may exist already: the record was written again since).
    await manager.query(`DELETE FROM link_waiting w USING unnest($1::text[], $2::text[]) AS p(block_key, record_key) WHERE w.block_key = p.block_key AND w.record_key = p.record_key`, [
      rows.map((r) => r.block_key),
      rows.map((r) => r.record_key),
    ]);
    await manager.query(`INSERT INTO link_waiting (block_key, record_key) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING`, [refs, rows.map((r) => r.record_key)]);
    return { last: (rows[rows.length - 1] as { k: string }).k, sealed: rows.length };
  }
}
