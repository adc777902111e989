import type { QueryRunner } from 'typeorm';
import { sql } from './sql';

/**
 * Outbox rows are sealed when enqueued (ADR 0009, amended): `event` is the sealed envelope and
 * `person_key` the person ref. Rows enqueued plain by an earlier version hold the plain event (citizen
 * ID, payload) until the log has it. Once published, either kind is scrubbed to what the log shows
 * readable (event ID, type, times, source, actor, correlation, and the person ref of a sealed row):
 * the person key, the payload and the sealed part are removed from the body and the person key column
 * cleared, in the relay's transaction. The row stays, so a retried enqueue of the same event ID is
 * still recognised, and an operator can still tell what a row published.
 *
 * Marked published and scrubbed in one statement: one new row version per published row, not two
 * (a second update of the same rows in the same transaction wrote every row, and its jsonb, twice).
 */
export async function markPublishedAndScrub(qr: QueryRunner, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql(qr, `update outbox set published_at = now(), event = event - 'personKey' - 'payload' - 'sealed', person_key = '' where id = any($1::bigint[])`, [ids]);
}
