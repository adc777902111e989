import { Injectable, Logger } from '@nestjs/common';
import { DEPARTMENTS_BY_KIND, REGISTRY_ABSENT_FROM_ROSTER, deterministicId, newEvent, newId } from '@qmcb/contracts';
import type { Department, EventOf, FactKind, RegistrationEvent } from '@qmcb/contracts';
import { absenceKey, notOlder } from '@qmcb/domain';
import { EventLogProducer } from '@qmcb/event-log';
import { DomainError } from '@qmcb/platform';
import { Clock, PersonalDataSealer, PersonKeyColumn, PersonRecordRepository } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import { OpsDatabase } from '../ops/ops-data-source';
import { DepartmentHoldingRepository } from './department-holding.repository';
import type { HoldingPosition } from './department-holding.repository';
import { rosterDiff } from './roster-diff';
import { linesOf, rosterRow } from './roster-rows';
import type { RosterContext, RosterRow } from './roster-rows';
import { SnapshotRepository, emptySnapshotCounts } from './snapshot.repository';
import type { QuarantinedLine, SnapshotChange, SnapshotCounts, SnapshotReport } from './snapshot.repository';

/** Roster lines per chunk: looked up, diffed, appended and recorded together. */
const CHUNK = 500;
/** Held slots per page of the absence scan. */
const PAGE = 1000;
/** Events per append. */
const APPEND = 500;

export interface SnapshotRequest {
  department: Department;
  kind: FactKind;
  scope: string;
  asOf: string;
  actor: string;
}

/**
 * Periodic department snapshots (procedure §24): a department's full roster of one kind for a
 * division, streamed line by line and diffed chunk by chunk against what the registry holds from that
 * department. Only real changes become events (a snapshot record of the row, as if posted); then every
 * slot the department holds in the division that the roster left out is flagged
 * (`registry.absent-from-roster`, never deleted). Memory holds one chunk and one page; the roster's
 * members are kept in the operational schema for the absence scan and dropped at the end.
 * Re-sending the same roster changes nothing: rows are unchanged, absences already flagged.
 */
@Injectable()
export class SnapshotRunner {
  private readonly logger = new Logger('Snapshot');
  private readonly store: SnapshotRepository;

  constructor(
    private readonly dataSource: DataSource,
    private readonly ops: OpsDatabase,
    private readonly producer: EventLogProducer,
    private readonly records: PersonRecordRepository,
    private readonly holdings: DepartmentHoldingRepository,
    private readonly clock: Clock,
    keys: PersonKeyColumn,
    sealer: PersonalDataSealer,
  ) {
    this.store = new SnapshotRepository(keys, sealer);
  }

  async run(request: SnapshotRequest, source: AsyncIterable<Buffer | string>): Promise<SnapshotReport> {
    if (!(DEPARTMENTS_BY_KIND[request.kind] as readonly Department[]).includes(request.department)) {
      throw new DomainError('FORBIDDEN', `department '${request.department}' keeps no records of kind '${request.kind}'`);
    }
    const ctx: RosterContext = { snapshotId: newId(), ...request, recordedAt: this.clock.now().toISOString() };
    const opsManager = this.ops.dataSource.manager;
    await this.store.create(opsManager, { snapshotId: ctx.snapshotId, department: ctx.department, kind: ctx.kind, scope: ctx.scope, asOf: ctx.asOf, actor: ctx.actor, startedAt: ctx.recordedAt });
    this.logger.log({ msg: 'snapshot started', snapshotId: ctx.snapshotId, department: ctx.department, kind: ctx.kind, scope: ctx.scope });
    const counts = emptySnapshotCounts();
    let error: string | null = null;
    try {
      let chunk: RosterRow[] = [];
      for await (const line of linesOf(source)) {
        if (line.text.trim() === '' && !line.tooLong) continue;
        chunk.push(rosterRow(line, ctx));
        if (chunk.length >= CHUNK) {
          await this.chunk(ctx, chunk, counts);
          chunk = [];
        }
      }
      await this.chunk(ctx, chunk, counts);
      await this.absences(ctx, counts);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      this.logger.warn({ msg: 'snapshot stopped', snapshotId: ctx.snapshotId, err: error });
    }
    const status = error ? 'failed' : 'completed';
    await this.store.finish(opsManager, ctx.snapshotId, status, counts, this.clock.now().toISOString(), error && 'the snapshot stopped before its end; send the roster again (rows already applied are unchanged then)');
    this.logger.log({ msg: `snapshot ${status}`, snapshotId: ctx.snapshotId, ...counts, quarantinedByReason: undefined });
    const report = await this.store.report(opsManager, ctx.snapshotId);
    if (!report) throw new Error('the snapshot report is gone');
    return report;
  }

  private async append(events: RegistrationEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += APPEND) await this.producer.append(events.slice(i, i + APPEND));
  }

  private async chunk(ctx: RosterContext, rows: readonly RosterRow[], counts: SnapshotCounts): Promise<void> {
    if (rows.length === 0) return;
    const opsManager = this.ops.dataSource.manager;
    const valid = rows.filter((r): r is Extract<RosterRow, { ok: true }> => r.ok);
    const quarantined: QuarantinedLine[] = rows.flatMap((r) => (r.ok ? [] : [{ line: r.line, reason: r.violations[0]?.rule ?? 'unknown', raw: r.raw, violations: r.violations }]));
    const first = await this.store.addMembers(opsManager, ctx.snapshotId, valid.map((r) => ({ personKey: r.personKey, slot: r.slot })));
    const seen = new Set<string>();
    const fresh = valid.filter((r) => {
      const key = `${r.personKey}\u0000${r.slot}`;
      if (!first.has(key) || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const records = await this.records.findMany(this.dataSource.manager, fresh.map((r) => r.personKey));
    const changes: SnapshotChange[] = [];
    const events: RegistrationEvent[] = [];
    const next: SnapshotCounts = { ...counts, quarantinedByReason: { ...counts.quarantinedByReason } };
    next.rows += rows.length;
    next.duplicates += valid.length - fresh.length;
    next.quarantined += quarantined.length;
    for (const q of quarantined) next.quarantinedByReason[q.reason] = (next.quarantinedByReason[q.reason] ?? 0) + 1;
    for (const row of fresh) {
      const diff = rosterDiff(records.get(row.personKey) ?? null, ctx.department, row.facts, ctx.asOf);
      next[diff.change] += 1;
      if (diff.change !== 'added' && diff.change !== 'updated') continue;
      events.push(row.event);
      changes.push({ personKey: row.personKey, slot: row.slot, line: row.line, change: diff.change, items: diff.fields, eventId: row.event.eventId });
    }
    await this.append(events);
    next.events += events.length;
    await this.store.record(opsManager, ctx.snapshotId, changes, quarantined, next);
    Object.assign(counts, next);
  }

  /** Every slot the department holds of the kind in the scope, page by page: those the roster left out are flagged. */
  private async absences(ctx: RosterContext, counts: SnapshotCounts): Promise<void> {
    const opsManager = this.ops.dataSource.manager;
    let after: HoldingPosition | null = null;
    for (;;) {
      const page = await this.holdings.page(this.dataSource.manager, { department: ctx.department, kind: ctx.kind, scope: ctx.scope, after, limit: PAGE });
      if (page.length === 0) return;
      const last = page[page.length - 1];
      if (last) after = last.position;
      const listed = await this.store.listed(opsManager, ctx.snapshotId, page);
      const missing = page.filter((h) => !listed.has(`${h.personKey}\u0000${h.slot}`));
      const newer = missing.filter((h) => Date.parse(h.asOf) > Date.parse(ctx.asOf));
      const left = missing.filter((h) => Date.parse(h.asOf) <= Date.parse(ctx.asOf));
      const records = await this.records.findMany(this.dataSource.manager, left.map((h) => h.personKey));
      const events: EventOf<typeof REGISTRY_ABSENT_FROM_ROSTER>[] = [];
      const changes: SnapshotChange[] = [];
      const next: SnapshotCounts = { ...counts, newerThanRoster: counts.newerThanRoster + newer.length };
      for (const h of left) {
        const flagged = records.get(h.personKey)?.rosterAbsences[absenceKey(ctx.department, h.slot)];
        if (flagged && notOlder(flagged.rosterAsOf, ctx.asOf)) {
          next.alreadyAbsent += 1;
          continue;
        }
        const eventId = deterministicId('roster-absence', ctx.department, h.slot, h.personKey, ctx.asOf);
        events.push(
          newEvent(
            REGISTRY_ABSENT_FROM_ROSTER,
            eventId,
            h.personKey,
            { snapshotId: ctx.snapshotId, department: ctx.department, kind: ctx.kind, slot: h.slot, scope: ctx.scope, rosterAsOf: ctx.asOf },
            { source: `dept:${ctx.department}`, actor: ctx.actor, occurredAt: ctx.asOf, recordedAt: ctx.recordedAt, correlationId: ctx.snapshotId },
          ),
        );
        changes.push({ personKey: h.personKey, slot: h.slot, line: null, change: 'absent', items: [`rosterAbsence.${absenceKey(ctx.department, h.slot)}`], eventId });
      }
      await this.append(events);
      next.absent += events.length;
      next.events += events.length;
      await this.store.record(opsManager, ctx.snapshotId, changes, [], next);
      Object.assign(counts, next);
    }
  }

  async report(snapshotId: string, department: Department): Promise<SnapshotReport> {
    const report = await this.store.report(this.ops.dataSource.manager, snapshotId);
    if (!report || report.department !== department) throw new DomainError('NOT_FOUND', 'no such snapshot');
    return report;
  }

  async changes(snapshotId: string, department: Department, change: SnapshotChange['change'] | null, limit: number, offset: number): Promise<{ snapshotId: string; total: number; items: SnapshotChange[] }> {
    await this.report(snapshotId, department);
    return { snapshotId, ...(await this.store.changes(this.ops.dataSource.manager, snapshotId, change, limit, offset)) };
  }

  async quarantine(snapshotId: string, department: Department, limit: number, offset: number): Promise<{ snapshotId: string; total: number; items: QuarantinedLine[] }> {
    await this.report(snapshotId, department);
    return { snapshotId, ...(await this.store.quarantine(this.ops.dataSource.manager, snapshotId, limit, offset)) };
  }
}
