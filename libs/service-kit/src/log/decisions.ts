import { Injectable } from '@nestjs/common';
import type { RegistrationEvent } from '@qmcb/contracts';
import { commitDecisions } from '@qmcb/event-log';
import type { EntityManager } from 'typeorm';
import { LogTransport } from './log-transport';

/**
 * Decisions taken while serving a request: in the caller's transaction, into the outbox (sealed) and through
 * the service's own projection handler (the same code the log path runs), marked applied so the
 * consumer skips them when they come back (ADR 0002, ADR 0003).
 */
@Injectable()
export class Decisions {
  constructor(private readonly log: LogTransport) {}

  /** Returns the events applied now; an event applied before (a retried request) is left out. */
  async commit(manager: EntityManager, events: readonly RegistrationEvent[]): Promise<RegistrationEvent[]> {
    return commitDecisions(manager, this.log, events, await this.log.sealer());
  }
}
