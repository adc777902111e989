import { Inject, Injectable, Logger } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { deterministicId } from '@qmcb/contracts';
import { AuditRecorder, PeriodicTask, PersonIds } from '@qmcb/platform';
import { Clock, PersonalDataSealer, PersonKeyColumn } from '@qmcb/service-kit';
import { DYNAMIC_UPDATE_SETTINGS } from '../dynamic-update.config';
import type { DynamicUpdateSettings } from '../dynamic-update.config';
import { OpsDatabase } from '../ops/ops-data-source';
import { FeedEntryRepository } from './feed-entry.repository';
import { asSeenBy } from './feed-view';
import type { FeedItem } from './feed-view';
import { SubscriptionRepository } from './subscription.repository';
import type { DeadLetter, Subscription } from './subscription.repository';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature';

/** What one webhook call carries. */
export interface WebhookBody {
  subscriptionId: string;
  /** Deterministic per subscription and range: a repeated call (a retry, a redelivery) carries the same one. */
  deliveryId: string;
  /** The feed number of the last entry carried: the subscriber's cursor. */
  cursor: number;
  entries: FeedItem[];
}

export type CallResult = { ok: true; status: number } | { ok: false; error: string };

/** The wait before attempt n+1 after n failures: base, doubled each time, capped. */
export function backoffMs(failures: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.max(0, failures - 1));
}

/**
 * Webhook delivery of the change feed (issue 9): per subscription, the next batch of entries its
 * scope may see after its cursor, POSTed with an HMAC signature; a 2xx moves the cursor; otherwise
 * it is tried again later (exponential backoff) and after WEBHOOK_MAX_ATTEMPTS the batch goes to the
 * subscription's dead letters and the cursor moves past it. Subscriptions are leased, so replicas do
 * not deliver one twice at once; a subscriber may still see a batch twice (a crash after its 2xx) and
 * recognises it by its deliveryId.
 */
@Injectable()
export class WebhookDeliverer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookDeliverer');
  private readonly subscriptions: SubscriptionRepository;
  private readonly task = new PeriodicTask(
    () => this.round(),
    (e) => this.logger.warn({ msg: 'webhook round failed; retried at the next interval', err: e instanceof Error ? e.message : String(e) }),
  );

  constructor(
    private readonly ops: OpsDatabase,
    private readonly feed: FeedEntryRepository,
    private readonly clock: Clock,
    @Inject(DYNAMIC_UPDATE_SETTINGS) private readonly settings: DynamicUpdateSettings,
    private readonly ids: PersonIds,
    private readonly audit: AuditRecorder,
    sealer: PersonalDataSealer,
    keys: PersonKeyColumn,
  ) {
    this.subscriptions = new SubscriptionRepository(sealer, keys);
  }

  onApplicationBootstrap(): void {
    this.task.start(this.settings.WEBHOOK_POLL_INTERVAL_MS, { immediately: false });
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  /** One round: every subscription due gets at most one call. Returns the entries delivered. A round in flight is joined. */
  runOnce(): Promise<number> {
    return this.task.run();
  }

  private async round(): Promise<number> {
    const manager = this.ops.dataSource.manager;
    const leaseMs = this.settings.WEBHOOK_TIMEOUT_MS * 2 + 5_000;
    const due = await this.subscriptions.leaseDue(manager, this.clock.now().toISOString(), leaseMs);
    let delivered = 0;
    for (const s of due) delivered += await this.deliver(s);
    return delivered;
  }

  private async deliver(s: Subscription & { delivery: { cursor: number; attempts: number } }): Promise<number> {
    const manager = this.ops.dataSource.manager;
    const scope = { division: s.division, kinds: s.kinds };
    const page = await this.feed.page(manager, scope, s.delivery.cursor, this.settings.WEBHOOK_BATCH_SIZE);
    const now = (): string => this.clock.now().toISOString();
    if (page.entries.length === 0) {
      await this.subscriptions.advanced(manager, s.id, page.cursor, 0, now());
      return 0;
    }
    const entries = page.entries.map((e) => asSeenBy(e, scope, (key) => this.ids.idOf(key)));
    const fromSeq = entries[0]?.seq ?? page.cursor;
    const result = await this.call(s, entries, fromSeq, page.cursor);
    if (result.ok) {
      await this.subscriptions.advanced(manager, s.id, page.cursor, entries.length, now());
      return entries.length;
    }
    const attempts = s.delivery.attempts + 1;
    if (attempts >= this.settings.WEBHOOK_MAX_ATTEMPTS) {
      this.logger.warn({ msg: 'webhook batch dead-lettered', subscriptionId: s.id, fromSeq, toSeq: page.cursor, attempts, err: result.error });
      await this.subscriptions.deadLetter(manager, s.id, entries, fromSeq, page.cursor, attempts, result.error, now());
      return 0;
    }
    const retryAt = new Date(this.clock.now().getTime() + backoffMs(attempts, this.settings.WEBHOOK_BACKOFF_MS, this.settings.WEBHOOK_BACKOFF_MAX_MS)).toISOString();
    await this.subscriptions.failed(manager, s.id, attempts, result.error, retryAt);
    return 0;
  }

  /**
   * One signed POST; never throws. Audited like any disclosure (docs/security.md, "Audit"): an entry
   * naming the people before anything is sent (none is sent when it cannot be written), and one with
   * the outcome after.
   */
  async call(s: Pick<Subscription, 'id' | 'webhookUrl' | 'department' | 'keyId' | 'division'>, entries: FeedItem[], fromSeq: number, toSeq: number): Promise<CallResult> {
    if (!s.webhookUrl) return { ok: false, error: 'the subscription has no webhook' };
    const secret = await this.subscriptions.secretOf(this.ops.dataSource.manager, s.id);
    if (!secret) return { ok: false, error: 'the subscription has no secret' };
    const body: WebhookBody = { subscriptionId: s.id, deliveryId: deterministicId('webhook-delivery', s.id, String(fromSeq), String(toSeq)), cursor: toSeq, entries };
    const people = [...new Set(entries.map((e) => this.ids.keyOf(e.personId)).filter((k): k is string => k !== undefined))];
    const fields = {
      requestId: body.deliveryId,
      actor: `key:${s.keyId}`,
      role: `dept:${s.department}`,
      division: s.division,
      source: null,
      method: 'POST',
      route: 'webhook',
      action: 'export',
      purpose: 'data-sharing',
      purposeRef: `subscription:${s.id}`,
    };
    try {
      await this.audit.write(this.audit.entry({ ...fields, people, count: people.length, result: 'partial', status: null, code: null, detail: `to ${new URL(s.webhookUrl).origin}` }));
    } catch {
      return { ok: false, error: 'the delivery could not be audited; nothing was sent' };
    }
    const result = await this.post(s.webhookUrl, secret, body);
    this.audit.writeLater(
      this.audit.entry({ ...fields, people: [], count: people.length, result: result.ok ? 'ok' : 'failed', status: result.ok ? result.status : null, code: null, detail: result.ok ? null : result.error }),
    );
    return result;
  }

  private async post(url: string, secret: string, body: WebhookBody): Promise<CallResult> {
    const text = JSON.stringify(body);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signWebhook(secret, text, Math.floor(this.clock.now().getTime() / 1000)),
          'x-qmcb-delivery': body.deliveryId,
          'x-qmcb-subscription': body.subscriptionId,
        },
        body: text,
        signal: AbortSignal.timeout(this.settings.WEBHOOK_TIMEOUT_MS),
        redirect: 'error',
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.ok ? { ok: true, status: res.status } : { ok: false, error: `HTTP ${res.status}` };
    } catch (e) {
      return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 300) : 'call failed' };
    }
  }

  /** Sends a dead letter again, once, now; it is marked redelivered when the subscriber takes it. */
  async redeliver(s: Subscription, letter: DeadLetter): Promise<CallResult> {
    const result = await this.call(s, letter.entries, letter.fromSeq, letter.toSeq);
    if (result.ok) await this.subscriptions.redelivered(this.ops.dataSource.manager, letter.id, this.clock.now().toISOString());
    return result;
  }
}
