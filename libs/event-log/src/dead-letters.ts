import { ContractViolationError, decodeEvent } from '@qmcb/contracts';
import type { DataSource } from 'typeorm';
import { applyEvents } from './apply';
import type { ProjectionHandler } from './apply';
import { errorInfo, jsonLogger } from './logger';
import type { Logger } from './logger';
import { holdSwapLockShared, int, sql, text } from './sql';
import type { Row } from './sql';

export interface ReplayDeadLettersOptions {
  /** The DataSource of the projection's schema. */
  dataSource: DataSource;
  handler: ProjectionHandler;
  /** Only these dead-letter ids; default: every one not yet replayed. */
  ids?: (number | string)[];
  logger?: Logger;
}

function rawBytes(row: Row): Buffer | null {
  const v = row['raw'];
  return Buffer.isBuffer(v) ? v : null;
}

/**
 * Re-applies dead letters (in id order) through the handler, each in its own transaction, and
 * marks them replayed. One that still fails (or still violates its contract) stays pending.
 * Returns how many were replayed.
 */
export async function replayDeadLetters(opts: ReplayDeadLettersOptions): Promise<number> {
  const logger = opts.logger ?? jsonLogger('event-log.dead-letters');
  const ids = opts.ids?.map(String) ?? null;
  const { rows } = await sql(
    opts.dataSource.manager,
    `select id, event_id, partition, "offset", raw from dead_letter
      where replayed_at is null and ($1::bigint[] is null or id = any($1::bigint[]))
      order by id`,
    [ids],
  );
  let replayed = 0;
  for (const row of rows) {
    const id = text(row, 'id');
    try {
      const event = decodeEvent(rawBytes(row));
      await opts.dataSource.transaction(async (manager) => {
        await holdSwapLockShared(manager);
        const partition = int(row, 'partition');
        await applyEvents(manager, opts.handler, [{ event, partition, offset: text(row, 'offset') }], { rebuilding: false, partition });
        await sql(manager, `update dead_letter set replayed_at = now() where id = $1`, [id]);
      });
      replayed += 1;
      logger.log('dead letter replayed', { id, eventId: event.eventId });
    } catch (e) {
      const kind = e instanceof ContractViolationError ? 'still violates its contract' : 'still fails';
      logger.warn(`dead letter ${kind}`, { id, eventId: row['event_id'] ?? null, ...errorInfo(e) });
    }
  }
  return replayed;
}
