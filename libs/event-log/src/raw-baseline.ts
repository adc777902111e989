import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { KafkaSettings } from './settings';

export interface RawKafkaResult {
  events: number;
  seconds: number;
  /** Milliseconds from send to consume, sorted ascending. */
  latenciesMs: number[];
}

/**
 * The baseline of the benchmarks (bench/): the same payloads produced (idempotent, acks=all, batches of
 * `batchSize`) and consumed with plain kafkajs, no PostgreSQL, no validation. Here because kafkajs stays
 * behind this library (ARCHITECTURE.md: The log); the topic must exist and be empty.
 */
export async function measureRawKafka(settings: Pick<KafkaSettings, 'brokers'>, topic: string, payloads: readonly { key: string; value: Buffer }[], batchSize: number): Promise<RawKafkaResult> {
  const kafka = new Kafka({ clientId: 'bench-raw', brokers: settings.brokers, logLevel: logLevel.WARN });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: `bench-raw-${Date.now()}` });
  await Promise.all([producer.connect(), consumer.connect()]);
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const latencies: number[] = [];
    let done: () => void = () => undefined;
    const finished = new Promise<void>((r) => (done = r));
    await consumer.run({
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const now = Date.now();
        for (const m of batch.messages) {
          latencies.push(now - Number(m.headers?.['sent-at']?.toString()));
          resolveOffset(m.offset);
        }
        await heartbeat();
        if (latencies.length >= payloads.length) done();
      },
    });
    const t0 = Date.now();
    for (let i = 0; i < payloads.length; i += batchSize) {
      const sentAt = String(Date.now());
      await producer.send({ topic, acks: -1, messages: payloads.slice(i, i + batchSize).map((p) => ({ ...p, headers: { 'sent-at': sentAt } })) });
    }
    await finished;
    const seconds = (Date.now() - t0) / 1000;
    return { events: payloads.length, seconds, latenciesMs: latencies.sort((a, b) => a - b) };
  } finally {
    await Promise.all([consumer.disconnect(), producer.disconnect()]);
  }
}
