import { Injectable } from '@nestjs/common';
import type { LinkStatus } from '@qmcb/domain';
import { PersonalDataSealer, PersonKeyColumn } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';
import type { LinkRow, LinkState } from './link.decider';

/** A row as stored: both keys as `PersonKeyColumn` stores them, the ID as sent sealed (or plain in a row written before). */
interface Row {
  record_key: string;
  person_key: string;
  link_id: string;
  status: LinkStatus;
  score: number | null;
  citizen_id_as_sent: string | null;
  citizen_id_as_sent_sealed: Buffer | null;
}

const COLUMNS = 'record_key, person_key, link_id, status, score, citizen_id_as_sent, citizen_id_as_sent_sealed';

/** Where the ID as sent is sealed (the AAD's place, ADR 0011). */
export const CITIZEN_ID_AS_SENT = 'person_link.citizen_id_as_sent';

/**
 * What `link_waiting.block_key` holds for a blocking key: an HMAC under the log's person ref secret
 * (ADR 0009's, of `link-block:<key>`: equal keys meet, and no digit of the ID is kept).
 */
export function blockRefOf(personal: PersonalDataSealer, blockKey: string): Promise<string> {
  return personal.personRef(`link-block:${blockKey}`);
}

/**
 * All SQL of `person_link` and `link_waiting` (migrations IdentityLinks1700000010100,
 * PersonLinkSealed1764979200000). At rest (ADR 0011) `record_key` and `person_key` hold person IDs
 * (`PersonKeyColumn`), converted here both ways, and the citizen ID as sent is sealed under the
 * data key of the link's person (its link event's person); everything this takes and returns is in
 * person keys and plain values. `link_waiting.block_key` holds a blind index of each blocking key
 * (`blockRefs`): the keys are a mistyped ID's 17 digits with one blanked or two swapped.
 */
@Injectable()
export class PersonLinkRepository {
  constructor(
    private readonly keys: PersonKeyColumn,
    private readonly personal: PersonalDataSealer,
  ) {}

  /** What `block_key` holds for blocking keys, in order (`blockRefOf`). */
  private blockRefs(blockKeys: readonly string[]): Promise<string[]> {
    return Promise.all(blockKeys.map((k) => blockRefOf(this.personal, k)));
  }

  /** The links of stored rows, in their order: keys back to person keys, IDs as sent opened (one keyring look-up). */
  private async toLinks(rows: readonly Row[]): Promise<LinkRow[]> {
    const links = rows.map((r) => ({ recordKey: this.keys.key(r.record_key), personKey: this.keys.key(r.person_key), linkId: r.link_id, status: r.status, score: r.score }));
    const sent = await this.personal.open<string | null>(
      CITIZEN_ID_AS_SENT,
      rows.map((r, i) => ({ personKey: (links[i] as LinkRow).personKey, sealed: r.citizen_id_as_sent_sealed, plain: r.citizen_id_as_sent })),
    );
    // An erased person's ID as sent no longer opens: their rows are being deleted with them.
    return links.map((l, i) => ({ ...l, citizenIdAsSent: sent[i] ?? null }));
  }

  /** Every link of records in `recordKeys`, or to persons in `personKeys`, grouped by record key (each record key's whole state). */
  async statesInvolving(manager: EntityManager, recordKeys: readonly string[], personKeys: readonly string[]): Promise<Map<string, LinkState>> {
    const out = new Map<string, LinkState>();
    if (recordKeys.length === 0 && personKeys.length === 0) return out;
    const rows: Row[] = await manager.query(
      `SELECT ${COLUMNS} FROM person_link
        WHERE record_key IN (SELECT record_key FROM person_link WHERE record_key = ANY($1::text[]) OR (person_key = ANY($2::text[]) AND status <> 'rejected'))
        ORDER BY record_key, person_key`,
      [this.keys.storedAll(new Set(recordKeys)), this.keys.storedAll(new Set(personKeys))],
    );
    for (const link of await this.toLinks(rows)) {
      const state = out.get(link.recordKey) ?? { recordKey: link.recordKey, links: [] };
      state.links.push(link);
      out.set(link.recordKey, state);
    }
    // A state's links in person key order, as the decider keeps them (the rows came in stored order).
    for (const state of out.values()) state.links.sort((a, b) => (a.personKey < b.personKey ? -1 : a.personKey > b.personKey ? 1 : 0));
    return out;
  }

  /** Replaces the links of these record keys by their states, in two statements. */
  async saveStates(manager: EntityManager, states: readonly LinkState[]): Promise<void> {
    if (states.length === 0) return;
    await manager.query(`DELETE FROM person_link WHERE record_key = ANY($1::text[])`, [this.keys.storedAll(states.map((s) => s.recordKey))]);
    const rows = states.flatMap((s) => s.links);
    if (rows.length === 0) return;
    // Sealed under the link's person (one keyring call); null when they were erased meanwhile (the erasure deletes the row).
    const withSent = rows.filter((l) => l.citizenIdAsSent !== null);
    const sealed = await this.personal.seal(CITIZEN_ID_AS_SENT, withSent.map((l) => ({ personKey: l.personKey, value: l.citizenIdAsSent })));
    const sealedOf = new Map(withSent.map((l, i) => [l, sealed[i] ?? null]));
    // Another partition may write the same record key's links (the person's side of a link): upsert.
    await manager.query(
      `INSERT INTO person_link (record_key, person_key, link_id, status, score, citizen_id_as_sent, citizen_id_as_sent_sealed)
       SELECT l.record_key, l.person_key, l.link_id, l.status, l.score, NULL, decode(l.sent_sealed, 'base64')
         FROM jsonb_to_recordset($1::jsonb) AS l(record_key text, person_key text, link_id text, status text, score int, sent_sealed text)
       ON CONFLICT (record_key, person_key) DO UPDATE
         SET link_id = EXCLUDED.link_id, status = EXCLUDED.status, score = EXCLUDED.score,
             citizen_id_as_sent = NULL, citizen_id_as_sent_sealed = EXCLUDED.citizen_id_as_sent_sealed`,
      [
        JSON.stringify(
          rows.map((l) => ({
            record_key: this.keys.stored(l.recordKey),
            person_key: this.keys.stored(l.personKey),
            link_id: l.linkId,
            status: l.status,
            score: l.score,
            sent_sealed: sealedOf.get(l)?.toString('base64') ?? null,
          })),
        ),
      ],
    );
  }

  /**
   * Orders looking for a record's person against people arriving (docs/design/identity-linking.md):
   * a batch with household records holds this lock shared to its end, so a household the search
   * cannot see yet is one whose probe will see the records waiting for it.
   */
  async holdArrivals(manager: EntityManager): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock_shared(hashtext('qmcb.identity-link.' || current_schema()))`);
  }

  /**
   * A search takes the lock exclusive, without waiting (a batch already holding it shared must never
   * wait for another: no upgrade deadlock); false when households are being written elsewhere, then
   * the search is repeated once they are committed.
   */
  async trySearchAlone(manager: EntityManager): Promise<boolean> {
    const rows: { alone: boolean }[] = await manager.query(`SELECT pg_try_advisory_xact_lock(hashtext('qmcb.identity-link.' || current_schema())) AS alone`);
    return rows[0]?.alone === true;
  }

  async anyWaiting(manager: EntityManager): Promise<boolean> {
    const rows: { waiting: boolean }[] = await manager.query(`SELECT EXISTS (SELECT 1 FROM link_waiting) AS waiting`);
    return rows[0]?.waiting === true;
  }

  /** Record keys waiting under any of these blocking keys. */
  async waitingUnder(manager: EntityManager, blockKeys: readonly string[]): Promise<string[]> {
    if (blockKeys.length === 0) return [];
    const keys = [...new Set(blockKeys)];
    // A row written before the blind index holds the key itself: found too, until it is written again.
    const rows: { record_key: string }[] = await manager.query(`SELECT DISTINCT record_key FROM link_waiting WHERE block_key = ANY($1::text[])`, [[...(await this.blockRefs(keys)), ...keys]]);
    // In record key order, whatever the stored order.
    return rows.map((r) => this.keys.key(r.record_key)).sort();
  }

  /** Sets which of these record keys wait, under which blocking keys (an empty list: not waiting). */
  async setWaiting(manager: EntityManager, waiting: ReadonlyMap<string, readonly string[]>): Promise<void> {
    if (waiting.size === 0) return;
    await manager.query(`DELETE FROM link_waiting WHERE record_key = ANY($1::text[])`, [this.keys.storedAll(waiting.keys())]);
    const blockKeys: string[] = [];
    const recordKeys: string[] = [];
    for (const [recordKey, keys] of waiting) {
      for (const key of keys) {
        blockKeys.push(key);
        recordKeys.push(this.keys.stored(recordKey));
      }
    }
    if (blockKeys.length === 0) return;
    await manager.query(`INSERT INTO link_waiting (block_key, record_key) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING`, [await this.blockRefs(blockKeys), recordKeys]);
  }

  /** The active links (proposed or confirmed) of records or persons among `keys`: for the exchange and the views. */
  async activeInvolving(manager: EntityManager, keys: readonly string[]): Promise<LinkRow[]> {
    if (keys.length === 0) return [];
    const rows: Row[] = await manager.query(
      `SELECT ${COLUMNS} FROM person_link
        WHERE status IN ('proposed', 'confirmed') AND (record_key = ANY($1::text[]) OR person_key = ANY($1::text[]))`,
      [this.keys.storedAll(new Set(keys))],
    );
    return byRecordThenPerson(await this.toLinks(rows));
  }

  /** Every link, for reports of linking (precision and recall on a synthetic county). */
  async all(manager: EntityManager): Promise<LinkRow[]> {
    const rows: Row[] = await manager.query(`SELECT ${COLUMNS} FROM person_link`);
    return byRecordThenPerson(await this.toLinks(rows));
  }
}

/** Links in record key, then person key order (the stored keys sort otherwise). */
function byRecordThenPerson(links: LinkRow[]): LinkRow[] {
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return links.sort((a, b) => cmp(a.recordKey, b.recordKey) || cmp(a.personKey, b.personKey));
}
