import { OUTCOME_DETERMINED, REVIEW_FINAL_APPROVED, SOURCE_RECORD_RECEIVED, causedBy, deterministicId, newEvent } from '@qmcb/contracts';
import type { EventOf, RegistrationEvent } from '@qmcb/contracts';
import type { RegionPolicy, RegistrationRecord } from '@qmcb/domain';
import { NO_LINKS, RULES, compare, inComparisonScope } from '../rules';
import type { Decision, LinkContext } from '../rules';

export type OutcomeEvent = EventOf<typeof OUTCOME_DETERMINED>;

export const COMPARISON_SERVICE = 'svc:comparison';

/** Events after which a person is compared again: any new fact about them (link events compare both sides of the link). */
export const RECOMPARE_ON: ReadonlySet<string> = new Set<string>([SOURCE_RECORD_RECEIVED, REVIEW_FINAL_APPROVED]);

/**
 * What comparing `record` (merged with the records linked to the person) decides as of `asOf`; null
 * when the person is not ours to compare. Pure: it reads neither the recorded decision nor the flags.
 */
export function decisionFor(record: RegistrationRecord, policy: RegionPolicy, asOf: string, links: LinkContext = NO_LINKS): Decision | null {
  if (!inComparisonScope(record)) return null;
  return compare(record, policy, asOf, RULES, links);
}

/**
 * What comparing `record` (the person's record right after `trigger`) decides, as of the trigger's
 * time; null when the event does not trigger a comparison or the person is not ours to compare.
 */
export function decisionAfter(trigger: RegistrationEvent, record: RegistrationRecord, policy: RegionPolicy, links: LinkContext = NO_LINKS): Decision | null {
  if (!RECOMPARE_ON.has(trigger.type)) return null;
  return decisionFor(record, policy, trigger.occurredAt, links);
}

/**
 * The outcome event of a decision about `personKey` (default: the trigger's person) taken right after
 * `trigger` on `record`; its ID comes from the trigger (and the person, when the trigger is another
 * person's: the other side of a link), so a batch processed again decides the same event.
 */
export function outcomeEvent(trigger: RegistrationEvent, record: RegistrationRecord, decision: Decision, now: string, personKey = trigger.personKey): OutcomeEvent {
  const eventId = personKey === trigger.personKey ? deterministicId('comparison', 'outcome', trigger.eventId) : deterministicId('comparison', 'outcome', trigger.eventId, personKey);
  return newEvent(
    OUTCOME_DETERMINED,
    eventId,
    personKey,
    {
      outcome: decision.outcome,
      previousOutcome: record.comparison?.outcome ?? 'none',
      reasons: decision.reasons,
      coverage: decision.coverage.map(({ insuranceType, status, reason, regions, rule, ruleVersion, detail }) => ({ insuranceType, status, reason, regions, rule, ruleVersion, detail })),
    },
    causedBy(trigger, COMPARISON_SERVICE, now, record.version),
  );
}
