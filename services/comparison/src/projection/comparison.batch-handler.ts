import { OUTCOME_DETERMINED } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { evolve } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import type { BatchApplyContext } from '@qmcb/event-log';
import { loadRecords, saveRecords } from '@qmcb/service-kit';
import { decisionChanged } from '../rules';
import type { Decision, RegionPolicies } from '../rules';
import { RECOMPARE_ON, decisionAfter, outcomeEvent, recordOutcomes } from './outcome';
import type { OutcomeEvent } from './outcome';

export class EmittedOutcomeAlreadyAppliedError extends Error {
  constructor() {
    super('an outcome this batch decided was applied before; the batch is applied one event at a time instead');
    this.name = 'EmittedOutcomeAlreadyAppliedError';
  }
}

/** What was last decided for a person, as decisionChanged compares it. */
type Recorded = Parameters<typeof decisionChanged>[0];

interface PersonFold {
  /** Indexes into the chunk's events, in log order. */
  at: number[];
  /** The record right after each of those events. */
  after: RegistrationRecord[];
  /** The one outcome emitted for this person, folded right after events[at[pos]]. */
  emitted: { pos: number; event: OutcomeEvent; record: RegistrationRecord } | null;
}

/**
 * Comparison in batch mode (ProjectionHandler.applyBatch, ADR 0001 "Batch apply") for the events of
 * one consumer chunk, in log order:
 *
 * 1. The records of everyone in the chunk are loaded (and locked) in one statement, and each
 *    person's events folded in memory with `evolve`.
 * 2. At each triggering event (a source record, a final approval) the person is compared on the
 *    record right after it, as the one-by-one path does, and "changed?" is tracked against what that
 *    path would have recorded by then (compare is pure and reads neither the recorded decision nor
 *    the flags, so the intermediate outcomes need not be folded to decide the same). Usually a
 *    person has one trigger per chunk, so one comparison.
 * 3. Only the LAST change per person is emitted: the decision the one-by-one path would hold at the
 *    end, with the same event ID (from its trigger), reasons and details, folded right after that
 *    trigger, where that path applied it. Outcomes of intermediate states, which no one saw
 *    committed, are not emitted.
 * 4. The records go back in one multi-row upsert, the outcomes into the outbox in one insert
 *    (ctx.emit, which marks them applied), and every outcome of the chunk (emitted ones and any
 *    that came from the log) into outcome_history and current_outcome, one statement each.
 *
 * The end state equals one by one (comparison.batch-handler.int-spec.ts): the same records but for
 * the bookkeeping of the outcome events left out (the record's version, its last event, and the
 * emitted outcome's `previousOutcome`, which names the outcome actually on the log before it), the
 * same current outcomes, and an outcome_history that is the one-by-one history without the
 * intermediate outcomes.
 */
export async function applyComparisonBatch(events: readonly RegistrationEvent[], ctx: BatchApplyContext, policies: RegionPolicies): Promise<void> {
  const people = new Map<string, PersonFold>();
  events.forEach((e, i) => {
    const fold = people.get(e.personKey);
    if (fold) fold.at.push(i);
    else people.set(e.personKey, { at: [i], after: [], emitted: null });
  });
  const stored = await loadRecords(ctx.manager, [...people.keys()], true);
  const finals: RegistrationRecord[] = [];
  for (const [personKey, fold] of people) {
    let record = stored.get(personKey) ?? null;
    let recorded: Recorded = record?.comparison ?? null;
    let last: { pos: number; decision: Decision } | null = null;
    for (let pos = 0; pos < fold.at.length; pos++) {
      const event = events[fold.at[pos] as number] as RegistrationEvent;
      const next: RegistrationRecord = evolve(record, event);
      record = next;
      fold.after.push(next);
      if (event.type === OUTCOME_DETERMINED) recorded = event.payload;
      // A rebuild decides nothing: the outcomes are further down the log.
      if (ctx.rebuilding || !RECOMPARE_ON.has(event.type)) continue;
      const decision = decisionAfter(event, next, policies);
      if (decision && decisionChanged(recorded, decision)) {
        recorded = decision;
        last = { pos, decision };
      }
    }
    const change = last;
    if (change) {
      // Fold the outcome right after its trigger, then the person's later events of the chunk again.
      const trigger = events[fold.at[change.pos] as number] as RegistrationEvent;
      const before = fold.after[change.pos] as RegistrationRecord;
      const outcome = outcomeEvent(trigger, before, change.decision);
      record = evolve(before, outcome);
      fold.emitted = { pos: change.pos, event: outcome, record };
      for (let pos = change.pos + 1; pos < fold.at.length; pos++) {
        record = evolve(record, events[fold.at[pos] as number] as RegistrationEvent);
        fold.after[pos] = record;
      }
    }
    if (record) finals.push(record);
  }

  const emitted = [...people.values()].flatMap((f) => (f.emitted ? [f.emitted.event] : []));
  if (emitted.length > 0) {
    const fresh = await ctx.emit(emitted);
    // Folded above as new: if one was applied before, that fold is wrong. Throwing makes the runner
    // roll this call back and apply the chunk one by one, which handles it exactly.
    if (fresh.length !== emitted.length) throw new EmittedOutcomeAlreadyAppliedError();
  }
  await saveRecords(ctx.manager, finals);

  // Every outcome of the chunk with the record right after it, per person in fold order.
  const outcomes: { event: OutcomeEvent; record: RegistrationRecord }[] = [];
  for (const fold of people.values()) {
    fold.at.forEach((i, pos) => {
      const event = events[i] as RegistrationEvent;
      if (event.type === OUTCOME_DETERMINED) outcomes.push({ event, record: fold.after[pos] as RegistrationRecord });
      if (fold.emitted?.pos === pos) outcomes.push({ event: fold.emitted.event, record: fold.emitted.record });
    });
  }
  await recordOutcomes(ctx.manager, outcomes);
}
