import { Injectable } from '@nestjs/common';
import type { EventOf, OUTCOME_DETERMINED, Outcome } from '@qmcb/contracts';
import { PersonalDataSealer, PersonRecordRepository } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';

export type OutcomeEvent = EventOf<typeof OUTCOME_DETERMINED>;

type Reason = { code: string; rule: string; ruleVersion: number; detail: string };

/** Where an outcome's reasons are sealed (the AAD's place, ADR 0011). */
export const OUTCOME_REASONS = 'outcome_history.reasons';

/** One outcome as it stands in `outcome_history`. */
export interface OutcomeHistoryRow {
  eventId: string;
  outcome: Outcome;
  previousOutcome: Outcome | 'none';
  reasons: Reason[];
  basedOnVersion: number | null;
  decidedAt: string;
}

/** A person in a flag list: the current outcome joined with where their record is filed now. */
export interface FlagRow {
  personKey: string;
  citizenId: string | null;
  name: string | null;
  division: string;
  outcome: Outcome;
  reasonCodes: string[];
  decidedAt: string;
}

export interface FlagQuery {
  /** Division code prefix (where records are filed, `person_record.division`). */
  within: string;
  outcome?: Outcome;
  reason?: string;
  limit: number;
  offset: number;
}

const iso = (v: Date | string): string => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

/**
 * `outcome_history` (every outcome on the log) and `current_outcome` (the last one per person, for
 * lists and counts). All SQL of the two tables. `person_key` holds the person ID (ADR 0011 stage 5,
 * `PersonKeyColumn`): converted here both ways; what this takes and returns is in person keys.
 * An outcome's reasons are sealed whole under the person's data key (`reasons_sealed`, migration
 * OutcomeReasonsSealed1764979200100): their details name what each source says of the person;
 * `reasons` keeps code, rule and rule version. A row written before keeps its details plain.
 */
@Injectable()
export class OutcomeRepository {
  constructor(
    private readonly records: PersonRecordRepository,
    private readonly personal: PersonalDataSealer,
  ) {}

  /**
   * Outcome events in log order: every one into outcome_history, the last one per person into
   * current_outcome; two statements whatever the count.
   */
  async record(manager: EntityManager, events: readonly OutcomeEvent[]): Promise<void> {
    if (events.length === 0) return;
    // One keyring call for the batch; an erased person (key shredded) is not written again.
    const sealed = await this.personal.seal(OUTCOME_REASONS, events.map((e) => ({ personKey: e.personKey, value: e.payload.reasons })));
    const outcomes = events.flatMap((event, i) => {
      const reasons = sealed[i];
      return reasons ? [{ event, reasons }] : [];
    });
    if (outcomes.length === 0) return;
    // Rows as one JSON array (jsonb_to_recordset), cheaper than jsonb[] literals.
    await manager.query(
      `INSERT INTO outcome_history (event_id, person_key, outcome, previous_outcome, reasons, reasons_sealed, based_on_version, decided_at)
       SELECT h.event_id, h.person_key, h.outcome, h.previous_outcome, h.reasons, decode(h.reasons_sealed, 'base64'), h.based_on_version, h.decided_at
         FROM jsonb_to_recordset($1::jsonb)
           AS h(event_id text, person_key text, outcome text, previous_outcome text, reasons jsonb, reasons_sealed text, based_on_version int, decided_at timestamptz)
       ON CONFLICT (event_id) DO NOTHING`,
      [
        JSON.stringify(
          outcomes.map((o) => ({
            event_id: o.event.eventId,
            person_key: this.records.keys.stored(o.event.personKey),
            outcome: o.event.payload.outcome,
            previous_outcome: o.event.payload.previousOutcome,
            reasons: o.event.payload.reasons.map((r) => ({ code: r.code, rule: r.rule, ruleVersion: r.ruleVersion })),
            reasons_sealed: o.reasons.toString('base64'),
            based_on_version: o.event.basedOnVersion,
            decided_at: o.event.occurredAt,
          })),
        ),
      ],
    );
    const last = new Map<string, { event: OutcomeEvent; reasons: Buffer }>();
    for (const o of outcomes) last.set(o.event.personKey, o);
    await manager.query(
      `INSERT INTO current_outcome (person_key, outcome, reason_codes, decided_at)
       SELECT c.person_key, c.outcome, ARRAY(SELECT jsonb_array_elements_text(c.codes)), c.decided_at
         FROM jsonb_to_recordset($1::jsonb) AS c(person_key text, outcome text, codes jsonb, decided_at timestamptz)
       ON CONFLICT (person_key) DO UPDATE SET outcome = EXCLUDED.outcome, reason_codes = EXCLUDED.reason_codes, decided_at = EXCLUDED.decided_at`,
      [
        JSON.stringify(
          [...last.values()].map((o) => ({
            person_key: this.records.keys.stored(o.event.personKey),
            outcome: o.event.payload.outcome,
            codes: o.event.payload.reasons.map((r) => r.code),
            decided_at: o.event.occurredAt,
          })),
        ),
      ],
    );
  }

  /** A person's outcomes in the order decided. */
  async historyOf(manager: EntityManager, personKey: string): Promise<OutcomeHistoryRow[]> {
    const rows: (Omit<OutcomeHistoryRow, 'decidedAt'> & { decidedAt: Date; sealed: Buffer | null })[] = await manager.query(
      `SELECT event_id AS "eventId", outcome, previous_outcome AS "previousOutcome", reasons, reasons_sealed AS sealed, based_on_version AS "basedOnVersion", decided_at AS "decidedAt"
         FROM outcome_history WHERE person_key = $1 ORDER BY based_on_version NULLS FIRST, decided_at, event_id`,
      [this.records.keys.stored(personKey)],
    );
    // One keyring look-up for the whole history; a row written before sealing is read as it is.
    const reasons = await this.personal.open<Reason[]>(OUTCOME_REASONS, rows.map((r) => ({ personKey, sealed: r.sealed, plain: r.reasons })));
    return rows.map(({ sealed: _sealed, ...r }, i) => ({ ...r, reasons: reasons[i] ?? r.reasons, decidedAt: iso(r.decidedAt) }));
  }

  /**
   * Flagged people by outcome and reason within a division, by where each record is filed now
   * (`person_record.division`, as `GET /persons` checks it), ordered by division and the stored
   * person key (the person ID, ADR 0011 stage 5: the `personId` the list shows).
   */
  async flags(manager: EntityManager, q: FlagQuery): Promise<{ total: number; items: FlagRow[] }> {
    const params: unknown[] = [`${q.within}%`];
    const where = [`p.division LIKE $1`];
    if (q.outcome) {
      params.push(q.outcome);
      where.push(`c.outcome = $${params.length}`);
    }
    if (q.reason) {
      params.push([q.reason]);
      where.push(`c.reason_codes @> $${params.length}::text[]`);
    }
    const from = `FROM current_outcome c JOIN person_record p ON p.person_key = c.person_key WHERE ${where.join(' AND ')}`;
    const [{ total }] = (await manager.query(`SELECT count(*)::int AS total ${from}`, params)) as [{ total: number }];
    // The record is sealed (ADR 0011): read with the page, opened here for the ID and the name.
    const rows: (Omit<FlagRow, 'decidedAt' | 'citizenId' | 'name'> & { decidedAt: Date; record: unknown; sealed: Buffer | null })[] = await manager.query(
      `SELECT c.person_key AS "personKey", p.record, p.sealed, p.division,
              c.outcome, c.reason_codes AS "reasonCodes", c.decided_at AS "decidedAt"
         ${from}
        ORDER BY p.division, c.person_key
        LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, q.limit, q.offset],
    );
    // `personKey` as stored (a person ID, ADR 0011 stage 5) until here.
    const records = await this.records.open(rows.map((r) => ({ person_key: r.personKey, record: r.record, sealed: r.sealed })));
    return {
      total,
      items: rows.map(({ record: _record, sealed: _sealed, ...r }) => {
        const personKey = this.records.keys.key(r.personKey);
        const opened = records.get(personKey);
        return { ...r, personKey, citizenId: opened?.citizenId ?? null, name: opened?.name ?? null, decidedAt: iso(r.decidedAt) };
      }),
    };
  }

  /** People by current outcome and by reason code within a division (null: everyone compared). */
  async counts(manager: EntityManager, within: string | null): Promise<{ byOutcome: Map<Outcome, number>; byReason: Map<string, number> }> {
    const scope = within === null ? '' : `JOIN person_record p ON p.person_key = c.person_key WHERE p.division LIKE $1`;
    const params = within === null ? [] : [`${within}%`];
    const outcomes: { outcome: Outcome; n: number }[] = await manager.query(`SELECT c.outcome, count(*)::int AS n FROM current_outcome c ${scope} GROUP BY c.outcome`, params);
    const reasons: { code: string; n: number }[] = await manager.query(
      `SELECT r.code, count(*)::int AS n FROM current_outcome c CROSS JOIN LATERAL unnest(c.reason_codes) AS r(code) ${scope} GROUP BY r.code ORDER BY r.code`,
      params,
    );
    return { byOutcome: new Map(outcomes.map((o) => [o.outcome, o.n])), byReason: new Map(reasons.map((r) => [r.code, r.n])) };
  }
}
