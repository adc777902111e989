import { Injectable } from '@nestjs/common';
import { actorOf, assertInDivision } from '@qmcb/auth';
import type { PersonPrincipal, Principal } from '@qmcb/auth';
import { newId } from '@qmcb/contracts';
import type { ChangeField } from '@qmcb/contracts';
import { FIELD_LABELS, currentValues, maskCitizenId, proposedFields, proposedValue, sameValue } from '@qmcb/domain';
import type { FieldValue, RegistrationRecord } from '@qmcb/domain';
import { AuditService, DomainError, PersonIds, toErrorResponse } from '@qmcb/platform';
import type { ErrorBody } from '@qmcb/platform';
import { Decisions, PersonReader, PersonRecordRepository, RegionPolicyProvider } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { decide, staleFields } from '../items/review-item.decider';
import type { ItemStage, ItemStatus, ReviewDecision, ReviewItem } from '../items/review-item.decider';
import { ReviewItemRepository } from '../items/review-item.repository';
import type { ItemFilter, QueueFigures } from '../items/review-item.repository';

export interface DecisionResult {
  reviewId: string;
  eventId: string;
  stage: ItemStage;
  status: ItemStatus;
  version: number;
}

/** What a reviewer asks for; the rest of the decision comes from the item, the record and the clock. */
export type ReviewRequest =
  | { kind: 'initial-approval'; expectedVersion: number; comment: string }
  | { kind: 'final-approval'; expectedVersion: number }
  | Omit<Extract<ReviewDecision, { kind: 'return' }>, keyof DecisionContext>
  | Omit<Extract<ReviewDecision, { kind: 'reject' }>, keyof DecisionContext>
  | Omit<Extract<ReviewDecision, { kind: 'close' }>, keyof DecisionContext>
  | { kind: 'rebase'; expectedVersion: number };

type DecisionContext = Pick<ReviewDecision, 'reviewer' | 'record' | 'correlationId' | 'now'>;

/** One item of the registry record beside the proposed change. */
export interface FieldComparison {
  field: ChangeField;
  label: string;
  /** What the record holds now. */
  current: FieldValue;
  /** What the change proposes. */
  proposed: FieldValue;
  /** What the record held when the change was submitted (or rebased). */
  before: FieldValue;
  /** Approving would change the record here. */
  changes: boolean;
  /** The record changed here since submission: approval is refused until the item is rebased. */
  stale: boolean;
}

/** An item as answered: the person ID and the masked citizen ID, never the person key (the citizen ID itself). */
export type ReviewItemView = Omit<ReviewItem, 'personKey'> & { personId: string; citizenIdMasked: string | null };

export interface ReviewPerson {
  personId: string;
  record: RegistrationRecord;
  reviews: ReviewItemView[];
}

export interface ItemView {
  item: ReviewItemView;
  fields: FieldComparison[];
  stale: ChangeField[];
  /** Other pending items of the same person proposing a different value for the same field. */
  conflicts: { reviewId: string; channel: string; fields: ChangeField[] }[];
  overdue: boolean;
}

export interface BulkResult {
  approved: number;
  refused: number;
  results: ({ reviewId: string; outcome: 'approved' } & DecisionResult | { reviewId: string; outcome: 'refused'; error: ErrorBody })[];
}

const DAY_MS = 86_400_000;

/**
 * Two-stage review (procedure §19, §21): the grassroots platform's initial review (初审), then the
 * county's final approval (审定), of changes from every channel. Each decision is serialised per item
 * (row lock plus the version the reviewer saw), decided by the item's decider and committed through
 * the outbox; the survey target or request that brought it follows the event.
 */
@Injectable()
export class ReviewsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly items: ReviewItemRepository,
    private readonly records: PersonRecordRepository,
    private readonly reader: PersonReader,
    private readonly decisions: Decisions,
    private readonly audit: AuditService,
    private readonly policies: RegionPolicyProvider,
    private readonly ids: PersonIds,
  ) {}

  /** The queue: items within a division, filtered, sorted, paginated (the platform audits everyone listed). */
  async list(principal: Principal, q: Omit<ItemFilter, 'within' | 'submittedBefore'> & { division?: string; waitingDays?: number }): Promise<{ total: number; items: ReviewItemView[] }> {
    const within = q.division ?? (principal.kind === 'person' ? principal.division : '');
    assertInDivision(principal, within);
    const submittedBefore = q.waitingDays === undefined ? undefined : new Date(Date.now() - q.waitingDays * DAY_MS).toISOString();
    const page = await this.items.list(this.dataSource.manager, { ...q, within, submittedBefore });
    return { total: page.total, items: page.items.map((i) => this.present(i)) };
  }

  /** An item as answered: the person ID and the masked citizen ID instead of the person key. */
  present(item: ReviewItem): ReviewItemView {
    const { personKey, ...rest } = item;
    return { ...rest, personId: this.ids.idOf(personKey), citizenIdMasked: personKey.startsWith('X-') ? null : maskCitizenId(personKey) };
  }

  /** Waiting figures per stage in a division (no personal data). */
  async figures(principal: Principal, division: string | undefined): Promise<{ division: string; dueDays: number; stages: QueueFigures[] }> {
    const within = division ?? (principal.kind === 'person' ? principal.division : '');
    assertInDivision(principal, within);
    const dueDays = this.policies.forDivision(within.length >= 6 ? within.slice(0, 6) : within || null).reviewDueDays;
    const now = new Date();
    const stages = await this.items.figures(this.dataSource.manager, within, new Date(now.getTime() - dueDays * DAY_MS).toISOString(), now.toISOString());
    return { division: within, dueDays, stages };
  }

  /** One item with the record beside it, field by field, its staleness and conflicting items (audited read). */
  async view(principal: Principal, reviewId: string): Promise<ItemView> {
    const manager = this.dataSource.manager;
    const item = await this.load(manager, principal, reviewId, false);
    const record = await this.records.find(manager, item.personKey);
    const values: Partial<Record<ChangeField, FieldValue>> = record ? currentValues(record) : {};
    const others = (await this.items.pendingForPerson(manager, item.personKey)).filter((o) => o.reviewId !== item.reviewId);
    this.audit.concerns([item.personKey]);
    const stale = staleFields(item, values);
    const fields = proposedFields(item.request.fields).map((field): FieldComparison => {
      const proposed = proposedValue(item.request.fields, field) ?? null;
      const current = values[field] ?? null;
      return { field, label: FIELD_LABELS[field], current, proposed, before: item.before[field] ?? null, changes: !sameValue(current, proposed), stale: stale.includes(field) };
    });
    const conflicts = others
      .map((o) => ({
        reviewId: o.reviewId,
        channel: o.channel,
        fields: proposedFields(o.request.fields).filter((f) => item.request.fields[f] !== undefined && !sameValue(proposedValue(o.request.fields, f), proposedValue(item.request.fields, f))),
      }))
      .filter((c) => c.fields.length > 0);
    const dueDays = this.policies.forDivision(item.countyCode).reviewDueDays;
    const overdue = item.status === 'pending' && Date.now() - Date.parse(item.submittedAt) > dueDays * DAY_MS;
    return { item: this.present(item), fields, stale, conflicts, overdue };
  }

  /** Review's view of one person: the record and every review of their changes (audited read). */
  async person(principal: Principal, who: { personId: string } | { citizenId: string }): Promise<ReviewPerson> {
    const record = 'personId' in who ? await this.reader.read(principal, who.personId) : await this.reader.lookup(principal, who.citizenId);
    const reviews = await this.items.forPerson(this.dataSource.manager, record.personKey);
    return { personId: this.ids.idOf(record.personKey), record, reviews: reviews.map((i) => this.present(i)) };
  }

  async decide(principal: Principal, reviewId: string, request: ReviewRequest): Promise<DecisionResult> {
    const person = this.person_(principal);
    return this.dataSource.transaction((manager) => this.decideIn(manager, person, reviewId, request));
  }

  /**
   * Approves many items of one stage, each in its own transaction (one refusal never undoes the
   * others), with a result per item.
   */
  async bulkApprove(principal: Principal, stage: 'initial' | 'final', items: { reviewId: string; expectedVersion: number }[], comment: string): Promise<BulkResult> {
    const person = this.person_(principal);
    const results: BulkResult['results'] = [];
    for (const { reviewId, expectedVersion } of items) {
      const request: ReviewRequest = stage === 'initial' ? { kind: 'initial-approval', expectedVersion, comment } : { kind: 'final-approval', expectedVersion };
      try {
        const done = await this.dataSource.transaction((manager) => this.decideIn(manager, person, reviewId, request));
        results.push({ outcome: 'approved', ...done });
      } catch (e) {
        const refusal = toErrorResponse(e);
        if (refusal.unexpected) throw e;
        results.push({ reviewId, outcome: 'refused', error: refusal.body });
      }
    }
    const approved = results.filter((r) => r.outcome === 'approved').length;
    return { approved, refused: results.length - approved, results };
  }

  private async decideIn(manager: EntityManager, principal: PersonPrincipal, reviewId: string, request: ReviewRequest): Promise<DecisionResult> {
    const item = await this.load(manager, principal, reviewId, true);
    const record = await this.records.find(manager, item.personKey);
    const decision = {
      ...request,
      reviewer: { id: principal.sub, role: principal.role, division: principal.division, actor: actorOf(principal) },
      record: { version: record?.version ?? null, values: record ? currentValues(record) : {} },
      correlationId: newId(),
      now: new Date().toISOString(),
    } as ReviewDecision;
    const [event] = decide(decision, item);
    if (!event) throw new Error('a review decision decides one event');
    await this.decisions.commit(manager, [event]);
    const after = await this.load(manager, principal, reviewId, false);
    return { reviewId, eventId: event.eventId, stage: after.stage, status: after.status, version: after.version };
  }

  private person_(principal: Principal): PersonPrincipal {
    if (principal.kind !== 'person') throw new DomainError('FORBIDDEN', 'reviews are decided by people');
    return principal;
  }

  private async load(manager: EntityManager, principal: Principal, reviewId: string, lock: boolean): Promise<ReviewItem> {
    const item = await this.items.find(manager, reviewId, lock);
    if (!item) throw new DomainError('NOT_FOUND', 'not found');
    this.audit.concerns([item.personKey]);
    // A citizen reaches their own items only (self-service); everyone else within their division.
    if (principal.kind === 'person' && principal.role === 'citizen') {
      if (item.submitterId !== principal.sub) throw new DomainError('NOT_FOUND', 'not found');
    } else {
      assertInDivision(principal, item.villageCode);
    }
    return item;
  }
}
