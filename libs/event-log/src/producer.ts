import { currentVersion, parseEvent } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { Partitioners } from 'kafkajs';
import type { Kafka, Message, Producer } from 'kafkajs';
import { jsonLogger } from './logger';
import type { Logger } from './logger';
import { metrics } from './metrics';
import { sealedValueOf, sealerFor } from './seal';
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

/**
 * An outbox row's event as the relay reads it: `sealed`, the envelope sealed when it was enqueued (in
 * the caller's transaction), or `plain`, a row written by a version that enqueued plain events.
 */
export type OutboxItem = { kind: 'sealed'; envelope: Record<string, unknown> } | { kind: 'plain'; event: RegistrationEvent };

/**
 * The messages of outbox rows, in their order: a sealed envelope is sent as sealed (its value
 * rebuilt byte for byte, not sealed again), a plain event is validated and sealed now (one keyring
 * call for all of them). Either is left out, counted and logged by person ref, when the person's key
 * is shredded (erased after the row was written): its sealed part could never be opened, and erased
 * persons get no new data on the log. Throws ContractViolationError on a row that is neither.
 */
export async function outboxMessages(sealer: LogSealer, items: readonly OutboxItem[], logger: Logger): Promise<Message[]> {
  const plain: RegistrationEvent[] = [];
  const sealedRefs: string[] = [];
  const prepared = items.map((item) => {
    if (item.kind === 'plain') {
      const event = parseEvent(item.event, { owned: true });
      plain.push(event);
      return { kind: 'plain' as const, event };
    }
    const { personRef, value } = sealedValueOf(item.envelope);
    sealedRefs.push(personRef);
    return { kind: 'sealed' as const, envelope: item.envelope, personRef, value };
  });
  const fromPlain = new Map<RegistrationEvent, Message>();
  if (plain.length > 0) {
    const { sealed, erased } = await sealer.seal(plain);
    toMessages(sealed).forEach((m, i) => fromPlain.set((sealed[i] as { event: RegistrationEvent }).event, m));
    for (const { event, personRef } of erased) {
      metrics.erasedDropped.inc();
      logger.warn('event of an erased person not appended', { personRef, eventId: event.eventId, type: event.type });
    }
  }
  // Sealed rows need no key, only to know the person was not erased since (cached, one query for the rest).
  const states = sealedRefs.length > 0 ? await sealer.keyring.get(sealedRefs) : new Map();
  const out: Message[] = [];
  for (const p of prepared) {
    if (p.kind === 'plain') {
      const m = fromPlain.get(p.event);
      if (m) out.push(m);
      continue;
    }
    const eventId = String(p.envelope['eventId']);
    const type = String(p.envelope['type']);
    if (states.get(p.personRef)?.kind === 'shredded') {
      metrics.erasedDropped.inc();
      logger.warn('event of an erased person not appended', { personRef: p.personRef, eventId, type });
      continue;
    }
    out.push({ key: p.personRef, value: p.value, headers: { [HEADER.eventType]: type, [HEADER.schemaVersion]: String(p.envelope['schemaVersion']), [HEADER.eventId]: eventId } });
  }
  return out;
}

export interface EventLogProducerOptions {
  logger?: Logger;
}

/** How long a disconnect waits for queued appends to be acknowledged. */
const DISCONNECT_DRAIN_MS = 10_000;

/** A caller's messages waiting for the producer, and how to answer it. */
interface Waiting {
  messages: Message[];
  bytes: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * The log's producer for a process: HTTP requests, the outbox relay and commands append through it
 * at the same time. With one produce request in flight (order and idempotence), each append used to
 * wait for every earlier one's round trip, so a process taking 20 requests a second was bounded by
 * the broker's round trip, and its relay waited behind them (issue 11). Appends are now grouped:
 * while a request is in flight, the messages of the appends that arrive meanwhile are queued and
 * go out together in the next request (up to MAX_SEND_BYTES a request; one caller's messages are
 * never split between groups and keep their order; callers keep the order in which they arrived).
 * Each caller is answered when its group is acknowledged by all in-sync replicas; if its group's
 * send fails, every caller of the group gets the error (and re-sends, deduplicated downstream by
 * event ID, as after any failed send): so when one partition's leader fails, callers whose messages
 * went to other partitions of the same group re-send too (the price of grouping, paid only while the
 * broker is failing). No append waits for a timer: a lone append is sent at once.
 */
export class EventLogProducer {
  private closed = false;
  private readonly waiting: Waiting[] = [];
  private sending: Promise<void> | null = null;

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
    await this.send(messages);
    metrics.appended.inc(messages.length);
  }

  /**
   * Appends outbox rows (OutboxItem), in order, in one go: sealed ones as they are, plain ones sealed
   * now; those of erased persons are left out. Resolves once all in-sync replicas acknowledged.
   */
  async appendOutbox(items: readonly OutboxItem[]): Promise<void> {
    if (this.closed) throw new Error('EventLogProducer is disconnected');
    const messages = await outboxMessages(this.sealer, items, this.logger);
    if (messages.length === 0) return;
    await this.send(messages);
    metrics.appended.inc(messages.length);
  }

  /** Queues a caller's messages; resolves once they are acknowledged (see the class). */
  private send(messages: Message[]): Promise<void> {
    // Sealed while disconnect() ran: refused as any append after it.
    if (this.closed) return Promise.reject(new Error('EventLogProducer is disconnected'));
    const bytes = messages.reduce((n, m) => n + ((m.value as Buffer | string | null)?.length ?? 0), 0);
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ messages, bytes, resolve, reject });
      if (!this.sending) this.sending = this.drain();
    });
  }

  /** Sends the queue group by group, one request in flight, until it is empty. */
  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      // At least one caller; more while the group stays within one request's bytes.
      let bytes = (this.waiting[0] as Waiting).bytes;
      let n = 1;
      while (n < this.waiting.length && bytes + (this.waiting[n] as Waiting).bytes <= MAX_SEND_BYTES) bytes += (this.waiting[n++] as Waiting).bytes;
      const group = this.waiting.splice(0, n);
      let failure: { error: unknown } | null = null;
      try {
        await sendAcked(this.producer, this.settings.topic, group.length === 1 ? (group[0] as Waiting).messages : group.flatMap((g) => g.messages));
      } catch (e) {
        failure = { error: e };
      }
      for (const g of group) {
        if (failure) g.reject(failure.error);
        else g.resolve();
      }
      if (!failure) metrics.produceGroups.inc();
    }
    this.sending = null;
  }

  async disconnect(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Appends already queued are sent (or fail) before the connection goes; with the broker away
    // that could take every queued group's retries, so a stop waits DISCONNECT_DRAIN_MS at most
    // (what is still queued then fails with the producer, and its callers re-send).
    if (this.sending) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.sending, new Promise<void>((resolve) => (timer = setTimeout(resolve, DISCONNECT_DRAIN_MS)))]);
      clearTimeout(timer);
    }
    await this.producer.disconnect();
    this.logger.log('producer disconnected', { topic: this.settings.topic });
  }
}

/** What appends events to the log (the bulk loader, tests). */
export type EventAppender = Pick<EventLogProducer, 'append'>;

/** What the outbox relay needs from a producer. */
export type OutboxPublisher = Pick<EventLogProducer, 'appendOutbox'>;
