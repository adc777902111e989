import { Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { REGISTRY_CHANGE_APPROVED, SOURCE_RECORD_RECEIVED, isBusinessEventType } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { filingDivision } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { LogContext, PersonRecordRepository, Projection, REGISTRATION_LOG } from '@qmcb/service-kit';
import { evolve as evolveProposal, isProposalEvent } from '../changes/change-proposal.decider';
import type { ChangeProposal } from '../changes/change-proposal.decider';
import { ChangeProposalRepository } from '../changes/change-proposal.repository';
import { DYNAMIC_UPDATE_SETTINGS } from '../dynamic-update.config';
import type { DynamicUpdateSettings } from '../dynamic-update.config';
import { FeedEntryRepository } from '../feed/feed-entry.repository';
import type { FeedEntry } from '../feed/feed-entry.repository';
import { RecordHistoryRepository } from '../registry/record-history.repository';
import type { HistoryInsert } from '../registry/record-history.repository';
import { RecordSnapshotRepository, SNAPSHOT_EVERY } from '../registry/record-snapshot.repository';
import { itemChanges } from '../registry/registry-items';
import { DepartmentHoldingRepository } from '../snapshots/department-holding.repository';

/** Events that can change what a department holds of a person. */
function changesHoldings(event: RegistrationEvent): boolean {
  return event.type === SOURCE_RECORD_RECEIVED || event.type === REGISTRY_CHANGE_APPROVED || isBusinessEventType(event.type);
}

/** The later of two ISO times (null counts as none). */
function later(a: string | null | undefined, b: string): string {
  return a && Date.parse(a) > Date.parse(b) ? a : b;
}

/**
 * The authoritative registry (登记库, procedure §20-§24): every event folded into the person's record;
 * per event, a history row with what it changed and what caused it (the registry's audit trail and
 * the base of as-of reads), a whole record every 64 versions, what each department holds (rosters are
 * diffed against it), the county's queue of routed business events, and the change feed. The feed is
 * an output, like an outbox: a rebuild does not write it again (its entries are kept in the
 * operational schema, docs/adr/0005).
 */
@Projection()
export class RegistryProjection {
  constructor(
    private readonly records: PersonRecordRepository,
    private readonly history: RecordHistoryRepository,
    private readonly snapshots: RecordSnapshotRepository,
    private readonly holdings: DepartmentHoldingRepository,
    private readonly proposals: ChangeProposalRepository,
    private readonly feed: FeedEntryRepository,
    @Inject(DYNAMIC_UPDATE_SETTINGS) private readonly settings: DynamicUpdateSettings,
  ) {}

  @EventPattern(REGISTRATION_LOG)
  async handle(@Payload() events: RegistrationEvent[], @Ctx() log: LogContext): Promise<void> {
    const { after, before, records } = await this.records.fold(log.manager, events);
    const people = [...records.keys()];
    const heldFrom = await this.history.lastHeldFrom(log.manager, people);
    const rows: HistoryInsert[] = [];
    const whole: RegistrationRecord[] = [];
    const entries: FeedEntry[] = [];
    const proposalEvents: { event: Parameters<typeof evolveProposal>[1]; division: string | null }[] = [];
    events.forEach((event, i) => {
      const record = after[i];
      if (!record) return;
      const previous = before[i] ?? null;
      const changes = itemChanges(previous, record);
      const held = later(heldFrom.get(event.personKey), event.recordedAt);
      heldFrom.set(event.personKey, held);
      rows.push({ event, record, changes, heldFrom: held });
      if (record.version % SNAPSHOT_EVERY === 0) whole.push(record);
      if (isProposalEvent(event)) proposalEvents.push({ event, division: filingDivision(record) });
      if (changes.length === 0) return;
      entries.push({
        eventId: event.eventId,
        personKey: event.personKey,
        version: record.version,
        type: event.type,
        divisionBefore: previous ? filingDivision(previous) : null,
        divisionAfter: filingDivision(record),
        occurredAt: event.occurredAt,
        recordedAt: event.recordedAt,
        source: event.source,
        actor: event.actor,
        changes,
      });
    });
    await this.history.insertMany(log.manager, rows);
    await this.snapshots.insertMany(log.manager, whole);
    const holders = new Set(events.filter(changesHoldings).map((e) => e.personKey));
    await this.holdings.replaceFor(log.manager, [...holders].flatMap((k) => records.get(k) ?? []));
    await this.applyProposals(log, proposalEvents);
    // An output, like the outbox: a rebuild reads the log again but the feed already carries it.
    if (!log.rebuilding) await this.feed.insertMany(log.manager, this.settings.opsSchema, entries);
  }

  private async applyProposals(log: LogContext, items: { event: Parameters<typeof evolveProposal>[1]; division: string | null }[]): Promise<void> {
    if (items.length === 0) return;
    const state = await this.proposals.findMany(log.manager, items.map((i) => i.event.payload.proposalId));
    const changed = new Map<string, ChangeProposal>();
    for (const { event, division } of items) {
      const id = event.payload.proposalId;
      const next = evolveProposal(state.get(id) ?? null, event, division);
      if (next && next !== state.get(id)) {
        state.set(id, next);
        changed.set(id, next);
      }
    }
    await this.proposals.saveMany(log.manager, [...changed.values()]);
  }
}
