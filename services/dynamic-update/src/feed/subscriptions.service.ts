import { Injectable } from '@nestjs/common';
import { assertInDivision, inDivision } from '@qmcb/auth';
import type { PersonPrincipal, Principal } from '@qmcb/auth';
import { EVENT_TYPES, newId } from '@qmcb/contracts';
import type { Department } from '@qmcb/contracts';
import { AuditService, DomainError, PersonIds } from '@qmcb/platform';
import { Clock, PersonalDataSealer, PersonKeyColumn } from '@qmcb/service-kit';
import { randomBytes } from 'crypto';
import { OpsDatabase } from '../ops/ops-data-source';
import { FeedEntryRepository } from './feed-entry.repository';
import type { SequencedEntry } from './feed-entry.repository';
import { asSeenBy } from './feed-view';
import type { FeedItem } from './feed-view';
import { SubscriptionRepository } from './subscription.repository';
import type { DeadLetter, Delivery, Subscription } from './subscription.repository';
import { WebhookDeliverer } from './webhook-deliverer';
import type { CallResult } from './webhook-deliverer';

const NOT_FOUND = 'no such subscription';

export interface NewSubscription {
  name: string;
  department: Department;
  keyId: string;
  division: string;
  kinds: string[];
  webhookUrl?: string;
  /** Where webhook delivery starts: the first entry of the feed, or what comes after now. */
  from: 'beginning' | 'now';
}

/** Whether a kind names event types: an event type, or `prefix.*` of at least one. */
export function validKind(kind: string): boolean {
  if (kind.endsWith('.*')) return EVENT_TYPES.some((t) => t.startsWith(kind.slice(0, -1)));
  return (EVENT_TYPES as readonly string[]).includes(kind);
}

/**
 * Subscriptions to the change feed (issue 9). An administrator registers one for a department
 * system's API key (department + key ID), bound to a division and event kinds; that key reads its
 * feed (pull, server-sent events) and, with a webhook URL, receives it by signed calls. A subscriber
 * never sees data outside its scope (feed-view.ts); anyone else gets 404.
 */
@Injectable()
export class SubscriptionsService {
  private readonly subscriptions: SubscriptionRepository;

  constructor(
    private readonly ops: OpsDatabase,
    private readonly feed: FeedEntryRepository,
    private readonly deliverer: WebhookDeliverer,
    private readonly clock: Clock,
    private readonly ids: PersonIds,
    private readonly audit: AuditService,
    sealer: PersonalDataSealer,
    keys: PersonKeyColumn,
  ) {
    this.subscriptions = new SubscriptionRepository(sealer, keys);
  }

  private get manager() {
    return this.ops.dataSource.manager;
  }

  async create(admin: PersonPrincipal, input: NewSubscription): Promise<Subscription & { secret: string | null }> {
    // A division outside the administrator's is answered as everything outside it: 404, never 403 (docs/api/errors.md).
    assertInDivision(admin, input.division);
    const bad = input.kinds.filter((k) => !validKind(k));
    if (bad.length) {
      throw new DomainError('VALIDATION_FAILED', 'kinds must be event types or prefix.* of event types', {
        violations: bad.map((k) => ({ field: 'kinds', rule: 'eventKind', message: `kinds: ${k} is no event type and no prefix.* of one` })),
      });
    }
    const secret = input.webhookUrl ? randomBytes(32).toString('base64url') : null;
    const subscription: Subscription = {
      id: newId(),
      name: input.name,
      department: input.department,
      keyId: input.keyId,
      division: input.division,
      kinds: [...new Set(input.kinds)].sort(),
      webhookUrl: input.webhookUrl ?? null,
      status: 'active',
      createdBy: `user:${admin.sub}`,
      createdAt: this.clock.now().toISOString(),
    };
    const start = input.from === 'now' ? await this.feed.top(this.manager) : 0;
    await this.subscriptions.create(this.manager, subscription, secret, start);
    return { ...subscription, secret };
  }

  /** The subscription, for an administrator of its division or its own API key; 404 for anyone else. */
  async get(principal: Principal, id: string): Promise<Subscription> {
    const s = await this.subscriptions.find(this.manager, id);
    const mine = s && (principal.kind === 'system' ? principal.department === s.department && principal.keyId === s.keyId : principal.role === 'admin' && inDivision(principal.division, s.division));
    if (!s || !mine) throw new DomainError('NOT_FOUND', NOT_FOUND);
    return s;
  }

  async status(principal: Principal, id: string): Promise<Subscription & { delivery: Delivery | null }> {
    const s = await this.get(principal, id);
    return { ...s, delivery: await this.subscriptions.delivery(this.manager, s.id) };
  }

  list(admin: PersonPrincipal): Promise<Subscription[]> {
    return this.subscriptions.within(this.manager, admin.division);
  }

  async disable(admin: PersonPrincipal, id: string): Promise<Subscription> {
    const s = await this.get(admin, id);
    await this.subscriptions.disable(this.manager, s.id, this.clock.now().toISOString());
    return { ...s, status: 'disabled' };
  }

  /**
   * A page of the subscriber's own feed after `after` (its cursor), as its scope may see it. The
   * platform names the people of a page in its audit entry; a stream discloses each page (below).
   */
  async page(principal: Principal, id: string, after: number, limit: number): Promise<{ subscriptionId: string; cursor: number; entries: FeedItem[] }> {
    const s = await this.get(principal, id);
    if (principal.kind !== 'system') throw new DomainError('NOT_FOUND', NOT_FOUND);
    if (s.status !== 'active') throw new DomainError('CONFLICT', 'this subscription is disabled');
    const scope = { division: s.division, kinds: s.kinds };
    const page = await this.feed.page(this.manager, scope, after, limit);
    return { subscriptionId: s.id, cursor: page.cursor, entries: page.entries.map((e: SequencedEntry) => asSeenBy(e, scope, (key) => this.ids.idOf(key))) };
  }

  /** Records the people of a stream's page as disclosed, before it is sent (rejects when that cannot be audited). */
  disclose(entries: readonly FeedItem[]): Promise<void> {
    const keys = [...new Set(entries.map((e) => this.ids.keyOf(e.personId)).filter((k): k is string => k !== undefined))];
    return this.audit.disclose(keys);
  }

  async deadLetters(principal: Principal, id: string, limit: number, offset: number): Promise<{ subscriptionId: string; total: number; items: DeadLetter[] }> {
    const s = await this.get(principal, id);
    return { subscriptionId: s.id, ...(await this.subscriptions.deadLetters(this.manager, s.id, limit, offset)) };
  }

  async redeliver(principal: Principal, id: string, deadLetterId: number): Promise<{ deadLetterId: number; result: CallResult }> {
    const s = await this.get(principal, id);
    const letter = await this.subscriptions.findDeadLetter(this.manager, s.id, deadLetterId);
    if (!letter) throw new DomainError('NOT_FOUND', 'no such dead letter');
    return { deadLetterId, result: await this.deliverer.redeliver(s, letter) };
  }
}
