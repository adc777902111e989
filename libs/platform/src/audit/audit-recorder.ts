import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown } from '@nestjs/common';
import { actorOf } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { maskFreeText } from '../logging/mask';
import { registeredMetric } from '../metrics/http-metrics';
import { PersonIds } from '../person-ids/person-ids';
import type { RequestContext } from '../http/request-context';
import { AuditStore } from './audit-store';
import type { AuditEntry, AuditResult } from './audit-entry';

export const AUDIT_OPTIONS = Symbol('AUDIT_OPTIONS');

export interface AuditOptions {
  /** The service whose trail this is (the `service` of every entry). */
  service: string;
  /**
   * The division this deployment serves (DEPLOYMENT_DIVISION, e.g. the county): entries of department
   * systems and anonymous callers are filed under it, so that the auditors of that division (and above) see them.
   */
  deploymentDivision?: string;
}

export const AUDIT_FAILURES = 'qmcb_audit_write_failures_total';

/** The result an HTTP status stands for. */
export function resultOfStatus(status: number): AuditResult {
  if (status < 400) return 'ok';
  if (status === 401 || status === 403 || status === 404 || status === 429) return 'refused';
  if (status >= 500) return 'failed';
  return 'invalid';
}

/** Who an entry names: `user:<sub>` with role and division, `key:<keyId>` with `dept:<department>`, or anonymous. */
export function actorFields(principal: Principal | undefined): Pick<AuditEntry, 'actor' | 'role' | 'division'> {
  if (!principal) return { actor: 'anonymous', role: null, division: null };
  return principal.kind === 'person'
    ? { actor: actorOf(principal), role: principal.role, division: principal.division }
    : { actor: actorOf(principal), role: `dept:${principal.department}`, division: null };
}

/**
 * Writes the entries of HTTP requests (and operator actions) to the service's AuditStore. Entries
 * name people by person key in memory; the store keeps their person IDs (PersonIds).
 */
@Injectable()
export class AuditRecorder implements BeforeApplicationShutdown {
  private readonly pending = new Set<Promise<void>>();
  private readonly logger = new Logger('Audit');
  private readonly failures = registeredMetric(
    AUDIT_FAILURES,
    () => new Counter({ name: AUDIT_FAILURES, help: 'Audit entries that could not be written (alert on any)', labelNames: ['service'] as const }),
  );
  readonly store: AuditStore;

  constructor(
    dataSource: DataSource,
    @Inject(AUDIT_OPTIONS) private readonly options: AuditOptions,
    ids: PersonIds,
  ) {
    this.store = new AuditStore(dataSource, ids);
  }

  entryOf(context: RequestContext, result: AuditResult, status: number | null, extra: Partial<AuditEntry> = {}): AuditEntry {
    const policy = context.route?.personalData;
    const people = [...context.people];
    return {
      service: this.options.service,
      requestId: context.requestId,
      ...this.actor(context.principal),
      source: context.source,
      method: context.method,
      route: context.route?.path ?? null,
      action: policy && policy !== 'none' ? policy.access : 'access',
      purpose: context.purpose ?? null,
      purposeRef: context.purposeRef ?? null,
      people,
      count: people.length,
      result,
      status,
      code: context.error?.code ?? null,
      detail: context.error ? maskFreeText(context.error.message).slice(0, 500) : null,
      ...extra,
    };
  }

  /** An entry of work done outside a request (a push to a subscriber, an operator command). */
  entry(fields: Omit<AuditEntry, 'service'>): AuditEntry {
    return { service: this.options.service, ...fields };
  }

  private actor(principal: Principal | undefined): Pick<AuditEntry, 'actor' | 'role' | 'division'> {
    const fields = actorFields(principal);
    return fields.division === null ? { ...fields, division: this.options.deploymentDivision ?? null } : fields;
  }

  /** Writes now; rejects when it cannot (a read that cannot be audited must not be answered). */
  async write(entry: AuditEntry): Promise<void> {
    try {
      await this.store.append([entry]);
    } catch (e) {
      this.failures.inc({ service: this.options.service });
      throw e;
    }
  }

  /** Writes after the fact (refusals, writes already committed): a failure is logged and counted, never silent. */
  writeLater(entry: AuditEntry): void {
    const written = this.write(entry)
      .catch((e: unknown) => {
        this.logger.error({ msg: 'audit entry not written', action: entry.action, route: entry.route, result: entry.result, requestId: entry.requestId, err: e instanceof Error ? e.message : String(e) });
      })
      .finally(() => this.pending.delete(written));
    this.pending.add(written);
  }

  /** Entries of requests already answered are written before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
