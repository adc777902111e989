import { Injectable } from '@nestjs/common';
import { DomainError } from '../errors/domain.error';
import { currentRequest } from '../http/request-context';
import { AuditRecorder } from './audit-recorder';

/**
 * What a service tells the audit while it serves a request (docs/security.md, "Audit"). The entry
 * itself is written by the platform: for a read before the answer leaves, for anything else when it
 * has left. People whose `personId` or `personKey` appear in a JSON answer are found by the platform;
 * a service names the others (asked about and refused, changed by a write, streamed in an export).
 */
@Injectable()
export class AuditService {
  constructor(private readonly recorder: AuditRecorder) {}

  /** The request concerns these people (read, changed, or asked about: a refused lookup names who was asked for). */
  concerns(personKeys: Iterable<string>): void {
    const context = currentRequest();
    if (!context) return;
    for (const key of personKeys) context.people.add(key);
  }

  /**
   * @deprecated The platform writes the entry (with the purpose the caller stated); this only names
   * the person, as `concerns([personKey])` does. Kept so that code written before the route
   * declarations compiles; new code calls `concerns`.
   */
  async recordRead(entry: { personKey: string; [legacy: string]: unknown }): Promise<void> {
    this.concerns([entry.personKey]);
  }

  /** @deprecated As recordRead: names the people, as `concerns(personKeys)` does. */
  async recordReads(_entry: unknown, personKeys: readonly string[]): Promise<void> {
    this.concerns(personKeys);
  }

  /** Whether this request may see full values in a list or an export (its route's `unmasked`, its role and purpose). */
  unmasked(): boolean {
    return currentRequest()?.unmasked ?? false;
  }

  /**
   * For a stream (an export): records these people as disclosed now, before their data is sent;
   * rejects (the stream must stop) when the entry cannot be written. The request's final entry counts them all.
   */
  async disclose(personKeys: readonly string[]): Promise<void> {
    const context = currentRequest();
    if (!context) throw new DomainError('INTERNAL', 'a disclosure outside a request cannot be audited');
    if (personKeys.length === 0) return;
    await this.recorder.write({ ...this.recorder.entryOf(context, 'partial', null), people: [...personKeys], count: personKeys.length });
    context.disclosed = (context.disclosed ?? 0) + personKeys.length;
  }
}
