import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { LINK_PROPOSED, REVIEW_CHANGE_SUBMITTED, REVIEW_REBASED, SURVEY_FORM_SUBMITTED, SURVEY_VISIT_RECORDED } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { surveyVillage, valuesBefore } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { deletePersonRows, LogContext, PERSON_ERASURE, PersonKeyColumn, PersonRecordRepository, Projection, REGISTRATION_LOG, RegionPolicyProvider } from '@qmcb/service-kit';
import type { PersonErasedEvent } from '@qmcb/service-kit';
import { evolve, reviewIdOf } from '../items/review-item.decider';
import type { OpeningContext, ReviewItem } from '../items/review-item.decider';
import { ReviewItemRepository } from '../items/review-item.repository';
import { evolve as evolveLink, isLinkEvent } from '../links/link-review.decider';
import type { LinkReview } from '../links/link-review.decider';
import { LinkReviewRepository } from '../links/link-review.repository';

/**
 * Review's projection: the person records, the review items folded from submissions of every
 * channel (survey forms and death claims, `review.change-submitted`) and from review decisions, and
 * the reviews of identity links comparison proposes (`comparison.link-proposed` and its decisions).
 */
@Projection()
export class ReviewProjection {
  constructor(
    private readonly records: PersonRecordRepository,
    private readonly items: ReviewItemRepository,
    private readonly policies: RegionPolicyProvider,
    private readonly links: LinkReviewRepository,
    private readonly keys: PersonKeyColumn,
  ) {}

  @EventPattern(REGISTRATION_LOG)
  async handle(@Payload() events: RegistrationEvent[], @Ctx() log: LogContext): Promise<void> {
    const { after } = await this.records.fold(log.manager, events);
    const ids = events.map(reviewIdOf).filter((id): id is string => id !== null);
    const items = await this.items.findMany(log.manager, ids);
    const changed = new Set<string>();
    events.forEach((event, i) => {
      const reviewId = reviewIdOf(event);
      if (!reviewId) return;
      const before = items.get(reviewId) ?? null;
      const next = evolve(before, event, this.context(event, after[i] as RegistrationRecord, before));
      if (next && next !== before) {
        items.set(reviewId, next);
        changed.add(reviewId);
      }
    });
    await this.items.saveMany(log.manager, [...changed].map((id) => items.get(id) as ReviewItem));
    await this.linkReviews(log, events, after);
  }

  /** The link reviews the batch's link events open or decide; a proposal is reviewed where the person is surveyed. */
  private async linkReviews(log: LogContext, events: RegistrationEvent[], after: readonly (RegistrationRecord | null)[]): Promise<void> {
    const linkEvents = events.filter(isLinkEvent);
    if (linkEvents.length === 0) return;
    const reviews = await this.links.findMany(log.manager, linkEvents.map((e) => e.payload.linkId));
    const changed = new Set<string>();
    events.forEach((event, i) => {
      if (!isLinkEvent(event)) return;
      const record = after[i];
      const before = reviews.get(event.payload.linkId) ?? null;
      const village = event.type === LINK_PROPOSED && record ? (record.survey?.villageCode ?? surveyVillage(record, this.policies.forRecord(record))) : null;
      const next = evolveLink(before, event, village);
      if (next && next !== before) {
        reviews.set(next.linkId, next);
        changed.add(next.linkId);
      }
    });
    await this.links.saveMany(log.manager, [...changed].map((id) => reviews.get(id) as LinkReview));
  }

  /** What an item is opened (or rebased) with: where it is reviewed and what the record holds now. */
  private context(event: RegistrationEvent, record: RegistrationRecord, item: ReviewItem | null): OpeningContext | null {
    const policy = this.policies.forRecord(record);
    const comparisonReasons = record.comparison?.reasons.map((r) => r.code) ?? [];
    switch (event.type) {
      case SURVEY_FORM_SUBMITTED:
      case SURVEY_VISIT_RECORDED: {
        // Reviewed where the person is surveyed: the target's village, else by region policy.
        const fields = event.type === SURVEY_FORM_SUBMITTED ? event.payload.request.fields : { deathDate: event.payload.deathDate };
        return {
          villageCode: record.survey?.villageCode ?? surveyVillage(record, policy),
          skipInitial: policy.reviewSkipsInitial.includes('survey'),
          before: valuesBefore(record, fields),
          reasons: record.survey?.reasons ?? comparisonReasons,
        };
      }
      case REVIEW_CHANGE_SUBMITTED:
        return { villageCode: event.payload.villageCode, skipInitial: event.payload.skipInitial, before: valuesBefore(record, event.payload.request.fields), reasons: comparisonReasons };
      case REVIEW_REBASED:
        return item ? { villageCode: item.villageCode, skipInitial: item.skipInitial, before: valuesBefore(record, item.request.fields), reasons: item.reasons } : null;
      default:
        return null;
    }
  }

  /**
   * `person.erased` (ADR 0010): every row of the person goes: their record, their review items (the
   * forms and changes submitted, with the values before), and the reviews of links proposed to them
   * (their own link events opened those). A link review of their mistyped records to someone else is
   * that person's (opened by that person's events) and stays, as a rebuild keeps it.
   * The key columns hold the person ID (ADR 0011, stage 5); a row not re-keyed yet holds the plain
   * key, so both are deleted.
   */
  @EventPattern(PERSON_ERASURE)
  async erase(@Payload() event: PersonErasedEvent, @Ctx() log: LogContext): Promise<void> {
    for (const value of new Set([this.keys.stored(event.personKey), event.personKey])) {
      await deletePersonRows(log.manager, value, [
        { table: 'person_record', column: 'person_key' },
        { table: 'review_item', column: 'person_key' },
        { table: 'link_review', column: 'person_key' },
      ]);
    }
  }
}
