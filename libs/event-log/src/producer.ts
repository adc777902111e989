import { currentVersion, encodeEvent } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { Partitioners } from 'kafkajs';
import type { Kafka, Message, Producer } from 'kafkajs';
import { jsonLogger } from './logger';
import type { Logger } from './logger';
import { metrics } from './metrics';
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

/** Builds the Kafka messages for events, validating every one before any is sent. */
export function toMessages(events: RegistrationEvent[]): Message[] {
  return events.map((event) => ({
    key: event.personKey,
    value: encodeEvent(event),
    headers: {
      [HEADER.eventType]: event.type,
      [HEADER.schemaVersion]: String(currentVersion(event.type)),
      [HEADER.eventId]: event.eventId,
    },
  }));
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
  ) {}

  static async connect(settings: KafkaSettings, opts: EventLogProducerOptions = {}): Promise<EventLogProducer> {
    const logger = opts.logger ?? jsonLogger('event-log.producer');
    const producer = await connectProducer(createKafka(settings, logger));
    return new EventLogProducer(producer, settings, logger);
  }

  /**
   * Appends events to the log, keyed by person key. Validates the whole batch first (throws
   * ContractViolationError before anything is sent); resolves only once all in-sync replicas
   * acknowledged.
   */
  async append(events: RegistrationEvent[]): Promise<void> {
    if (this.closed) throw new Error('EventLogProducer is disconnected');
    const messages = toMessages(events);
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
