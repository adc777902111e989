import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { RegistrationEvent } from '@qmcb/contracts';
import { surveyVillage } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { LogContext, PersonRecordRepository, Projection, REGISTRATION_LOG, RegionPolicyProvider } from '@qmcb/service-kit';
import { evolve, reviewIdOf } from '../items/review-item.decider';
import type { ReviewItem } from '../items/review-item.decider';
import { ReviewItemRepository } from '../items/review-item.repository';

/** Review's projection: the person records, and the review items folded from submissions and review decisions. */
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
      const record = after[i] as RegistrationRecord;
      // Reviewed where the person is surveyed: the target's village, else by region policy.
      const village = record.survey?.villageCode ?? surveyVillage(record, this.policies.forRecord(record));
      const before = items.get(reviewId) ?? null;
      const next = evolve(before, event, village);
      if (next && next !== before) {
        items.set(reviewId, next);
        changed.add(reviewId);
      }
    });
    await this.items.saveMany(log.manager, [...changed].map((id) => items.get(id) as ReviewItem));
  }
}
