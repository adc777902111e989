import { Server } from '@nestjs/microservices';
import type { CustomTransportStrategy, MessageHandler } from '@nestjs/microservices';
import { createSecretKey } from 'crypto';
import type { KeyObject } from 'crypto';
import { PERSON_ERASED } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { isPersonKey } from '@qmcb/domain';
import { durableCommitIfAsync, jsonLogger, personRefOf, ProjectionRunner, sealerFor } from '@qmcb/event-log';
import type { ConsumerTuning, KafkaSettings, LogSealer, ProjectionContext, ProjectionHandler } from '@qmcb/event-log';
import { AuditStore, maskFreeText } from '@qmcb/platform';
import type { PersonIds } from '@qmcb/platform';
import { lastValueFrom } from 'rxjs';
import type { DataSource } from 'typeorm';
import type { Logger } from '@qmcb/event-log';
import { PERSON_ERASURE } from './erasure';
import type { PersonErasedEvent } from './erasure';
import { LogContext, REGISTRATION_LOG } from './projection';

export interface LogTransportOptions {
  /** Projection name (metrics label, and the consumer group unless groupId is set). */
  name: string;
  dataSource: DataSource;
  schema: string;
  kafka: KafkaSettings;
  /** Whether this process consumes the log (false: it only serves HTTP, or runs an operator command). */
  consume: boolean;
  groupId: string;
  tuning: ConsumerTuning;
  /** The division the audit entries of an erasure are filed under (an operator has none: DEPLOYMENT_DIVISION). */
  auditDivision?: string | null;
  /** The deployment's person IDs: the audit entry of an erasure names the person by person ID. */
  personIds: PersonIds;
}

export class NoProjectionHandlerError extends Error {
  constructor(detail: string) {
    super(`${detail}: a service declares exactly one @EventPattern(REGISTRATION_LOG) handler in a @Projection() class`);
    this.name = 'NoProjectionHandlerError';
  }
}

/**
 * The registration log as a NestJS microservice transport (ADR 0003): a CustomTransportStrategy whose
 * server is the event-log's ProjectionRunner. Batches go to the `@EventPattern(REGISTRATION_LOG)`
 * handler through Nest (so its context, filters and injection apply), inside the runner's
 * transaction; checkpoint, dedupe, dead letters and rebuilds stay the runtime's (ADR 0001).
 *
 * It is also the service's ProjectionHandler for everything else that applies events to the
 * projection: HTTP decisions (Decisions), the rebuild and the dead-letter replay commands.
 */
export class LogTransport extends Server implements CustomTransportStrategy, ProjectionHandler {
  private runner: ProjectionRunner | null = null;
  private readonly refKey: KeyObject | null;
  private readonly log: Logger;

  constructor(private readonly options: LogTransportOptions) {
    super();
    const secret = options.kafka.sealing?.refSecret;
    this.refKey = secret ? createSecretKey(Buffer.from(secret, 'utf8')) : null;
    this.log = jsonLogger(`service-kit.${options.name}.erasure`);
  }

  /** Called by Nest when the microservice starts; starts consuming if this process consumes. */
  listen(callback: (error?: unknown, info?: unknown) => void): void {
    this.start().then(
      () => callback(),
      (e: unknown) => callback(e),
    );
  }

  private async start(): Promise<void> {
    this.projectionHandler();
    if (!this.options.consume || this.runner) return;
    const { name, dataSource, schema, kafka, groupId, tuning } = this.options;
    const runner = new ProjectionRunner({ name, dataSource, schema, handler: this, settings: kafka, groupId, consumer: tuning });
    await runner.start();
    this.runner = runner;
  }

  async close(): Promise<void> {
    const runner = this.runner;
    this.runner = null;
    await runner?.stop();
  }

  /** The process's sealer (keyring and person refs) for this service's log settings: what seals its outbox rows. */
  sealer(): Promise<LogSealer> {
    return sealerFor(this.options.kafka);
  }

  /** The runner of this process, while it consumes. */
  get projectionRunner(): ProjectionRunner | null {
    return this.runner;
  }

  /**
   * ProjectionHandler: one batch to the service's `@EventPattern(REGISTRATION_LOG)` handler. A
   * `person.erased` event goes, alone and in its place in the batch, to the `@EventPattern(PERSON_ERASURE)`
   * handler (ADR 0010): the events before it are handled first, then the person's rows deleted, and
   * the person recorded as erased (`erased_person`, by person ref); events of an erased person, in
   * this batch after the erasure or in any later one, are passed over.
   */
  async handle(events: readonly RegistrationEvent[], ctx: ProjectionContext): Promise<void> {
    const erased = await this.erasedAmong(events, ctx);
    if (erased.size === 0 && !events.some((e) => e.type === PERSON_ERASED)) {
      await this.dispatch(REGISTRATION_LOG, this.projectionHandler(), events, ctx);
      return;
    }
    let segment: RegistrationEvent[] = [];
    let passedOver = 0;
    for (const event of events) {
      if (erased.has(event.personKey)) {
        passedOver += 1;
        continue;
      }
      if (event.type !== PERSON_ERASED) {
        segment.push(event);
        continue;
      }
      if (segment.length > 0) await this.dispatch(REGISTRATION_LOG, this.projectionHandler(), segment, ctx);
      segment = [];
      await this.erase(event, ctx);
      erased.add(event.personKey);
    }
    if (segment.length > 0) await this.dispatch(REGISTRATION_LOG, this.projectionHandler(), segment, ctx);
    if (passedOver > 0) this.log.log('events of erased persons passed over', { projection: this.options.name, events: passedOver, rebuilding: ctx.rebuilding });
  }

  private async dispatch(pattern: string, handler: MessageHandler, payload: unknown, ctx: ProjectionContext): Promise<void> {
    const result: unknown = await handler(payload, new LogContext(ctx));
    await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
  }

  /** The person's rows deleted by the service's erasure handler, and the person recorded as erased. */
  private async erase(event: PersonErasedEvent, ctx: ProjectionContext): Promise<void> {
    const handler = this.getHandlerByPattern(PERSON_ERASURE);
    if (!handler) throw new NoProjectionHandlerError(`no erasure handler (@EventPattern(PERSON_ERASURE)) is registered to apply ${PERSON_ERASED}`);
    // Durable before the batch's offsets reach Kafka: `keyring erase` shreds the key once the groups
    // are past this event, and an asynchronous commit lost in a PostgreSQL crash could then never be
    // applied again (the event would no longer open).
    await durableCommitIfAsync(ctx.manager);
    await this.dispatch(PERSON_ERASURE, handler, event, ctx);
    const ref = this.refOf(event.personKey);
    if (!ctx.rebuilding) await this.auditErasure(event, ctx);
    if (ref) {
      await ctx.manager.query(`INSERT INTO erased_person (person_ref, event_id) VALUES ($1, $2) ON CONFLICT (person_ref) DO NOTHING`, [ref, event.eventId]);
    }
    this.log.log('person erased from the projection', { projection: this.options.name, personRef: ref, eventId: event.eventId, rebuilding: ctx.rebuilding });
  }

  /**
   * The erasure in the service's audit trail, in the batch's transaction (written once, with the
   * deletion): who asked (the command's operator and `requestedBy`), why (the reason), whom (the
   * person, by person ID as every entry names people). A rebuild never sees the event (the key is gone).
   */
  private async auditErasure(event: PersonErasedEvent, ctx: ProjectionContext): Promise<void> {
    await new AuditStore(this.options.dataSource, this.options.personIds).append(
      [
        {
          service: this.options.name,
          requestId: event.correlationId,
          actor: event.actor,
          role: 'operator',
          division: this.options.auditDivision ?? null,
          source: event.source,
          method: null,
          route: null,
          action: 'erase',
          purpose: 'erasure',
          purposeRef: event.eventId,
          people: [event.personKey],
          count: 1,
          result: 'ok',
          status: null,
          code: null,
          // requestedBy is one word the operator typed (`citizen:<their ID>` as well as `operator:<name>`): masked with the reason.
          detail: maskFreeText(`${event.payload.reason} (requested by ${event.payload.requestedBy})`).slice(0, 500),
        },
      ],
      ctx.manager,
    );
  }

  private refOf(personKey: string): string | null {
    return this.refKey ? personRefOf(this.refKey, personKey) : null;
  }

  /** The people of the batch this projection erased before (one indexed look-up per batch). */
  private async erasedAmong(events: readonly RegistrationEvent[], ctx: ProjectionContext): Promise<Set<string>> {
    const out = new Set<string>();
    if (!this.refKey) return out;
    const byRef = new Map<string, string>();
    for (const e of events) {
      if (isPersonKey(e.personKey) && !byRef.has(e.personKey)) byRef.set(e.personKey, this.refOf(e.personKey) as string);
    }
    if (byRef.size === 0) return out;
    const rows: { person_ref: string }[] = await ctx.manager.query(`SELECT person_ref FROM erased_person WHERE person_ref = ANY($1::text[])`, [[...byRef.values()]]);
    if (rows.length === 0) return out;
    const refs = new Set(rows.map((r) => r.person_ref));
    for (const [key, ref] of byRef) if (refs.has(ref)) out.add(key);
    return out;
  }

  private projectionHandler(): MessageHandler {
    const handler = this.getHandlerByPattern(REGISTRATION_LOG);
    if (!handler) throw new NoProjectionHandlerError('no projection handler is registered (is the log transport connected?)');
    if (handler.next) throw new NoProjectionHandlerError('more than one projection handler is registered');
    return handler;
  }
}
