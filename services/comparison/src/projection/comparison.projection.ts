import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { COMPARISON_RECOMPARE_DUE, LINK_CONFIRMED, LINK_PROPOSED, OUTCOME_DETERMINED, RECOMPARE_REQUESTED, REVIEW_FINAL_APPROVED, causedBy, deterministicId, newEvent } from '@qmcb/contracts';
import type { RecompareReason, RegistrationEvent } from '@qmcb/contracts';
import { isSurrogatePersonKey } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { lastPerPersonAndType } from '@qmcb/event-log';
import { deletePersonRows, LogContext, PERSON_ERASURE, PersonalDataSealer, PersonRecordRepository, Projection, REGISTRATION_LOG, RegionPolicyProvider } from '@qmcb/service-kit';
import type { PersonColumn, PersonErasedEvent } from '@qmcb/service-kit';
import { IdentityLinks, isLinkEvent } from '../linking/identity-links';
import { OutcomeRepository } from '../outcomes/outcome.repository';
import type { OutcomeEvent } from '../outcomes/outcome.repository';
import { decisionChanged } from '../rules';
import { RecompareDueRepository } from '../schedule/recompare-due.repository';
import type { RecompareDue } from '../schedule/next-due';
import { CoverageRecorder } from '../statistics/coverage-recorder';
import { COMPARISON_SERVICE, RECOMPARE_ON, decisionFor, dueAfter, outcomeEvent } from './outcome';

/**
 * Every column of comparison's schema that holds a person key, which at rest is the person ID
 * (ADR 0011 stage 5, `PersonKeyColumn`): `person_link.record_key` is the key of the records under a
 * mistyped ID, a person key too. An erasure deletes the rows whose column holds the person's, except
 * `person_link.record_key`: a link of their mistyped records to someone else is that person's (their
 * link event made it) and stays, as a rebuild keeps it. Structurally service-kit's `KeyColumn`s (what
 * `seal-records` re-keys; `person_record.person_key` is listed too).
 */
export const COMPARISON_KEY_COLUMNS: readonly PersonColumn[] = [
  { table: 'person_record', column: 'person_key' },
  { table: 'outcome_history', column: 'person_key' },
  { table: 'current_outcome', column: 'person_key' },
  { table: 'recompare_due', column: 'person_key' },
  { table: 'coverage_current', column: 'person_key' },
  { table: 'coverage_history', column: 'person_key' },
  { table: 'person_link', column: 'person_key' },
  { table: 'person_link', column: 'record_key' },
  { table: 'link_waiting', column: 'record_key' },
];

/** The key columns an erasure deletes the person's rows by (all but `person_link.record_key`). */
const ERASED_BY: readonly PersonColumn[] = COMPARISON_KEY_COLUMNS.filter((c) => !(c.table === 'person_link' && c.column === 'record_key'));

/** What was last decided for a person, as decisionChanged compares it. */
type Recorded = Parameters<typeof decisionChanged>[0];

/**
 * Comparison's projection (信息比对, procedure §7-§10): every event folded into the person's record; a
 * new fact (a department record, an approved form, a business event a rule reads, a link, a request
 * to compare again) or a recompare day compares the person again, and a changed decision (after an
 * approved form: any decision) is emitted as `comparison.outcome-determined`; outcomes on the log go
 * into the outcome tables. The next recompare day is kept per person (recompare_due).
 *
 * Records under a mistyped citizen ID are linked to the person they belong to (docs/design/
 * identity-linking.md): a strong candidate is proposed (`comparison.link-proposed`), and each side
 * of a link is compared with the linked records' insurance counted for the person. A batch applies
 * decisions only about the people whose events triggered them: a decision about anyone else (a link
 * proposed to the person the records belong to, a request to compare the other side of a link
 * again) goes to the log through the outbox and is applied by that person's own partition, so no
 * batch locks or writes another partition's people, and what a batch applies does not depend on
 * which other people happen to share it (ADR 0008).
 * Of several changes for one person within a batch only the last is emitted (the runtime's rule,
 * ADR 0004): the intermediate ones were never committed.
 */
@Projection()
export class ComparisonProjection {
  constructor(
    private readonly records: PersonRecordRepository,
    private readonly outcomes: OutcomeRepository,
    private readonly policies: RegionPolicyProvider,
    private readonly identityLinks: IdentityLinks,
    private readonly coverage: CoverageRecorder,
    private readonly dues: RecompareDueRepository,
    private readonly personal: PersonalDataSealer,
  ) {}

  @EventPattern(REGISTRATION_LOG)
  async handle(@Payload() events: RegistrationEvent[], @Ctx() log: LogContext): Promise<void> {
    const { manager } = log;
    const { after, records } = await this.records.fold(manager, events);
    const links = await this.identityLinks.load(manager, events, records);
    const latest = (key: string): RegistrationRecord | undefined => records.get(key) ?? links.partners.get(key);
    // Per person, the decision as this batch leaves it so far (its own emitted decisions included).
    const decided = new Map<string, Recorded>();
    const outcomes: OutcomeEvent[] = [];
    // Decisions about people outside the batch: to the log only.
    const elsewhere: RegistrationEvent[] = [];
    // Per person, the next recompare day as of the last trigger in the batch.
    const dues = new Map<string, { due: RecompareDue | null; basisEventId: string }>();
    const now = new Date().toISOString();

    const compareOne = (key: string, record: RegistrationRecord | undefined, trigger: RegistrationEvent): void => {
      if (!record) return;
      const decision = decisionFor(links.merged(key, record, latest), this.policies.forRecord(record), trigger.occurredAt, links.contextFor(key));
      if (!decision) return;
      const last = decided.has(key) ? (decided.get(key) ?? null) : record.comparison;
      // An approved form lifts the needs-survey flag (evolve); the decision on it is always recorded,
      // so a person whose collected information still leaves gaps is flagged again.
      const always = trigger.type === REVIEW_FINAL_APPROVED && trigger.personKey === key;
      if (!always && !decisionChanged(last, decision)) return;
      log.emit(outcomeEvent(trigger, record, decision, now, key));
      decided.set(key, decision);
    };
    /** Compares someone else again because of `trigger`: by a request through the log, applied by their own partition. */
    const compareAgain = (key: string, reason: RecompareReason, trigger: RegistrationEvent): void => {
      elsewhere.push(newEvent(RECOMPARE_REQUESTED, deterministicId('comparison', 'recompare', trigger.eventId, key), key, { reason }, causedBy(trigger, COMPARISON_SERVICE, now)));
    };

    const { proposals, searchAgain } = log.rebuilding ? { proposals: [], searchAgain: [] } : await this.identityLinks.propose(manager, links, events, records, now);
    // Looked for their person while households were being written elsewhere: look again once those are committed.
    for (const s of searchAgain) compareAgain(s.recordKey, 'link-search', s.trigger);
    // A proposal is about the person the records belong to: applied here only when their own event found it.
    for (const p of proposals) {
      if (p.trigger.personKey === p.personKey) log.emit(p.event);
      else elsewhere.push(p.event);
    }

    events.forEach((event, i) => {
      const record = after[i];
      // Organisational streams (survey campaigns, teams) are no person's: nothing to compare.
      if (!record) return;
      if (event.type === OUTCOME_DETERMINED) {
        outcomes.push(event);
        decided.set(event.personKey, event.payload);
        return;
      }
      if (isLinkEvent(event)) links.apply(event);
      // The next day the person's record could decide otherwise: kept in a rebuild too (state, not a decision).
      if (RECOMPARE_ON.has(event.type)) dues.set(event.personKey, { due: dueAfter(event, record, this.policies.forRecord(record)), basisEventId: event.eventId });
      // A rebuild decides nothing: the outcomes are further down the log.
      if (log.rebuilding) return;
      if (isLinkEvent(event)) {
        compareOne(event.personKey, record, event);
        const reason: RecompareReason = event.type === LINK_PROPOSED ? 'link-proposed' : event.type === LINK_CONFIRMED ? 'link-confirmed' : 'link-rejected';
        compareAgain(event.payload.recordKey, reason, event);
        return;
      }
      if (!RECOMPARE_ON.has(event.type) && event.type !== RECOMPARE_REQUESTED) return;
      compareOne(event.personKey, record, event);
      // The person these records are linked to counts their insurance: compared again too (not for a
      // request or a recompare day, which change nothing in the records).
      const person = event.type === RECOMPARE_REQUESTED || event.type === COMPARISON_RECOMPARE_DUE ? null : links.personOf(event.personKey);
      if (person) compareAgain(person, 'linked-record-changed', event);
    });
    // The records linked by this batch by their own event, once the rest of it is decided (their person: by the link event).
    for (const p of proposals) if (p.trigger.personKey === p.recordKey) compareOne(p.recordKey, records.get(p.recordKey), p.trigger);
    await this.outcomes.record(manager, outcomes);
    await this.identityLinks.save(manager, links, records);
    await this.coverage.record(manager, events, after);
    await this.dues.saveMany(manager, [...dues].map(([personKey, d]) => ({ personKey, ...d })));
    if (elsewhere.length > 0) await log.enqueue(lastPerPersonAndType(elsewhere));
  }

  /**
   * `person.erased` (ADR 0010): every row of the person goes: their record, outcomes, next recompare
   * day, coverage rows (current and history), the links their own link events made (person_link with
   * them as the person; the records those links were of wait for a person again, as a rebuild leaves
   * them; a link of their mistyped records to someone else is that person's, and stays as a rebuild
   * keeps it), their records waiting for a person, and the quarantined lines of bulk loads that carry
   * their citizen ID (operational rows, not rebuilt: the load counts stay).
   */
  @EventPattern(PERSON_ERASURE)
  async erase(@Payload() event: PersonErasedEvent, @Ctx() log: LogContext): Promise<void> {
    const key = event.personKey;
    // Key columns hold the person ID (ADR 0011 stage 5); rows not re-keyed yet hold the plain key,
    // so both are looked for (as review, survey tasking and dynamic update do).
    const linked: { record_key: string }[] = [];
    for (const value of new Set([this.records.keys.stored(key), key])) {
      linked.push(...((await log.manager.query(`SELECT record_key FROM person_link WHERE person_key = $1`, [value])) as { record_key: string }[]));
      await deletePersonRows(log.manager, value, ERASED_BY);
    }
    // Records that were linked to them wait for a person again, as in a rebuild.
    await this.identityLinks.unlinked(log.manager, linked.map((l) => this.records.keys.key(l.record_key)));
    // A quarantined line is kept as sent, sealed, with the refs of the citizen IDs in it (ADR 0011);
    // one quarantined before sealing has the ID somewhere in its text.
    if (!isSurrogatePersonKey(key)) {
      await log.manager.query(`DELETE FROM load_quarantine WHERE person_refs @> ARRAY[$1]::text[] OR strpos(raw, $2) > 0`, [await this.personal.personRef(key), key]);
    }
  }
}
