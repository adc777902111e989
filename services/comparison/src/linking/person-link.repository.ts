import { Injectable } from '@nestjs/common';
import type { LinkStatus } from '@qmcb/domain';
import type { EntityManager } from 'typeorm';
import type { LinkRow, LinkState } from './link.decider';

interface Row {
  record_key: string;
  person_key: string;
  link_id: string;
  status: LinkStatus;
  score: number | null;
  citizen_id_as_sent: string | null;
}

const toLink = (r: Row): LinkRow => ({ recordKey: r.record_key, personKey: r.person_key, linkId: r.link_id, status: r.status, score: r.score, citizenIdAsSent: r.citizen_id_as_sent });

/** All SQL of `person_link` and `link_waiting` (migration IdentityLinks1700000010100). */
@Injectable()
export class PersonLinkRepository {
  /** Every link of records in `recordKeys`, or to persons in `personKeys`, grouped by record key (each record key's whole state). */
  async statesInvolving(manager: EntityManager, recordKeys: readonly string[], personKeys: readonly string[]): Promise<Map<string, LinkState>> {
    const out = new Map<string, LinkState>();
    if (recordKeys.length === 0 && personKeys.length === 0) return out;
    const rows: Row[] = await manager.query(
      `SELECT record_key, person_key, link_id, status, score, citizen_id_as_sent FROM person_link
        WHERE record_key IN (SELECT record_key FROM person_link WHERE record_key = ANY($1::text[]) OR (person_key = ANY($2::text[]) AND status <> 'rejected'))
        ORDER BY record_key, person_key`,
      [[...new Set(recordKeys)], [...new Set(personKeys)]],
    );
    for (const r of rows) {
      const state = out.get(r.record_key) ?? { recordKey: r.record_key, links: [] };
      state.links.push(toLink(r));
      out.set(r.record_key, state);
    }
    return out;
  }

  /** Replaces the links of these record keys by their states, in two statements. */
  async saveStates(manager: EntityManager, states: readonly LinkState[]): Promise<void> {
    if (states.length === 0) return;
    await manager.query(`DELETE FROM person_link WHERE record_key = ANY($1::text[])`, [states.map((s) => s.recordKey)]);
    const rows = states.flatMap((s) => s.links);
    if (rows.length === 0) return;
    // Another partition may write the same record key's links (the person's side of a link): upsert.
    await manager.query(
      `INSERT INTO person_link (record_key, person_key, link_id, status, score, citizen_id_as_sent)
       SELECT l.record_key, l.person_key, l.link_id, l.status, l.score, l.citizen_id_as_sent
         FROM jsonb_to_recordset($1::jsonb) AS l(record_key text, person_key text, link_id text, status text, score int, citizen_id_as_sent text)
       ON CONFLICT (record_key, person_key) DO UPDATE
         SET link_id = EXCLUDED.link_id, status = EXCLUDED.status, score = EXCLUDED.score, citizen_id_as_sent = EXCLUDED.citizen_id_as_sent`,
      [JSON.stringify(rows.map((l) => ({ record_key: l.recordKey, person_key: l.personKey, link_id: l.linkId, status: l.status, score: l.score, citizen_id_as_sent: l.citizenIdAsSent })))],
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
    const rows: { record_key: string }[] = await manager.query(
      `SELECT DISTINCT record_key FROM link_waiting WHERE block_key = ANY($1::text[]) ORDER BY record_key`,
      [[...new Set(blockKeys)]],
    );
    return rows.map((r) => r.record_key);
  }

  /** Sets which of these record keys wait, under which blocking keys (an empty list: not waiting). */
  async setWaiting(manager: EntityManager, waiting: ReadonlyMap<string, readonly string[]>): Promise<void> {
    if (waiting.size === 0) return;
    await manager.query(`DELETE FROM link_waiting WHERE record_key = ANY($1::text[])`, [[...waiting.keys()]]);
    const blockKeys: string[] = [];
    const recordKeys: string[] = [];
    for (const [recordKey, keys] of waiting) {
      for (const key of keys) {
        blockKeys.push(key);
        recordKeys.push(recordKey);
      }
    }
    if (blockKeys.length === 0) return;
    await manager.query(`INSERT INTO link_waiting (block_key, record_key) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING`, [blockKeys, recordKeys]);
  }

  /** The active links (proposed or confirmed) of records or persons among `keys`: for the exchange and the views. */
  async activeInvolving(manager: EntityManager, keys: readonly string[]): Promise<LinkRow[]> {
    if (keys.length === 0) return [];
    const rows: Row[] = await manager.query(
      `SELECT record_key, person_key, link_id, status, score, citizen_id_as_sent FROM person_link
        WHERE status IN ('proposed', 'confirmed') AND (record_key = ANY($1::text[]) OR person_key = ANY($1::text[]))
        ORDER BY record_key`,
      [[...new Set(keys)]],
    );
    return rows.map(toLink);
  }

  /** Every link, for reports of linking (precision and recall on a synthetic county). */
  async all(manager: EntityManager): Promise<LinkRow[]> {
    const rows: Row[] = await manager.query(`SELECT record_key, person_key, link_id, status, score, citizen_id_as_sent FROM person_link ORDER BY record_key, person_key`);
    return rows.map(toLink);
  }
}
