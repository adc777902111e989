import {
  COMPARISON_RECOMPARE_DUE,
  DEATH_REGISTERED,
  EMPLOYER_CLOSED,
  EMPLOYER_OPENED,
  HOUSEHOLD_MOVED_IN,
  HOUSEHOLD_MOVED_OUT,
  INSURANCE_CONTRIBUTION_PAID,
  INSURANCE_ENDED,
  INSURANCE_ENROLLED,
  INSURANCE_PAYMENT_STARTED,
  INSURANCE_PAYMENT_STOPPED,
  INSURANCE_SUSPENDED,
  OUTCOME_DETERMINED,
  REGISTRY_CHANGE_APPROVED,
  REVIEW_FINAL_APPROVED,
  SOURCE_RECORD_RECEIVED,
  causedBy,
  deterministicId,
  newEvent,
} from '@qmcb/contracts';
import type { EventOf, RegistrationEvent } from '@qmcb/contracts';
import type { RegionPolicy, RegistrationRecord } from '@qmcb/domain';
import { NO_LINKS, RULES, chinaDate, compare, inComparisonScope } from '../rules';
import type { Decision, LinkContext } from '../rules';
import { nextRecompare } from '../schedule/next-due';
import type { RecompareDue } from '../schedule/next-due';

export type OutcomeEvent = EventOf<typeof OUTCOME_DETERMINED>;

export const COMPARISON_SERVICE = 'svc:comparison';

/**
 * Events after which a person is compared again: any new fact about them that a rule reads, and
 * the days on which a decision may change by itself. Business events that change nothing a rule
 * reads (a benefit approved, a card) are not here. Link events and `comparison.recompare-requested`
 * compare the people of a link through the projection (comparison.projection.ts), not through this set.
 */
export const RECOMPARE_ON: ReadonlySet<string> = new Set<string>([
  SOURCE_RECORD_RECEIVED,
  REVIEW_FINAL_APPROVED,
  // Business events (issue 9): insurance status and benefits paid, death, household moves, employers.
  INSURANCE_ENROLLED,
  INSURANCE_SUSPENDED,
  INSURANCE_ENDED,
  INSURANCE_CONTRIBUTION_PAID,
  INSURANCE_PAYMENT_STARTED,
  INSURANCE_PAYMENT_STOPPED,
  DEATH_REGISTERED,
  HOUSEHOLD_MOVED_OUT,
  HOUSEHOLD_MOVED_IN,
  EMPLOYER_OPENED,
  EMPLOYER_CLOSED,
  // A reviewed business event entering the registry.
  REGISTRY_CHANGE_APPROVED,
  // Time (docs/adr/0005).
  COMPARISON_RECOMPARE_DUE,
]);

/**
 * The next recompare day after comparing `record` as of the trigger's day; null when there is none,
 * or when the person is not ours to compare. Pure, and computed in a rebuild too (it is state, not a
 * decision).
 */
export function dueAfter(trigger: RegistrationEvent, record: RegistrationRecord, policy: RegionPolicy): RecompareDue | null {
  if (!inComparisonScope(record)) return null;
  return nextRecompare(record, policy, chinaDate(trigger.occurredAt));
}

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
