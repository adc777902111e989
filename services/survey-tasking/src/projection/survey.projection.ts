import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { OUTCOME_DETERMINED } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import { LogContext, PersonRecordRepository, Projection, REGISTRATION_LOG, RegionPolicyProvider } from '@qmcb/service-kit';
import { decide, evolve } from '../targets/survey-target.decider';
import type { SurveyTarget } from '../targets/survey-target.decider';
import { SurveyTaskRepository } from '../targets/survey-task.repository';

/**
 * Survey tasking's projection: the person records, and each person's survey target folded from its
 * events. A new comparison outcome is a command to the target's decider (open, close or reopen); what
 * it decides is emitted and comes back through this handler as the next batch.
 */
@Projection()
export class SurveyProjection {
  constructor(
    private readonly records: PersonRecordRepository,
    private readonly tasks: SurveyTaskRepository,
    private readonly policies: RegionPolicyProvider,
  ) {}

  @EventPattern(REGISTRATION_LOG)
  async handle(@Payload() events: RegistrationEvent[], @Ctx() log: LogContext): Promise<void> {
    const { after } = await this.records.fold(log.manager, events);
    const current = await this.tasks.currentOf(log.manager, events.map((e) => e.personKey));
    // Per person, the target as this batch's own decisions so far leave it, for the next decision to see
    // (they are applied for real after the batch, as its next batch).
    const decidedView = new Map<string, SurveyTarget | null>();
    const changed = new Map<string, SurveyTarget>();
    events.forEach((event, i) => {
      const person = event.personKey;
      const before = current.get(person) ?? null;
      const next = evolve(before, event);
      if (next !== before && next !== null) {
        current.set(person, next);
        changed.set(next.taskId, next);
      }
      if (decidedView.has(person)) decidedView.set(person, evolve(decidedView.get(person) ?? null, event));
      if (event.type === OUTCOME_DETERMINED && !log.rebuilding) {
        const record = after[i] as RegistrationRecord;
        const view = decidedView.has(person) ? (decidedView.get(person) ?? null) : next;
        const decided = decide({ kind: 'follow-outcome', outcome: event, record, policy: this.policies.forRecord(record), now: new Date().toISOString() }, view);
        log.emit(decided);
        decidedView.set(person, decided.reduce(evolve, view));
      }
    });
    await this.tasks.saveMany(log.manager, [...changed.values()]);
  }
}
