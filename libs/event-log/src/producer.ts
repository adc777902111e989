import { currentVersion, parseEvent } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { Partitioners } from 'kafkajs';
import type { Kafka, Message, Producer } from 'kafkajs';
import { jsonLogger } from './logger';
import type { Logger } from './logger';
import { metrics } from './metrics';
import { sealerFor } from './seal';
import type { LogSealer } from './seal';
import { CLIENT_RETRY, createKafka } from './settings';
import type { KafkaSettings } from './settings';

export const HEADER = {
  eventType: 'event-type',
  schemaVersion: 'schema-version',
  eventId: 'event-id',
} as const;

/**
 * Idempotent, acks from all in-sync replicas, one request in flight so a retried request cannot
 * reorder a person's events. Retries are bounded so that a caller is never held forever; a send
 * that failed after reaching the broker is re-sent by the caller and deduplicated by event ID.
 */
export async function connectProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: CLIENT_RETRY,
  });
  await producer.connect();
  return producer;
}

/**
 * The most message bytes sent in one produce request: a broker refuses a record batch larger than
 * its message.max.bytes (1 MiB by default), and one request's messages for a partition form one batch.
 */
export const MAX_SEND_BYTES = 512 * 1024;

/** Sends in requests of at most MAX_SEND_BYTES, one after the other (order kept: one request in flight). */
export async function sendAcked(producer: Producer, topic: string, messages: Message[]): Promise<void> {
  let chunk: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = (message.value as Buffer | string | null)?.length ?? 0;
    if (chunk.length > 0 && bytes + size > MAX_SEND_BYTES) {
      await producer.send({ topic, acks: -1, timeout: 30_000, messages: chunk });
      chunk = [];
      bytes = 0;
    }
    chunk.push(message);
    bytes += size;
  }
  if (chunk.length) await producer.send({ topic, acks: -1, timeout: 30_000, messages: chunk });
}

/**
 * The Kafka messages of sealed events (ADR 0009): keyed by person ref, the value the sealed
 * envelope; headers carry only what is readable in the value anyway.
 */
export function toMessages(sealed: readonly { event: RegistrationEvent; key: string; value: Buffer }[]): Message[] {
  return sealed.map(({ event, key, value }) => ({
    key,
    value,
    headers: {
      [HEADER.eventType]: event.type,
      [HEADER.schemaVersion]: String(currentVersion(event.type)),
      [HEADER.eventId]: event.eventId,
    },
  }));
}

/**
 * Validates every event (throws ContractViolationError before anything is sealed or sent), then
 * seals them. Events of erased persons are left out, counted and logged by person ref only.
 */
export async function sealForLog(sealer: LogSealer, events: readonly RegistrationEvent[], logger: Logger): Promise<Message[]> {
  const parsed = events.map((e) => parseEvent(e, { owned: true }));
  if (parsed.length === 0) return [];
  const { sealed, erased } = await sealer.seal(parsed);
  for (const { event, personRef } of erased) {
    metrics.erasedDropped.inc();
    logger.warn('event of an erased person not appended', { personRef, eventId: event.eventId, type: event.type });
  }
  return toMessages(sealed);
}

export interface EventLogProducerOptions {
  logger?: Logger;
}

export class EventLogProducer {
  private closed = false;

  private constructor(
    private readonly producer: Producer,
    readonly settings: KafkaSettings,
    private readonly logger: Logger,
    private readonly sealer: LogSealer,
  ) {}

  static async connect(settings: KafkaSettings, opts: EventLogProducerOptions = {}): Promise<EventLogProducer> {
    const logger = opts.logger ?? jsonLogger('event-log.producer');
    const sealer = await sealerFor(settings);
    const producer = await connectProducer(createKafka(settings, logger));
    return new EventLogProducer(producer, settings, logger, sealer);
  }

  /**
   * Appends events to the log, sealed and keyed by person ref (ADR 0009). Validates the whole batch
   * first (throws ContractViolationError before anything is sent); resolves only once all in-sync
   * replicas acknowledged. Events of erased persons are not appended.
   */
  async append(events: RegistrationEvent[]): Promise<void> {
    if (this.closed) throw new Error('EventLogProducer is disconnected');
    const messages = await sealForLog(this.sealer, events, this.logger);
    if (messages.length === 0) return;
    await sendAcked(this.producer, this.settings.topic, messages);
    metrics.appended.inc(messages.length);
  }

  async disconnect(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.producer.disconnect();
    this.logger.log('producer disconnected', { topic: this.settings.topic });
  }
}

/** What the outbox relay needs from a producer. */
export type EventAppender = Pick<EventLogProducer, 'append'>;
