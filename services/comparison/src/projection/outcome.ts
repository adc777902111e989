import { OUTCOME_DETERMINED, REVIEW_FINAL_APPROVED, SOURCE_RECORD_RECEIVED, causedBy, deterministicId, newEvent } from '@qmcb/contracts';
import type { EventOf, RegistrationEvent } from '@qmcb/contracts';
import type { RegionPolicy, RegistrationRecord } from '@qmcb/domain';
import { compare, inComparisonScope } from '../rules';
import type { Decision } from '../rules';

export type OutcomeEvent = EventOf<typeof OUTCOME_DETERMINED>;

export const COMPARISON_SERVICE = 'svc:comparison';

/** Events after which a person is compared again: any new fact about them. */
export const RECOMPARE_ON: ReadonlySet<string> = new Set<string>([SOURCE_RECORD_RECEIVED, REVIEW_FINAL_APPROVED]);

/**
 * What comparing `record` (the person's record right after `trigger`) decides, as of the trigger's
 * time; null when the event does not trigger a comparison or the person is not ours to compare.
 * Pure: it reads neither the recorded decision nor the flags.
 */
export function decisionAfter(trigger: RegistrationEvent, record: RegistrationRecord, policy: RegionPolicy): Decision | null {
  if (!RECOMPARE_ON.has(trigger.type) || !inComparisonScope(record)) return null;
  return compare(record, policy, trigger.occurredAt);
}

/**
 * The outcome event of a decision taken right after `trigger` on `record`; its ID comes from the
 * trigger, so a batch processed again decides the same event.
 */
export function outcomeEvent(trigger: RegistrationEvent, record: RegistrationRecord, decision: Decision, now: string): OutcomeEvent {
  return newEvent(
    OUTCOME_DETERMINED,
    deterministicId('comparison', 'outcome', trigger.eventId),
    trigger.personKey,
    {
      outcome: decision.outcome,
      previousOutcome: record.comparison?.outcome ?? 'none',
      reasons: decision.reasons,
      coverage: decision.coverage.map(({ insuranceType, status, reason, regions, rule, ruleVersion, detail }) => ({ insuranceType, status, reason, regions, rule, ruleVersion, detail })),
    },
    causedBy(trigger, COMPARISON_SERVICE, now, record.version),
  );
}
