import { Catch, Controller, UseFilters, applyDecorators } from '@nestjs/common';
import type { RpcExceptionFilter } from '@nestjs/common';
import { BaseRpcContext } from '@nestjs/microservices';
import type { RegistrationEvent } from '@qmcb/contracts';
import type { ProjectionContext } from '@qmcb/event-log';
import { throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import type { EntityManager } from 'typeorm';

/**
 * The pattern of a service's projection of the registration log (ADR 0003):
 * `@EventPattern(REGISTRATION_LOG) handle(@Payload() events: RegistrationEvent[], @Ctx() log: LogContext)`.
 * The events arrive in batches, in log order, all of one partition; the handler applies them to its
 * own tables in `log.manager`'s transaction and emits what it decides with `log.emit`.
 */
export const REGISTRATION_LOG = 'registration-log';

/** The `@Ctx()` of a projection handler: the batch's transaction, rebuild mode, emit and enqueue (ProjectionContext). */
export class LogContext extends BaseRpcContext<[ProjectionContext]> implements ProjectionContext {
  constructor(ctx: ProjectionContext) {
    super([ctx]);
  }

  private get ctx(): ProjectionContext {
    return this.args[0];
  }

  get manager(): EntityManager {
    return this.ctx.manager;
  }

  get rebuilding(): boolean {
    return this.ctx.rebuilding;
  }

  get partition(): number {
    return this.ctx.partition;
  }

  emit(events: RegistrationEvent | readonly RegistrationEvent[]): void {
    this.ctx.emit(events);
  }

  enqueue(events: readonly RegistrationEvent[]): Promise<void> {
    return this.ctx.enqueue(events);
  }
}

/**
 * Nest's default RPC filter turns an error into `{ status: 'error', message: 'Internal server error' }`;
 * the event-log runtime needs the error itself, to retry, split the batch and name the reason of a
 * dead letter.
 */
@Catch()
export class RethrowProjectionErrors implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

/** A class holding a service's projection handler (`@EventPattern(REGISTRATION_LOG)`). */
export function Projection(): ClassDecorator {
  return applyDecorators(Controller(), UseFilters(RethrowProjectionErrors));
}
