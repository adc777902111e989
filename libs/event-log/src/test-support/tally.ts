// A tiny projection for the event-log's own tests: per person, the ordered list of event IDs
// applied, so order and exactly-once are visible in one table.
import { deterministicId, SURVEY_TASK_CREATED } from '@qmcb/contracts';
import type { EventOf, RegistrationEvent } from '@qmcb/contracts';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import type { ProjectionContext, ProjectionHandler } from '../apply';
import type { ConsumerTuning } from '../consumer';
import { eventLogMigrations, openDataSource } from '../database';
import { jsonLogger } from '../logger';
import type { Logger } from '../logger';
import { int, sql, text } from '../sql';

export class TallyTables1732300000900 implements MigrationInterface {
  name = 'TallyTables1732300000900';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`create table tally (person_key text primary key, events int not null, last_event_id text not null, seq text[] not null)`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table tally`);
  }
}

export function tallyMigrations(): (new () => MigrationInterface)[] {
  return [...eventLogMigrations(), TallyTables1732300000900];
}

export function openTally(url: string, schema = 'tally_test'): Promise<DataSource> {
  return openDataSource({ url, schema, migrations: tallyMigrations() });
}

/**
 * Per person, the event IDs in the order applied. One handle call is one batch (a chunk of the
 * consumer batch, a half of a failed one, or a single event).
 */
export class TallyHandler implements ProjectionHandler {
  /** Handler invocations per event ID: every call that reached the event, including ones rolled back. */
  readonly calls = new Map<string, number>();
  /** Calls per event ID in which it was the only event (the attempts of a poison event, once isolated). */
  readonly alone = new Map<string, number>();
  /** Sizes of the handle calls, in order (including the ones that threw). */
  readonly batches: number[] = [];
  /** Event IDs whose apply always throws. */
  readonly failing = new Set<string>();
  /** Event IDs that make a call throw until they have failed this many more times on their own. */
  readonly flaky = new Map<string, number>();
  delayMs = 0;
  /** Runs before each event of a call (tests use it to inject faults); `call` counts events handled so far. */
  before?: (event: RegistrationEvent, ctx: ProjectionContext, call: number) => Promise<void>;
  /** Events to emit after applying one. */
  emitFor?: (event: RegistrationEvent) => RegistrationEvent[];

  get totalCalls(): number {
    let n = 0;
    for (const c of this.calls.values()) n += c;
    return n;
  }

  async handle(events: readonly RegistrationEvent[], ctx: ProjectionContext): Promise<void> {
    this.batches.push(events.length);
    const isAlone = events.length === 1;
    for (const event of events) {
      this.calls.set(event.eventId, (this.calls.get(event.eventId) ?? 0) + 1);
      if (isAlone) this.alone.set(event.eventId, (this.alone.get(event.eventId) ?? 0) + 1);
      if (this.before) await this.before(event, ctx, this.totalCalls);
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.failing.has(event.eventId)) throw new Error(`tally refuses ${event.eventId}`);
      const flaky = this.flaky.get(event.eventId) ?? 0;
      if (flaky > 0) {
        if (isAlone) this.flaky.set(event.eventId, flaky - 1);
        throw new Error(`tally is flaky on ${event.eventId}`);
      }
    }
    const seqs = new Map<string, string[]>();
    for (const e of events) seqs.set(e.personKey, [...(seqs.get(e.personKey) ?? []), e.eventId]);
    await ctx.manager.query(
      `insert into tally (person_key, events, last_event_id, seq)
       select t.p, cardinality(t.s), t.s[cardinality(t.s)], t.s
         from (select x.p, array(select jsonb_array_elements_text(x.j)) as s from unnest($1::text[], $2::jsonb[]) as x(p, j)) t
       on conflict (person_key) do update
         set events = tally.events + excluded.events, last_event_id = excluded.last_event_id, seq = tally.seq || excluded.seq`,
      [[...seqs.keys()], [...seqs.values()].map((s) => JSON.stringify(s))],
    );
    if (this.emitFor) ctx.emit(events.flatMap((e) => this.emitFor?.(e) ?? []));
  }
}

export function personKey(i: number): string {
  return `110101199001${String(i).padStart(6, '0')}`;
}

export function taskEvent(person: string, n: number, tag = 't'): EventOf<typeof SURVEY_TASK_CREATED> {
  const eventId = deterministicId('tally-test', tag, person, String(n));
  return {
    eventId,
    type: SURVEY_TASK_CREATED,
    schemaVersion: 1,
    personKey: person,
    occurredAt: '2024-03-01T08:00:00.000Z',
    recordedAt: '2024-03-01T08:00:01.000Z',
    source: 'svc:event-log-test',
    actor: 'svc:event-log-test',
    correlationId: eventId,
    causationId: null,
    basedOnVersion: null,
    payload: { taskId: deterministicId('task', eventId), villageCode: '110101001001', reasons: [`n${n}`] },
  };
}

/** `count` events spread round-robin over `persons` people. */
export function eventsFor(persons: number, count: number, tag = 't', firstPerson = 0): RegistrationEvent[] {
  return Array.from({ length: count }, (_, i) => taskEvent(personKey(firstPerson + (i % persons)), i, tag));
}

export type Tally = Record<string, string[]>;

export async function readTally(dataSource: DataSource, schema?: string): Promise<Tally> {
  const table = schema ? `"${schema}".tally` : 'tally';
  const { rows } = await sql(dataSource.manager, `select person_key, events, last_event_id, seq from ${table} order by person_key`);
  const out: Tally = {};
  for (const r of rows) {
    const seq = r['seq'];
    if (!Array.isArray(seq) || int(r, 'events') !== seq.length || text(r, 'last_event_id') !== seq[seq.length - 1]) {
      throw new Error(`tally row of ${text(r, 'person_key')} is inconsistent`);
    }
    out[text(r, 'person_key')] = seq.map(String);
  }
  return out;
}

/** What the tally must be after applying events in this (log) order, each event ID once. */
export function expectedTally(events: RegistrationEvent[]): Tally {
  const seen = new Set<string>();
  const out: Tally = {};
  for (const e of events) {
    if (seen.has(e.eventId)) continue;
    seen.add(e.eventId);
    (out[e.personKey] ??= []).push(e.eventId);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** Short timings so a 2-core machine runs the suite quickly and without flakes. */
export const TEST_TUNING: ConsumerTuning = {
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  rebalanceTimeoutMs: 20_000,
  maxWaitTimeMs: 200,
  retryBackoffMs: 50,
};

/** Warnings and errors only, and only when QMCB_TEST_LOG=1 (dead-letter tests log errors on purpose). */
export function testLogger(): Logger {
  const inner = jsonLogger('event-log.test');
  const on = process.env['QMCB_TEST_LOG'] === '1';
  return {
    log: () => undefined,
    warn: (m, c) => (on ? inner.warn(m, c) : undefined),
    error: (m, c) => (on ? inner.error(m, c) : undefined),
  };
}
