import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { OUTCOME_DETERMINED, REVIEW_FINAL_APPROVED } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import { LogContext, PersonRecordRepository, Projection, REGISTRATION_LOG, RegionPolicyProvider } from '@qmcb/service-kit';
import { IdentityLinks, isLinkEvent } from '../linking/identity-links';
import { OutcomeRepository } from '../outcomes/outcome.repository';
import type { OutcomeEvent } from '../outcomes/outcome.repository';
import { decisionChanged } from '../rules';
import { CoverageRecorder } from '../statistics/coverage-recorder';
import { RECOMPARE_ON, decisionFor, outcomeEvent } from './outcome';

/** What was last decided for a person, as decisionChanged compares it. */
type Recorded = Parameters<typeof decisionChanged>[0];

/**
 * Comparison's projection (信息比对, procedure §7-§10): every event folded into the person's record; a
 * new fact (a department record, an approved form, a link) compares the person again and a changed
 * decision (after an approved form: any decision) is emitted as `comparison.outcome-determined`;
 * outcomes on the log go into the outcome tables.
 * Records under a mistyped citizen ID are linked to the person they belong to (docs/design/
 * identity-linking.md): a strong candidate is proposed (`comparison.link-proposed`), and both sides
 * of a link are compared with the linked records' insurance counted for the person.
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
    const now = new Date().toISOString();
    const proposals = log.rebuilding ? [] : await this.identityLinks.propose(manager, links, events, records, now);
    for (const p of proposals) log.emit(p.event);

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
      // A rebuild decides nothing: the outcomes are further down the log.
      if (log.rebuilding) return;
      if (isLinkEvent(event)) {
        compareOne(event.personKey, record, event);
        compareOne(event.payload.recordKey, latest(event.payload.recordKey), event);
        return;
      }
      if (!RECOMPARE_ON.has(event.type)) return;
      compareOne(event.personKey, record, event);
      // The other side of a link sees what changed here: a linked record's insurance counts for its person.
      for (const partner of links.partnersOf(event.personKey)) compareOne(partner, latest(partner), event);
    });
    // Both sides of a link proposed by this batch, once the rest of it is decided.
    for (const p of proposals) {
      compareOne(p.personKey, latest(p.personKey), p.trigger);
      compareOne(p.recordKey, latest(p.recordKey), p.trigger);
    }
    await this.outcomes.record(manager, outcomes);
    await this.identityLinks.save(manager, links, records);
    await this.coverage.record(manager, events, after);
  }
}
