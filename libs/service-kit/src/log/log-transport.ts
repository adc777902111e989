import { Server } from '@nestjs/microservices';
import type { CustomTransportStrategy, MessageHandler } from '@nestjs/microservices';
import type { RegistrationEvent } from '@qmcb/contracts';
import { ProjectionRunner } from '@qmcb/event-log';
import type { ConsumerTuning, KafkaSettings, ProjectionContext, ProjectionHandler } from '@qmcb/event-log';
import { lastValueFrom } from 'rxjs';
import type { DataSource } from 'typeorm';
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

  constructor(private readonly options: LogTransportOptions) {
    super();
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

  /** The runner of this process, while it consumes. */
  get projectionRunner(): ProjectionRunner | null {
    return this.runner;
  }

  /** ProjectionHandler: one batch to the service's `@EventPattern(REGISTRATION_LOG)` handler. */
  async handle(events: readonly RegistrationEvent[], ctx: ProjectionContext): Promise<void> {
    const handler = this.projectionHandler();
    const result: unknown = await handler(events, new LogContext(ctx));
    await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
  }

  private projectionHandler(): MessageHandler {
    const handler = this.getHandlerByPattern(REGISTRATION_LOG);
    if (!handler) throw new NoProjectionHandlerError('no projection handler is registered (is the log transport connected?)');
    if (handler.next) throw new NoProjectionHandlerError('more than one projection handler is registered');
    return handler;
  }
}
