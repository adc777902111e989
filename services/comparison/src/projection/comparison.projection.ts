import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { OUTCOME_DETERMINED, REVIEW_FINAL_APPROVED } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { LogContext, PersonRecordRepository, Projection, REGISTRATION_LOG, RegionPolicyProvider } from '@qmcb/service-kit';
import { OutcomeRepository } from '../outcomes/outcome.repository';
import type { OutcomeEvent } from '../outcomes/outcome.repository';
import { decisionChanged } from '../rules';
import { RecompareDueRepository } from '../schedule/recompare-due.repository';
import type { RecompareDue } from '../schedule/next-due';
import { RECOMPARE_ON, decisionAfter, dueAfter, outcomeEvent } from './outcome';

/** What was last decided for a person, as decisionChanged compares it. */
type Recorded = Parameters<typeof decisionChanged>[0];

/**
 * Comparison's projection (信息比对, procedure §7-§10): every event folded into the person's record; a
 * new fact (a department record, an approved form) compares the person again and a changed decision
 * (after an approved form: any decision) is emitted as `comparison.outcome-determined`; outcomes on
 * the log go into the outcome tables.
 * Of several changes for one person within a batch only the last is emitted (the runtime's rule,
 * ADR 0003): the intermediate ones were never committed.
 */
@Projection()
export class ComparisonProjection {
  constructor(
    private readonly records: PersonRecordRepository,
    private readonly outcomes: OutcomeRepository,
    private readonly policies: RegionPolicyProvider,
    private readonly dues: RecompareDueRepository,
  ) {}

  @EventPattern(REGISTRATION_LOG)
  async handle(@Payload() events: RegistrationEvent[], @Ctx() log: LogContext): Promise<void> {
    const { after } = await this.records.fold(log.manager, events);
    // Per person, the decision as this batch leaves it so far (its own emitted decisions included).
    const decided = new Map<string, Recorded>();
    const outcomes: OutcomeEvent[] = [];
    // Per person, the next recompare day as of the last trigger in the batch.
    const dues = new Map<string, { due: RecompareDue | null; basisEventId: string }>();
    const now = new Date().toISOString();
    events.forEach((event, i) => {
      const record = after[i];
      // Organisational streams (survey campaigns, teams) are no person's: nothing to compare.
      if (!record) return;
      if (event.type === OUTCOME_DETERMINED) {
        outcomes.push(event);
        decided.set(event.personKey, event.payload);
        return;
      }
      if (!RECOMPARE_ON.has(event.type)) return;
      const policy = this.policies.forRecord(record);
      dues.set(event.personKey, { due: dueAfter(event, record, policy), basisEventId: event.eventId });
      // A rebuild decides nothing: the outcomes are further down the log.
      if (log.rebuilding) return;
      const decision = decisionAfter(event, record, policy);
      if (!decision) return;
      const last = decided.has(event.personKey) ? (decided.get(event.personKey) ?? null) : record.comparison;
      // An approved form lifts the needs-survey flag (evolve); the decision on it is always recorded,
      // so a person whose collected information still leaves gaps is flagged again.
      if (event.type !== REVIEW_FINAL_APPROVED && !decisionChanged(last, decision)) return;
      log.emit(outcomeEvent(event, record, decision, now));
      decided.set(event.personKey, decision);
    });
    await this.outcomes.record(log.manager, outcomes);
    await this.dues.saveMany(log.manager, [...dues].map(([personKey, d]) => ({ personKey, ...d })));
  }
}
