import { OUTCOME_DETERMINED, REVIEW_FINAL_APPROVED, SOURCE_RECORD_RECEIVED, deterministicId } from '@qmcb/contracts';
import type { EventOf, RegistrationEvent } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import { recordDivision } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';
import { compare, decisionChanged, inComparisonScope, policyFor } from '../rules';
import type { Decision, RegionPolicies } from '../rules';

export type OutcomeEvent = EventOf<typeof OUTCOME_DETERMINED>;

/** Events after which a person is compared again: any new fact about them. */
export const RECOMPARE_ON: ReadonlySet<string> = new Set<string>([SOURCE_RECORD_RECEIVED, REVIEW_FINAL_APPROVED]);

/**
 * What comparing `record` (the person's record right after `trigger`) decides, as of the trigger's
 * time; null when the event does not trigger a comparison or the person is not ours to compare.
 * Pure: it reads neither the recorded decision nor the flags, so it decides the same whether or not
 * earlier outcome events were folded into the record.
 */
export function decisionAfter(trigger: RegistrationEvent, record: RegistrationRecord, policies: RegionPolicies): Decision | null {
  if (!RECOMPARE_ON.has(trigger.type) || !inComparisonScope(record)) return null;
  return compare(record, policyFor(record, policies), trigger.occurredAt);
}

/** The outcome event of a changed decision taken right after `trigger`, on `record`. */
export function outcomeEvent(trigger: RegistrationEvent, record: RegistrationRecord, decision: Decision): OutcomeEvent {
  const now = new Date().toISOString();
  return {
    eventId: deterministicId('comparison', 'outcome', trigger.eventId),
    type: OUTCOME_DETERMINED,
    schemaVersion: 2,
    personKey: trigger.personKey,
    occurredAt: now,
    recordedAt: now,
    source: 'svc:comparison',
    actor: 'svc:comparison',
    correlationId: trigger.correlationId,
    causationId: trigger.eventId,
    basedOnVersion: record.version,
    payload: {
      outcome: decision.outcome,
      previousOutcome: record.comparison?.outcome ?? 'none',
      reasons: decision.reasons,
    },
  };
}

/** One by one: the outcome event to emit after `trigger`, or null when the decision did not change. */
export function outcomeAfter(trigger: RegistrationEvent, record: RegistrationRecord, policies: RegionPolicies): OutcomeEvent | null {
  const decision = decisionAfter(trigger, record, policies);
  if (!decision || !decisionChanged(record.comparison, decision)) return null;
  return outcomeEvent(trigger, record, decision);
}

/**
 * The outcome tables for outcome events, each with the person's record right after it, in log order:
 * every one into outcome_history, the last one per person into current_outcome; two statements
 * whatever the count (what recording them one by one leaves behind).
 */
export async function recordOutcomes(manager: EntityManager, outcomes: readonly { event: OutcomeEvent; record: RegistrationRecord }[]): Promise<void> {
  if (outcomes.length === 0) return;
  // Rows as one JSON array (jsonb_to_recordset), cheaper than jsonb[] literals.
  await manager.query(
    `INSERT INTO outcome_history (event_id, person_key, outcome, previous_outcome, reasons, based_on_version, decided_at)
     SELECT h.event_id, h.person_key, h.outcome, h.previous_outcome, h.reasons, h.based_on_version, h.decided_at
       FROM jsonb_to_recordset($1::jsonb)
         AS h(event_id text, person_key text, outcome text, previous_outcome text, reasons jsonb, based_on_version int, decided_at timestamptz)
     ON CONFLICT (event_id) DO NOTHING`,
    [
      JSON.stringify(
        outcomes.map((o) => ({
          event_id: o.event.eventId,
          person_key: o.event.personKey,
          outcome: o.event.payload.outcome,
          previous_outcome: o.event.payload.previousOutcome,
          reasons: o.event.payload.reasons,
          based_on_version: o.event.basedOnVersion,
          decided_at: o.event.occurredAt,
        })),
      ),
    ],
  );
  const last = new Map<string, { event: OutcomeEvent; record: RegistrationRecord }>();
  for (const o of outcomes) last.set(o.event.personKey, o);
  await manager.query(
    `INSERT INTO current_outcome (person_key, outcome, reason_codes, division, decided_at)
     SELECT c.person_key, c.outcome, ARRAY(SELECT jsonb_array_elements_text(c.codes)), c.division, c.decided_at
       FROM jsonb_to_recordset($1::jsonb) AS c(person_key text, outcome text, codes jsonb, division text, decided_at timestamptz)
     ON CONFLICT (person_key) DO UPDATE SET outcome = EXCLUDED.outcome, reason_codes = EXCLUDED.reason_codes,
       division = EXCLUDED.division, decided_at = EXCLUDED.decided_at`,
    [
      JSON.stringify(
        [...last.values()].map((o) => ({
          person_key: o.event.personKey,
          outcome: o.event.payload.outcome,
          codes: o.event.payload.reasons.map((r) => r.code),
          division: recordDivision(o.record),
          decided_at: o.event.occurredAt,
        })),
      ),
    ],
  );
}
