import type { QueryRunner } from 'typeorm';
import { sql } from './sql';

/**
 * Outbox rows hold the plain event (citizen ID, payload) only until the log has it (ADR 0009): once
 * published, the person key and the payload are removed from the body and the person key column
 * cleared, in the relay's transaction. What stays is what the log itself shows readable (event ID,
 * type, times, source, actor, correlation), so an operator can still tell what a row published, and
 * the row, so a retried enqueue of the same event ID is still recognised.
 *
 * Marked published and scrubbed in one statement: one new row version per published row, not two
 * (a second update of the same rows in the same transaction wrote every row, and its jsonb, twice).
 */
export async function markPublishedAndScrub(qr: QueryRunner, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql(qr, `update outbox set published_at = now(), event = event - 'personKey' - 'payload', person_key = '' where id = any($1::bigint[])`, [ids]);
}
