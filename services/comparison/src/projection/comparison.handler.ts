import { Injectable } from '@nestjs/common';
import { OUTCOME_DETERMINED } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import type { ApplyContext, BatchApplyContext, ProjectionHandler } from '@qmcb/event-log';
import { applyToRecord } from '@qmcb/service-kit';
import { loadRegionPolicies } from '../rules';
import { applyComparisonBatch } from './comparison.batch-handler';
import { outcomeAfter, recordOutcomes } from './outcome';

@Injectable()
export class ComparisonHandler implements ProjectionHandler {
  /** Read and validated when the service starts, so a bad policy file stops it there. */
  private readonly policies = loadRegionPolicies();

  /** One event: fold it, record an outcome event, or compare after a new fact and emit a changed decision. */
  async apply(event: RegistrationEvent, ctx: ApplyContext): Promise<void> {
    const record = await applyToRecord(ctx.manager, event);
    if (event.type === OUTCOME_DETERMINED) {
      await recordOutcomes(ctx.manager, [{ event, record }]);
      return;
    }
    const outcome = outcomeAfter(event, record, this.policies);
    if (outcome) await ctx.emit([outcome]);
  }

  /** Many events at once, one comparison per person (comparison.batch-handler.ts). */
  async applyBatch(events: RegistrationEvent[], ctx: BatchApplyContext): Promise<void> {
    await applyComparisonBatch(events, ctx, this.policies);
  }
}
