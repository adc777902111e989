import { Injectable } from '@nestjs/common';
import { actorOf, assertInDivision } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { newId } from '@qmcb/contracts';
import { maskCitizenId } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { AuditService, DomainError, PersonIds } from '@qmcb/platform';
import { Decisions, PersonReader, PersonRecordRepository } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { decide } from '../items/review-item.decider';
import type { ItemStage, ItemStatus, ReviewCommand, ReviewItem } from '../items/review-item.decider';
import { ReviewItemRepository } from '../items/review-item.repository';

/** An item as answered: the person ID and the masked citizen ID, never the person key (the citizen ID itself). */
export type ReviewItemView = Omit<ReviewItem, 'personKey'> & { personId: string; citizenIdMasked: string | null };

export interface ReviewPerson {
  personId: string;
  record: RegistrationRecord;
  reviews: ReviewItemView[];
}

export interface DecisionResult {
  reviewId: string;
  eventId: string;
  stage: ItemStage;
  status: ItemStatus;
}

/** What a reviewer asks for; the rest of the command comes from the item, the record and the clock. */
export type ReviewRequest =
  | { kind: 'initial-approval'; expectedVersion: number; comment: string }
  | { kind: 'final-approval'; expectedVersion: number }
  | { kind: 'return'; expectedVersion: number; reason: string };

/**
 * Two-stage review (procedure §19, §21): the grassroots platform's initial review (初审), then the
 * county's final approval (审定). Each decision is serialised per item (row lock plus the version the
 * reviewer saw), decided by the item's decider and committed through the outbox.
 */
@Injectable()
export class ReviewsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly items: ReviewItemRepository,
    private readonly records: PersonRecordRepository,
    private readonly reader: PersonReader,
    private readonly decisions: Decisions,
    private readonly ids: PersonIds,
    private readonly audit: AuditService,
  ) {}

  async list(principal: Principal, q: { stage?: ItemStage; status?: ItemStatus; division?: string; limit: number; offset: number }): Promise<{ total: number; items: ReviewItemView[] }> {
    const within = q.division ?? (principal.kind === 'person' ? principal.division : '');
    assertInDivision(principal, within);
    const { total, items } = await this.items.list(this.dataSource.manager, { within, stage: q.stage, status: q.status, limit: q.limit, offset: q.offset });
    return { total, items: items.map((i) => this.view(i)) };
  }

  async get(principal: Principal, reviewId: string): Promise<ReviewItemView> {
    return this.view(await this.load(this.dataSource.manager, principal, reviewId, false));
  }

  /** Review's view of one person: the record and every review of their submissions (audited read). */
  async person(principal: Principal, who: { personId: string } | { citizenId: string }): Promise<ReviewPerson> {
    const record = 'personId' in who ? await this.reader.read(principal, who.personId) : await this.reader.lookup(principal, who.citizenId);
    const reviews = await this.items.forPerson(this.dataSource.manager, record.personKey);
    return { personId: this.ids.idOf(record.personKey), record, reviews: reviews.map((i) => this.view(i)) };
  }

  private view(item: ReviewItem): ReviewItemView {
    const { personKey, ...rest } = item;
    return { ...rest, personId: this.ids.idOf(personKey), citizenIdMasked: personKey.startsWith('X-') ? null : maskCitizenId(personKey) };
  }

  async decide(principal: Principal, reviewId: string, request: ReviewRequest): Promise<DecisionResult> {
    if (principal.kind !== 'person') throw new DomainError('FORBIDDEN', 'reviews are decided by people');
    return this.dataSource.transaction(async (manager) => {
      const item = await this.load(manager, principal, reviewId, true);
      const record = await this.records.find(manager, item.personKey);
      const command: ReviewCommand = {
        ...request,
        reviewer: { id: principal.sub, role: principal.role, actor: actorOf(principal) },
        recordVersion: record?.version ?? null,
        correlationId: newId(),
        now: new Date().toISOString(),
      };
      const [event] = decide(command, item);
      if (!event) throw new Error('a review decision decides one event');
      await this.decisions.commit(manager, [event]);
      const after = await this.load(manager, principal, reviewId, false);
      return { reviewId, eventId: event.eventId, stage: after.stage, status: after.status };
    });
  }

  private async load(manager: EntityManager, principal: Principal, reviewId: string, lock: boolean): Promise<ReviewItem> {
    const item = await this.items.find(manager, reviewId, lock);
    if (!item) throw new DomainError('NOT_FOUND', `review ${reviewId} not found`);
    this.audit.concerns([item.personKey]);
    assertInDivision(principal, item.villageCode);
    return item;
  }
}
