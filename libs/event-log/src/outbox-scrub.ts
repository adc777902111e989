import type { QueryRunner } from 'typeorm';
import { sql } from './sql';

/**
 * Outbox rows hold the plain event (citizen ID, payload) only until the log has it (ADR 0009): once
 * published, the body is reduced to its event ID and the person key cleared, in the relay's
 * transaction. The row stays, so a retried enqueue of the same event ID is still recognised.
 */
export async function scrubPublished(qr: QueryRunner, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql(qr, `update outbox set event = jsonb_build_object('eventId', event_id), person_key = '' where id = any($1::bigint[])`, [ids]);
}
