import { Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { REGISTRY_CHANGE_APPROVED, SOURCE_RECORD_RECEIVED, isBusinessEventType } from '@qmcb/contracts';
import type { RegistrationEvent } from '@qmcb/contracts';
import { filingDivision, isSurrogatePersonKey } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { deletePersonRows, LogContext, PERSON_ERASURE, PersonalDataSealer, PersonKeyColumn, PersonRecordRepository, Projection, REGISTRATION_LOG } from '@qmcb/service-kit';
import type { PersonColumn } from '@qmcb/service-kit';
import type { PersonErasedEvent } from '@qmcb/service-kit';
import { quoteIdent } from '@qmcb/event-log';
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

/**
 * Every column of dynamic update's projection schema that holds a person key: since ADR 0011 stage 5
 * it stores the person ID (`PersonKeyColumn.stored`), which the repositories convert at their
 * boundary. What the erasure deletes by, and what an upgrade re-keys (these tables are rebuilt from the log).
 */
export const KEY_COLUMNS: PersonColumn[] = [
  { table: 'person_record', column: 'person_key' },
  { table: 'record_history', column: 'person_key' },
  { table: 'record_snapshot', column: 'person_key' },
  { table: 'department_holding', column: 'person_key' },
  { table: 'change_proposal', column: 'person_key' },
];

/**
 * The same in the operational schema (`DynamicUpdateSettings.opsSchema`, by default `<DB_SCHEMA>_ops`;
 * the table names here are unqualified: qualify them with that schema). Not rebuilt: an upgrade must
 * re-key them in place. (`webhook_dead_letter.entries` names people too, inside its JSON: by
 * `personId`, the same stored value, and by `citizenId` in entries written before stage 5.)
 */
export const OPS_KEY_COLUMNS: PersonColumn[] = [
  { table: 'feed_entry', column: 'person_key' },
  { table: 'snapshot_member', column: 'person_key' },
  { table: 'snapshot_change', column: 'person_key' },
];

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
    private readonly keys: PersonKeyColumn,
    private readonly history: RecordHistoryRepository,
    private readonly snapshots: RecordSnapshotRepository,
    private readonly holdings: DepartmentHoldingRepository,
    private readonly proposals: ChangeProposalRepository,
    private readonly feed: FeedEntryRepository,
    @Inject(DYNAMIC_UPDATE_SETTINGS) private readonly settings: DynamicUpdateSettings,
    private readonly personal: PersonalDataSealer,
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

  /**
   * `person.erased` (ADR 0010): every row of the person goes, in the projection (record, history with
   * the events in it, whole-record snapshots, what departments hold, change proposals) and in the
   * operational schema, which a rebuild does not write (the change feed's entries, roster snapshot
   * members and changes, quarantined roster lines carrying their citizen ID, the person's entries inside webhook dead letters). The feed's sequence keeps
   * its gaps: subscribers read by cursor and miss nothing else.
   */
  @EventPattern(PERSON_ERASURE)
  async erase(@Payload() event: PersonErasedEvent, @Ctx() log: LogContext): Promise<void> {
    const { manager } = log;
    const key = event.personKey;
    // Key columns hold the person ID (ADR 0011 stage 5); a row not re-keyed yet still holds the key.
    const stored = this.keys.stored(key);
    const values = stored === key ? [key] : [stored, key];
    for (const value of values) await deletePersonRows(manager, value, KEY_COLUMNS);
    const ops = quoteIdent(this.settings.opsSchema);
    for (const { table, column } of OPS_KEY_COLUMNS) {
      await manager.query(`DELETE FROM ${ops}.${quoteIdent(table)} WHERE ${quoteIdent(column)} = ANY($1::text[])`, [values]);
    }
    // Refused roster lines are sealed and found by the person refs of the citizen IDs in them (ADR 0011); one refused before, by its text.
    if (!isSurrogatePersonKey(key)) {
      await manager.query(`DELETE FROM ${ops}.snapshot_quarantine WHERE person_refs @> ARRAY[$1]::text[] OR strpos(raw, $2) > 0`, [await this.personal.personRef(key), key]);
    }
    // Delivered entries name the person by person ID (and, in entries written before stage 5, by
    // citizen ID too). They are not re-keyed: any ID the person had since (a PERSON_ID_SECRET
    // rotation's previous one too) is looked for.
    await manager.query(
      `UPDATE ${ops}.webhook_dead_letter
          SET entries = COALESCE((SELECT jsonb_agg(e ORDER BY n) FROM jsonb_array_elements(entries) WITH ORDINALITY AS x(e, n)
                                   WHERE NOT (COALESCE(e->>'personId', '') = ANY($1::text[])) AND e->>'citizenId' IS DISTINCT FROM $2), '[]'::jsonb)
        WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(entries) AS d(e) WHERE e->>'personId' = ANY($1::text[]) OR e->>'citizenId' = $2)`,
      [this.keys.forms(key), key],
    );
  }
}
