import { randomUUID } from 'crypto';
import type { RegistrationEvent } from '@qmcb/contracts';
import { quietLogger } from './logger';
import type { Logger } from './logger';
import { sealerFor } from './seal';
import { CLIENT_RETRY, createKafka, topicOffsets } from './settings';
import type { KafkaSettings } from './settings';

export interface TopicRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * Reads a topic from its first offset up to the high watermarks taken at the start, in partition
 * then offset order (tests, the demo, tooling). Uses a throw-away consumer group it deletes after.
 */
export async function readTopic(
  settings: KafkaSettings,
  topic: string = settings.topic,
  opts: { timeoutMs?: number; logger?: Logger } = {},
): Promise<TopicRecord[]> {
  const logger = opts.logger ?? quietLogger();
  const kafka = createKafka(settings, logger);
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `qmcb.read.${randomUUID()}`;
  try {
    const targets = (await topicOffsets(admin, topic)).filter((o) => o.high > o.low);
    if (targets.length === 0) return [];
    const want = new Map(targets.map((t) => [t.partition, t.high]));
    const byPartition = new Map<number, TopicRecord[]>();
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 200,
      allowAutoTopicCreation: false,
      retry: CLIENT_RETRY,
    });
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const reached = new Set<number>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const high = want.get(batch.partition);
          if (high === undefined) return;
          const list = byPartition.get(batch.partition) ?? [];
          byPartition.set(batch.partition, list);
          for (const m of batch.messages) {
            if (BigInt(m.offset) >= high) break;
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(m.headers ?? {})) {
              const first = Array.isArray(v) ? v[0] : v;
              if (first !== undefined) headers[k] = Buffer.isBuffer(first) ? first.toString() : String(first);
            }
            list.push({ topic, partition: batch.partition, offset: m.offset, key: m.key?.toString() ?? null, value: m.value, headers });
          }
          if (BigInt(batch.lastOffset()) + 1n >= high) reached.add(batch.partition);
          if (reached.size === want.size) done();
        },
      });
      const timeoutMs = opts.timeoutMs ?? 60_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        finished,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`reading ${topic} did not reach the high watermarks within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
    } finally {
      await consumer.disconnect();
    }
    const out: TopicRecord[] = [];
    for (const p of [...byPartition.keys()].sort((a, b) => a - b)) {
      const seen = new Set<string>();
      for (const r of byPartition.get(p) ?? []) {
        // A refetch after a retry may hand the same offsets over twice.
        if (seen.has(r.offset)) continue;
        seen.add(r.offset);
        out.push(r);
      }
    }
    return out;
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

/**
 * readTopic, each value opened (ADR 0009), decoded and validated as an event (throws on a contract
 * violation or a sealed part that does not open). Events of erased persons are left out.
 */
export async function readEvents(settings: KafkaSettings, topic: string = settings.topic): Promise<RegistrationEvent[]> {
  const records = await readTopic(settings, topic);
  const opened = await (await sealerFor(settings)).open(records.map((r) => r.value));
  return opened.flatMap((o) => {
    if (o.kind === 'violation') throw o.violation;
    return o.kind === 'event' ? [o.event] : [];
  });
}
