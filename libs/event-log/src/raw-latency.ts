import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { KafkaSettings } from './settings';

export interface RawPacedResult {
  events: number;
  seconds: number;
  /** Milliseconds from the acknowledged send to the consumer seeing the message, sorted ascending. */
  latenciesMs: number[];
}

/**
 * The baseline of bench/latency.bench.ts: the same payloads produced at a steady rate (`batchSize`
 * messages every batchSize/ratePerSecond seconds, open loop: a send never waits for the previous
 * one) with an idempotent producer (acks=all) and consumed by one plain kafkajs consumer (no
 * PostgreSQL, no validation). Latency runs from the acknowledgement of the send (as a 202 is sent
 * once the log acknowledged) to the consumer's eachBatch; a message seen before its send was
 * acknowledged counts as 0. Here because kafkajs stays behind this library; the topic must exist.
 */
export async function measureRawKafkaPaced(
  settings: Pick<KafkaSettings, 'brokers'>,
  topic: string,
  payloads: readonly { key: string; value: Buffer }[],
  opts: { ratePerSecond: number; batchSize: number },
): Promise<RawPacedResult> {
  const kafka = new Kafka({ clientId: 'bench-raw-paced', brokers: settings.brokers, logLevel: logLevel.WARN });
  // Sends overlap when the broker is slower than the pace (open loop), so in-flight requests are not limited to 1.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: `bench-raw-paced-${Date.now()}` });
  await Promise.all([producer.connect(), consumer.connect()]);
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const ackedAt = new Map<string, number>();
    const seenAt = new Map<string, number>();
    let done: () => void = () => undefined;
    const finished = new Promise<void>((r) => (done = r));
    await consumer.run({
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const now = Date.now();
        for (const m of batch.messages) {
          seenAt.set(m.headers?.['seq']?.toString() ?? '', now);
          resolveOffset(m.offset);
        }
        await heartbeat();
        if (seenAt.size >= payloads.length) done();
      },
    });
    // The consumer joins before the first send, so the first messages do not wait for the group.
    await new Promise((r) => setTimeout(r, 3_000));
    const t0 = Date.now();
    const sends: Promise<void>[] = [];
    for (let i = 0, k = 0; i < payloads.length; i += opts.batchSize, k += 1) {
      const due = t0 + (k * opts.batchSize * 1000) / opts.ratePerSecond;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const slice = payloads.slice(i, i + opts.batchSize).map((p, j) => ({ ...p, headers: { seq: String(i + j) } }));
      sends.push(
        producer.send({ topic, acks: -1, messages: slice }).then(() => {
          const at = Date.now();
          for (const m of slice) ackedAt.set(m.headers.seq, at);
        }),
      );
    }
    await Promise.all(sends);
    await finished;
    const seconds = (Date.now() - t0) / 1000;
    const latenciesMs = [...ackedAt].map(([seq, at]) => Math.max(0, (seenAt.get(seq) ?? at) - at)).sort((a, b) => a - b);
    return { events: payloads.length, seconds, latenciesMs };
  } finally {
    await Promise.all([consumer.disconnect(), producer.disconnect()]);
  }
}
