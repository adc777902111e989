import type { RegistrationEvent } from '@qmcb/contracts';
import type { Admin } from 'kafkajs';
import { silentLogger } from './logger';
import type { Logger } from './logger';
import { connectProducer, sealForLog } from './producer';
import { sealerFor } from './seal';
import { createKafka } from './settings';
import type { KafkaSettings } from './settings';
import { sleep } from './sql';

/** Where an appended event landed on the log. */
export interface LogPosition {
  partition: number;
  offset: bigint;
}

/**
 * Appends one event, sealed and keyed by person ref like every append (ADR 0009), and answers where
 * it landed (the erasure command waits for the consumer groups to pass it, ADR 0010). Null when the
 * event was not appended: its person is erased already.
 */
export async function appendOne(settings: KafkaSettings, event: RegistrationEvent, logger: Logger = silentLogger): Promise<LogPosition | null> {
  const sealer = await sealerFor(settings);
  const messages = await sealForLog(sealer, [event], logger);
  if (messages.length === 0) return null;
  const producer = await connectProducer(createKafka(settings, logger));
  try {
    const [meta] = await producer.send({ topic: settings.topic, acks: -1, timeout: 30_000, messages });
    if (!meta || meta.baseOffset === undefined) throw new Error(`the broker did not say where the event ${event.eventId} was appended`);
    return { partition: meta.partition, offset: BigInt(meta.baseOffset) };
  } finally {
    await producer.disconnect();
  }
}

/** A consumer group's committed position on one partition (null: it has committed none). */
export interface GroupPosition {
  groupId: string;
  committed: bigint | null;
  /** True when the group has committed past the awaited offset. */
  passed: boolean;
}

async function positions(admin: Admin, topic: string, partition: number, offset: bigint, groups: readonly string[]): Promise<GroupPosition[]> {
  const out: GroupPosition[] = [];
  for (const groupId of groups) {
    const fetched = await admin.fetchOffsets({ groupId, topics: [topic] });
    const p = fetched.find((t) => t.topic === topic)?.partitions.find((x) => x.partition === partition);
    const committed = p && p.offset !== '-1' && p.offset !== '' ? BigInt(p.offset) : null;
    out.push({ groupId, committed, passed: committed !== null && committed > offset });
  }
  return out;
}

export interface AwaitGroupsOptions {
  timeoutMs: number;
  /** How often the groups are asked; default 1 s. */
  pollMs?: number;
  /** Called with every answer (for progress lines). */
  onProgress?: (positions: GroupPosition[]) => void;
  logger?: Logger;
}

/**
 * Waits until every consumer group has committed past `offset` on `partition` of the log (kafkajs
 * admin fetchOffsets; the runtime commits a group's offset after the batch's PostgreSQL transaction,
 * so a group past the offset has applied the event). Resolves with the last positions; `passed` on
 * each says which groups got there when the time ran out.
 */
export async function awaitConsumerGroups(settings: KafkaSettings, at: LogPosition, groups: readonly string[], opts: AwaitGroupsOptions): Promise<{ passed: boolean; positions: GroupPosition[] }> {
  const admin = createKafka(settings, opts.logger ?? silentLogger).admin();
  await admin.connect();
  try {
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      const now = await positions(admin, settings.topic, at.partition, at.offset, groups);
      opts.onProgress?.(now);
      if (now.every((g) => g.passed)) return { passed: true, positions: now };
      if (Date.now() >= deadline) return { passed: false, positions: now };
      await sleep(Math.min(opts.pollMs ?? 1_000, Math.max(1, deadline - Date.now())));
    }
  } finally {
    await admin.disconnect();
  }
}
