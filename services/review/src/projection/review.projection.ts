import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { REVIEW_CHANGE_SUBMITTED, REVIEW_REBASED, SURVEY_FORM_SUBMITTED, SURVEY_VISIT_RECORDED } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { surveyVillage, valuesBefore } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { LogContext, PersonRecordRepository, Projection, REGISTRATION_LOG, RegionPolicyProvider } from '@qmcb/service-kit';
import { evolve, reviewIdOf } from '../items/review-item.decider';
import type { OpeningContext, ReviewItem } from '../items/review-item.decider';
import { ReviewItemRepository } from '../items/review-item.repository';

/**
 * Review's projection: the person records, and the review items folded from submissions of every
 * channel (survey forms and death claims, `review.change-submitted`) and from review decisions.
 */
@Projection()
export class ReviewProjection {
  constructor(
    private readonly records: PersonRecordRepository,
    private readonly items: ReviewItemRepository,
    private readonly policies: RegionPolicyProvider,
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
}
