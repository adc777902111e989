import { ContractViolationError } from '@qmcb/contracts';
import type { DataSource } from 'typeorm';
import { applyEvents } from './apply';
import type { ProjectionHandler } from './apply';
import { errorInfo, jsonLogger } from './logger';
import type { Logger } from './logger';
import { sealerFor } from './seal';
import type { SealingSettings } from './seal';
import { holdSwapLockShared, int, sql, text } from './sql';
import type { Row } from './sql';

export interface ReplayDeadLettersOptions {
  /** The DataSource of the projection's schema. */
  dataSource: DataSource;
  handler: ProjectionHandler;
  /** Only these dead-letter ids; default: every one not yet replayed. */
  ids?: (number | string)[];
  /** The log's sealing settings (KafkaSettings carry them): dead letters hold sealed values. */
  settings: { sealing?: SealingSettings };
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
  const sealer = await sealerFor(opts.settings);
  for (const row of rows) {
    const id = text(row, 'id');
    try {
      const [opened] = await sealer.open([rawBytes(row)]);
      if (opened?.kind === 'violation') throw opened.violation;
      if (opened?.kind === 'shredded') {
        // The person was erased: nothing to apply, ever.
        await sql(opts.dataSource.manager, `update dead_letter set replayed_at = now(), reason = reason || ' (person erased)' where id = $1`, [id]);
        logger.log('dead letter of an erased person closed', { id, personRef: opened.personRef });
        continue;
      }
      if (opened?.kind !== 'event') throw new Error('the sealer returned nothing');
      const event = opened.event;
      await opts.dataSource.transaction(async (manager) => {
        await holdSwapLockShared(manager);
        const partition = int(row, 'partition');
        await applyEvents(manager, opts.handler, [{ event, partition, offset: text(row, 'offset') }], { rebuilding: false, partition, sealer });
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
