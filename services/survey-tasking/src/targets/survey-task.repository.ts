import { Injectable } from '@nestjs/common';
import { PersonalDataSealer, PersonKeyColumn } from '@qmcb/service-kit';
import type { PlainRowSealer } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';
import { HouseholdKeyColumn } from './household-key-column';
import type { SurveyTarget, TargetStatus } from './survey-target.decider';
import type { TargetPerson } from './target-person';

/** A target as stored: the state, where it lies, its household and its person as the surveyor needs them. */
export interface TaskRow extends SurveyTarget {
  townshipCode: string;
  countyCode: string;
  householdKey: string;
  person: TargetPerson | Record<string, never>;
}

/** The row's columns as TaskRow fields, of the table under alias `t`. */
const COLUMNS = `t.task_id AS "taskId", t.person_key AS "personKey", t.village_code AS "villageCode", t.origin, t.status, t.reasons,
  t.submission_id AS "submissionId", t.surveyor_id AS "surveyorId", t.campaign_id AS "campaignId", t.team_id AS "teamId",
  t.responsible_id AS "responsibleId", t.assigned_at AS "assignedAt", t.visits, t.last_visit_id AS "lastVisitId", t.last_outcome AS "lastOutcome",
  t.last_visit_at AS "lastVisitAt", to_char(t.revisit_on, 'YYYY-MM-DD') AS "revisitOn", t.where_region AS "whereRegion", t.where_text AS "whereText",
  t.visit_note AS "visitNote", t.return_reason AS "returnReason", t.fields_to_fix AS "fieldsToFix", t.closed_reason AS "closedReason",
  t.finished_at AS "finishedAt", t.found_in_task_id AS "foundInTaskId", t.created_at AS "createdAt", t.updated_at AS "updatedAt", t.version,
  t.township_code AS "townshipCode", t.county_code AS "countyCode", t.household_key AS "householdKey", t.person,
  t.person_sealed AS "personSealed", t.notes_sealed AS "notesSealed"`;

type Raw = Record<string, unknown>;

const TIMES = ['assignedAt', 'lastVisitAt', 'finishedAt', 'createdAt', 'updatedAt'] as const;

/** Where a target's person and its notes are sealed (ADR 0011: the AAD names the place, so a value opens nowhere else). */
export const TASK_PERSON = 'survey_task.person';
export const TASK_NOTES = 'survey_task.notes';

/** The free texts of a target about its person (where they went, the surveyor's note, why review returned the form): sealed together. */
type Notes = Pick<SurveyTarget, 'whereText' | 'visitNote' | 'returnReason'>;

/** A row with a personal value still plain: its notes, or its person once set. */
const PLAIN = `(notes_sealed IS NULL OR (person_sealed IS NULL AND person <> '{}'::jsonb))`;

const notesOf = (t: Pick<SurveyTarget, 'whereText' | 'visitNote' | 'returnReason'>): Notes => ({ whereText: t.whereText ?? null, visitNote: t.visitNote ?? null, returnReason: t.returnReason ?? null });

function row(r: Raw): TaskRow {
  const out = { ...r } as Record<string, unknown>;
  for (const k of TIMES) {
    const v = out[k];
    out[k] = v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();
  }
  delete out['personSealed'];
  delete out['notesSealed'];
  return out as unknown as TaskRow;
}

export interface TaskFilter {
  /** Division code prefix within which targets lie (village code). */
  within: string;
  status?: TargetStatus;
  campaignId?: string;
  /** Only this surveyor's targets. */
  responsibleId?: string;
  limit: number;
  offset: number;
}

/** Which targets a campaign covers: those assigned under it, and its county's unassigned ones while it is open. */
export interface CampaignScope {
  campaignId: string;
  countyCode: string;
  open: boolean;
}

const IN_SCOPE = `(t.campaign_id = $1 OR (t.campaign_id IS NULL AND $3::boolean AND t.county_code = $2))`;
const scopeParams = (s: CampaignScope): unknown[] => [s.campaignId, s.countyCode, s.open];

export const PROGRESS_GROUPS = ['county', 'township', 'village', 'team'] as const;
export type ProgressGroup = (typeof PROGRESS_GROUPS)[number];
const GROUP_COLUMN: Record<ProgressGroup, string> = { county: 't.county_code', township: 't.township_code', village: 't.village_code', team: `coalesce(t.team_id::text, '')` };

export interface ProgressRow {
  key: string;
  targets: number;
  unassigned: number;
  visited: number;
  byOutcome: Record<string, number>;
  byStatus: Record<string, number>;
  submitted: number;
  approved: number;
  returned: number;
  closedOut: number;
  overdue: number;
}

/** A household's targets, for the balanced distribution. */
export interface HouseholdTargets {
  householdKey: string;
  villageCode: string;
  taskIds: string[];
}

/** A snapshot of the transactions PostgreSQL has seen finish: the first unassigned ID, and those still in progress below it. */
export interface Snapshot {
  xmax: string;
  xip: string[];
}

/** One entry of a surveyor's download feed, in the order of the transactions that wrote it. */
export interface FeedEntry {
  xid: string;
  taskId: string;
  kind: 'target' | 'removed';
}

const OVERDUE = `(t.status IN ('open', 'revisit', 'returned') AND ($4::date > $5::date OR (t.status = 'revisit' AND t.revisit_on < $4::date)))`;

/**
 * `survey_task`: every survey target's current state. All SQL of the table.
 *
 * At rest (ADR 0011, stage 4) the target's person (name, citizen ID, phone, addresses, household,
 * insurance: what the surveyor needs at the door) is sealed under the person's data key in
 * `person_sealed` (`person` is then `{}`), and its free texts (`where_text`, `visit_note`,
 * `return_reason`) in `notes_sealed` (those columns then null). No SQL selects, sorts or groups on
 * any of them (ledger order is village, household key, task); every read opens them in Node, one
 * keyring look-up per page. A row written before that has them plain and is read as it is; its
 * person is sealed when next written, its notes when its state is.
 *
 * `person_key` holds the person ID and `household_key` a person's own household as `P-<person ID>`
 * (stage 5, `PersonKeyColumn`, `HouseholdKeyColumn`): converted here, so callers deal in person and
 * household keys; lists in household key order are in stored order (arbitrary for those, stable).
 */
@Injectable()
export class SurveyTaskRepository implements PlainRowSealer {
  readonly table = 'survey_task';
  private readonly households: HouseholdKeyColumn;

  constructor(
    private readonly sealer: PersonalDataSealer,
    private readonly keys: PersonKeyColumn,
  ) {
    this.households = new HouseholdKeyColumn(keys);
  }

  /** A row as selected (COLUMNS, or household rows), its key columns turned back into keys. */
  private keyed<T extends Raw>(r: T): T {
    const out: Raw = { ...r };
    if (typeof r['personKey'] === 'string') out['personKey'] = this.keys.key(r['personKey']);
    if (typeof r['householdKey'] === 'string') out['householdKey'] = this.households.key(r['householdKey']);
    return out as T;
  }

  async countPlain(manager: EntityManager): Promise<number> {
    const [{ n }] = (await manager.query(`SELECT count(*)::int AS n FROM survey_task WHERE ${PLAIN}`)) as [{ n: number }];
    return n;
  }

  /**
   * Seals rows written before sealing (`seal-records`), by task ID: the notes, and the person where
   * it was set, as they are; locked; the download mark (`synced_xid`) stays, since nothing a surveyor
   * sees changes. An erased person's rows are left to the erasure.
   */
  async sealPlainRows(manager: EntityManager, after: string | null, limit: number): Promise<{ last: string | null; sealed: number }> {
    const rows: Raw[] = await manager.query(
      `SELECT ${COLUMNS} FROM survey_task t WHERE ${PLAIN} AND ($1::uuid IS NULL OR task_id > $1::uuid) ORDER BY task_id LIMIT $2 FOR UPDATE`,
      [after, limit],
    );
    if (rows.length === 0) return { last: null, sealed: 0 };
    const opened = await this.opened(rows);
    // A person never set (`{}`) stays as a target written since leaves it: not sealed.
    const withPerson = opened.filter((t) => Object.keys(t.person).length > 0);
    const notes = await this.sealer.seal(TASK_NOTES, opened.map((t) => ({ personKey: t.personKey, value: notesOf(t) })));
    const persons = await this.sealer.seal(TASK_PERSON, withPerson.map((t) => ({ personKey: t.personKey, value: t.person })));
    const personOf = new Map(withPerson.map((t, i) => [t.taskId, persons[i]]));
    const kept = opened.flatMap((t, i) => {
      const note = notes[i];
      const person = personOf.get(t.taskId);
      if (!note || person === null) return [];
      return [{ id: t.taskId, notes: note.toString('base64'), person: person ? person.toString('base64') : null }];
    });
    if (kept.length > 0) {
      await manager.query(
        `UPDATE survey_task t SET where_text = NULL, visit_note = NULL, return_reason = NULL, notes_sealed = decode(k.notes, 'base64'),
                person = CASE WHEN k.person IS NULL THEN t.person ELSE '{}'::jsonb END,
                person_sealed = CASE WHEN k.person IS NULL THEN t.person_sealed ELSE decode(k.person, 'base64') END
           FROM jsonb_to_recordset($1::jsonb) AS k(id uuid, notes text, person text) WHERE t.task_id = k.id`,
        [JSON.stringify(kept)],
      );
    }
    return { last: String((rows[rows.length - 1] as Raw)['taskId']), sealed: kept.length };
  }

  /** The rows as TaskRows, their sealed values opened (one keyring look-up per place); an erased person's targets are left out. */
  private async opened(stored: readonly Raw[]): Promise<TaskRow[]> {
    if (stored.length === 0) return [];
    const rows = stored.map((r) => this.keyed(r));
    const key = (r: Raw): string => String(r['personKey']);
    const persons = await this.sealer.open<TaskRow['person']>(TASK_PERSON, rows.map((r) => ({ personKey: key(r), sealed: (r['personSealed'] as Buffer | null) ?? null, plain: r['person'] })));
    const notes = await this.sealer.open<Notes>(
      TASK_NOTES,
      rows.map((r) => ({ personKey: key(r), sealed: (r['notesSealed'] as Buffer | null) ?? null, plain: notesOf(r as unknown as Notes) })),
    );
    return rows.flatMap((r, i) => {
      const person = persons[i];
      const note = notes[i];
      if (person === undefined || note === undefined) return [];
      // Assigned in place: the fields keep their order.
      const out = row(r) as unknown as Record<string, unknown>;
      Object.assign(out, notesOf(note), { person });
      return [out as unknown as TaskRow];
    });
  }
  async find(manager: EntityManager, taskId: string, forUpdate = false): Promise<TaskRow | null> {
    const rows: Raw[] = await manager.query(`SELECT ${COLUMNS} FROM survey_task t WHERE task_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [taskId]);
    return (await this.opened(rows))[0] ?? null;
  }

  async findMany(manager: EntityManager, taskIds: readonly string[], forUpdate = false): Promise<TaskRow[]> {
    if (taskIds.length === 0) return [];
    const rows: Raw[] = await manager.query(`SELECT ${COLUMNS} FROM survey_task t WHERE task_id = ANY($1::uuid[]) ORDER BY task_id${forUpdate ? ' FOR UPDATE' : ''}`, [[...new Set(taskIds)]]);
    return this.opened(rows);
  }

  /** Each person's current (newest) target, locked for the batch that changes it. */
  async currentOf(manager: EntityManager, personKeys: readonly string[], forUpdate = true): Promise<Map<string, TaskRow>> {
    const out = new Map<string, TaskRow>();
    if (personKeys.length === 0) return out;
    const rows: Raw[] = await manager.query(
      `SELECT ${COLUMNS} FROM survey_task t WHERE task_id IN (
         SELECT DISTINCT ON (person_key) task_id FROM survey_task WHERE person_key = ANY($1::text[])
          ORDER BY person_key, created_at DESC, task_id)
        ORDER BY task_id${forUpdate ? ' FOR UPDATE' : ''}`,
      [this.keys.storedAll(new Set(personKeys))],
    );
    for (const r of await this.opened(rows)) out.set(r.personKey, r);
    return out;
  }

  async forPerson(manager: EntityManager, personKey: string): Promise<TaskRow[]> {
    const rows: Raw[] = await manager.query(`SELECT ${COLUMNS} FROM survey_task t WHERE person_key = $1 ORDER BY created_at, task_id`, [this.keys.stored(personKey)]);
    return this.opened(rows);
  }

  async list(manager: EntityManager, filter: TaskFilter): Promise<{ total: number; items: TaskRow[] }> {
    const params = [`${filter.within}%`, filter.status ?? null, filter.campaignId ?? null, filter.responsibleId ?? null];
    const where = `village_code LIKE $1 AND ($2::text IS NULL OR status = $2) AND ($3::uuid IS NULL OR campaign_id = $3) AND ($4::text IS NULL OR responsible_id = $4)`;
    const [{ total }] = (await manager.query(`SELECT count(*)::int AS total FROM survey_task WHERE ${where}`, params)) as [{ total: number }];
    const rows: Raw[] = await manager.query(
      `SELECT ${COLUMNS} FROM survey_task t WHERE ${where} ORDER BY village_code, household_key, created_at, task_id LIMIT $5 OFFSET $6`,
      [...params, filter.limit, filter.offset],
    );
    return { total, items: await this.opened(rows) };
  }

  /**
   * Upserts targets' states in one statement (at most one row per task); the row's sync mark moves to this
   * transaction. The person key as stored (a row written before stage 5 is re-keyed; its household key by
   * `updatePeople` or the upgrade).
   */
  async saveMany(manager: EntityManager, targets: readonly SurveyTarget[]): Promise<void> {
    if (targets.length === 0) return;
    const sealed = await this.sealer.seal(TASK_NOTES, targets.map((t) => ({ personKey: t.personKey, value: notesOf(t) })));
    // An erased person (key shredded) is not written again: ADR 0010 deleted their rows. The notes go sealed only.
    const kept = targets.flatMap((t, i) => {
      const bytes = sealed[i];
      return bytes ? [{ ...stateOf(t), personKey: this.keys.stored(t.personKey), whereText: null, visitNote: null, returnReason: null, notesSealed: bytes.toString('base64') }] : [];
    });
    if (kept.length === 0) return;
    await manager.query(
      `INSERT INTO survey_task (task_id, person_key, village_code, township_code, county_code, origin, status, reasons, submission_id,
         surveyor_id, campaign_id, team_id, responsible_id, assigned_at, visits, last_visit_id, last_outcome, last_visit_at, revisit_on,
         where_region, where_text, visit_note, return_reason, fields_to_fix, closed_reason, finished_at, found_in_task_id, created_at, updated_at, version, household_key,
         notes_sealed)
       SELECT t."taskId", t."personKey", t."villageCode", substr(t."villageCode", 1, 9), substr(t."villageCode", 1, 6), t.origin, t.status,
              ARRAY(SELECT jsonb_array_elements_text(t.reasons)), t."submissionId", t."surveyorId", t."campaignId", t."teamId", t."responsibleId",
              t."assignedAt", t.visits, t."lastVisitId", t."lastOutcome", t."lastVisitAt", t."revisitOn"::date, t."whereRegion", t."whereText",
              t."visitNote", t."returnReason", ARRAY(SELECT jsonb_array_elements_text(t."fieldsToFix")), t."closedReason", t."finishedAt",
              t."foundInTaskId", t."createdAt", t."updatedAt", t.version, 'P-' || t."personKey", decode(t."notesSealed", 'base64')
         FROM jsonb_to_recordset($1::jsonb) AS t("taskId" uuid, "personKey" text, "villageCode" text, origin text, status text, reasons jsonb,
              "submissionId" uuid, "surveyorId" text, "campaignId" uuid, "teamId" uuid, "responsibleId" text, "assignedAt" timestamptz,
              visits int, "lastVisitId" uuid, "lastOutcome" text, "lastVisitAt" timestamptz, "revisitOn" text, "whereRegion" text, "whereText" text,
              "visitNote" text, "returnReason" text, "fieldsToFix" jsonb, "closedReason" text, "finishedAt" timestamptz, "foundInTaskId" uuid,
              "createdAt" timestamptz, "updatedAt" timestamptz, version int, "notesSealed" text)
       ON CONFLICT (task_id) DO UPDATE SET person_key = EXCLUDED.person_key, status = EXCLUDED.status, reasons = EXCLUDED.reasons, submission_id = EXCLUDED.submission_id,
         surveyor_id = EXCLUDED.surveyor_id, campaign_id = EXCLUDED.campaign_id, team_id = EXCLUDED.team_id, responsible_id = EXCLUDED.responsible_id,
         assigned_at = EXCLUDED.assigned_at, visits = EXCLUDED.visits, last_visit_id = EXCLUDED.last_visit_id, last_outcome = EXCLUDED.last_outcome,
         last_visit_at = EXCLUDED.last_visit_at, revisit_on = EXCLUDED.revisit_on, where_region = EXCLUDED.where_region, where_text = EXCLUDED.where_text,
         visit_note = EXCLUDED.visit_note, return_reason = EXCLUDED.return_reason, fields_to_fix = EXCLUDED.fields_to_fix,
         closed_reason = EXCLUDED.closed_reason, finished_at = EXCLUDED.finished_at, updated_at = EXCLUDED.updated_at, version = EXCLUDED.version,
         notes_sealed = EXCLUDED.notes_sealed, synced_xid = pg_current_xact_id()`,
      [JSON.stringify(kept)],
    );
  }

  /**
   * Sets the person (sealed) and household of every target of these people where they changed: the
   * same person seals to the same bytes, so an unchanged one does not touch the row (nor the
   * surveyors' downloads); a row whose person is still plain (written before sealing) is sealed.
   */
  async updatePeople(manager: EntityManager, people: readonly { personKey: string; householdKey: string; person: TargetPerson }[]): Promise<void> {
    if (people.length === 0) return;
    const sealed = await this.sealer.seal(TASK_PERSON, people.map((p) => ({ personKey: p.personKey, value: p.person })));
    // An erased person (key shredded) is not written again.
    const kept = people.flatMap((p, i) => {
      const bytes = sealed[i];
      return bytes ? [{ person_key: this.keys.stored(p.personKey), household_key: this.households.stored(p.householdKey), sealed: bytes.toString('base64') }] : [];
    });
    if (kept.length === 0) return;
    await manager.query(
      `UPDATE survey_task t SET person = '{}'::jsonb, person_sealed = decode(p.sealed, 'base64'), household_key = p.household_key, synced_xid = pg_current_xact_id()
         FROM jsonb_to_recordset($1::jsonb) AS p(person_key text, household_key text, sealed text)
        WHERE t.person_key = p.person_key
          AND (t.person_sealed IS DISTINCT FROM decode(p.sealed, 'base64') OR t.person <> '{}'::jsonb OR t.household_key IS DISTINCT FROM p.household_key)`,
      [JSON.stringify(kept)],
    );
  }

  /** Marks the open targets of these households changed (a member changed), so surveyors' downloads bring the household again. */
  async touchHouseholds(manager: EntityManager, householdKeys: readonly string[]): Promise<void> {
    await this.touchStoredHouseholds(manager, this.households.storedAll(householdKeys));
  }

  /** `touchHouseholds` by the column's values as read (stored, or written before stage 5), not converted. */
  async touchStoredHouseholds(manager: EntityManager, values: readonly string[]): Promise<void> {
    if (values.length === 0) return;
    await manager.query(`UPDATE survey_task SET synced_xid = pg_current_xact_id() WHERE household_key = ANY($1::text[]) AND finished_at IS NULL`, [[...new Set(values)]]);
  }

  /**
   * A surveyor's download: their targets, the targets taken from them and those deleted by an erasure
   * (tombstones, ADR 0010) written by a transaction the `since` snapshot did not see (in progress then,
   * or started after it), after a position, in write order.
   */
  async feed(manager: EntityManager, surveyorId: string, since: Snapshot, after: { xid: string; taskId: string }, limit: number): Promise<FeedEntry[]> {
    const unseen = `(synced_xid >= $2::xid8 OR synced_xid = ANY($3::xid8[])) AND (synced_xid, task_id) > ($4::xid8, $5::uuid)`;
    return manager.query(
      `SELECT xid::text AS xid, task_id AS "taskId", kind FROM (
         SELECT synced_xid AS xid, task_id, 'target' AS kind FROM survey_task WHERE responsible_id = $1 AND ${unseen}
         UNION ALL
         SELECT a.synced_xid, a.task_id, 'removed' FROM survey_assignment a
          WHERE a.surveyor_id = $1 AND a.ended_at IS NOT NULL AND ${unseen.replace(/synced_xid/g, 'a.synced_xid').replace(/task_id\)/g, 'a.task_id)')}
            AND NOT EXISTS (SELECT 1 FROM survey_task t WHERE t.task_id = a.task_id AND t.responsible_id = $1)
         UNION ALL
         SELECT e.synced_xid, e.task_id, 'removed' FROM survey_task_erased e
          WHERE e.surveyor_id = $1 AND ${unseen.replace(/synced_xid/g, 'e.synced_xid').replace(/task_id\)/g, 'e.task_id)')}
       ) f ORDER BY f.xid, f.task_id, f.kind LIMIT $6`,
      [surveyorId, since.xmax, since.xip, after.xid, after.taskId, limit],
    );
  }

  /**
   * What a transaction starting now sees (PostgreSQL's snapshot): every transaction below `xmax` has
   * finished except those in `xip`; anything written later has one of those IDs or a higher one.
   */
  async snapshot(manager: EntityManager): Promise<Snapshot> {
    const [r] = (await manager.query(`SELECT pg_snapshot_xmax(s)::text AS xmax, ARRAY(SELECT x::text FROM pg_snapshot_xip(s) AS x ORDER BY 1) AS xip FROM pg_current_snapshot() AS s`)) as [Snapshot];
    return r;
  }

  /** Unfinished targets of these villages, by household, for the balanced distribution (locked). */
  async householdsOfVillages(manager: EntityManager, villageCodes: readonly string[], scope: CampaignScope): Promise<HouseholdTargets[]> {
    if (villageCodes.length === 0) return [];
    return this.householdRows(manager,
      `SELECT t.household_key AS "householdKey", t.village_code AS "villageCode",
              array_agg(t.task_id::text ORDER BY t.task_id) AS "taskIds"
         FROM survey_task t
        WHERE t.village_code = ANY($4::text[]) AND t.finished_at IS NULL AND ${IN_SCOPE}
        GROUP BY 1, 2 ORDER BY 2, 1`,
      [...scopeParams(scope), [...new Set(villageCodes)]],
    );
  }

  /** Unfinished targets of these households in a campaign's scope. */
  async householdsOf(manager: EntityManager, householdKeys: readonly string[], scope: CampaignScope): Promise<HouseholdTargets[]> {
    if (householdKeys.length === 0) return [];
    return this.householdRows(manager,
      `SELECT t.household_key AS "householdKey", t.village_code AS "villageCode", array_agg(t.task_id::text ORDER BY t.task_id) AS "taskIds"
         FROM survey_task t WHERE t.household_key = ANY($4::text[]) AND t.finished_at IS NULL AND ${IN_SCOPE}
        GROUP BY 1, 2 ORDER BY 2, 1`,
      [...scopeParams(scope), this.households.storedAll(householdKeys)],
    );
  }

  /** Unfinished targets of these surveyors in a team, by household. */
  async householdsOfSurveyors(manager: EntityManager, teamId: string, surveyorIds: readonly string[]): Promise<HouseholdTargets[]> {
    if (surveyorIds.length === 0) return [];
    return this.householdRows(manager,
      `SELECT household_key AS "householdKey", village_code AS "villageCode", array_agg(task_id::text ORDER BY task_id) AS "taskIds"
         FROM survey_task WHERE team_id = $1 AND responsible_id = ANY($2::text[]) AND finished_at IS NULL GROUP BY 1, 2 ORDER BY 2, 1`,
      [teamId, [...surveyorIds]],
    );
  }

  /** Households' targets selected by one of the above, their household keys turned back into keys. */
  private async householdRows(manager: EntityManager, sql: string, params: unknown[]): Promise<HouseholdTargets[]> {
    const rows: HouseholdTargets[] = await manager.query(sql, params);
    return rows.map((r) => ({ ...r, householdKey: this.households.key(r.householdKey) }));
  }

  /** Unfinished targets per surveyor of these teams (their workload). */
  async loads(manager: EntityManager, teamIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (teamIds.length === 0) return out;
    const rows: { surveyor: string; n: number }[] = await manager.query(
      `SELECT responsible_id AS surveyor, count(*)::int AS n FROM survey_task WHERE team_id = ANY($1::uuid[]) AND finished_at IS NULL AND responsible_id IS NOT NULL GROUP BY 1`,
      [[...new Set(teamIds)]],
    );
    for (const r of rows) out.set(r.surveyor, r.n);
    return out;
  }

  /** Per household, the team and surveyor of its unfinished targets in a campaign (the first given), to keep a household with one surveyor. */
  async householdSurveyors(manager: EntityManager, campaignId: string, householdKeys: readonly string[]): Promise<Map<string, { teamId: string; surveyorId: string }>> {
    const out = new Map<string, { teamId: string; surveyorId: string }>();
    if (householdKeys.length === 0) return out;
    const rows: { household: string; teamId: string; surveyorId: string }[] = await manager.query(
      `SELECT DISTINCT ON (household_key) household_key AS household, team_id AS "teamId", responsible_id AS "surveyorId" FROM survey_task
        WHERE campaign_id = $1 AND household_key = ANY($2::text[]) AND responsible_id IS NOT NULL AND finished_at IS NULL
        ORDER BY household_key, assigned_at, task_id`,
      [campaignId, this.households.storedAll(householdKeys)],
    );
    for (const r of rows) out.set(this.households.key(r.household), { teamId: r.teamId, surveyorId: r.surveyorId });
    return out;
  }

  /** Progress of a campaign within a division, grouped (figures per county, township, village or team). */
  async progress(manager: EntityManager, scope: CampaignScope, within: string, group: ProgressGroup, today: string, deadline: string): Promise<ProgressRow[]> {
    const rows: Raw[] = await manager.query(
      `SELECT ${GROUP_COLUMN[group]} AS key, count(*)::int AS targets,
              count(*) FILTER (WHERE t.responsible_id IS NULL AND t.finished_at IS NULL)::int AS unassigned,
              count(*) FILTER (WHERE t.visits > 0)::int AS visited,
              count(*) FILTER (WHERE t.status IN ('submitted', 'initial-approved'))::int AS submitted,
              count(*) FILTER (WHERE t.status = 'approved')::int AS approved,
              count(*) FILTER (WHERE t.status = 'returned')::int AS returned,
              count(*) FILTER (WHERE t.finished_at IS NOT NULL)::int AS "closedOut",
              count(*) FILTER (WHERE ${OVERDUE})::int AS overdue
         FROM survey_task t WHERE ${IN_SCOPE} AND t.village_code LIKE $6 || '%' GROUP BY 1 ORDER BY 1`,
      [...scopeParams(scope), today, deadline, within],
    );
    const statuses: { key: string; status: string; outcome: string | null; n: number }[] = await manager.query(
      `SELECT ${GROUP_COLUMN[group]} AS key, t.status, t.last_outcome AS outcome, count(*)::int AS n
         FROM survey_task t WHERE ${IN_SCOPE} AND t.village_code LIKE $4 || '%' GROUP BY 1, 2, 3`,
      [...scopeParams(scope), within],
    );
    const byKey = new Map<string, ProgressRow>();
    for (const r of rows) byKey.set(String(r['key']), { ...(r as unknown as ProgressRow), key: String(r['key']), byOutcome: {}, byStatus: {} });
    for (const s of statuses) {
      const p = byKey.get(s.key);
      if (!p) continue;
      p.byStatus[s.status] = (p.byStatus[s.status] ?? 0) + s.n;
      if (s.outcome) p.byOutcome[s.outcome] = (p.byOutcome[s.outcome] ?? 0) + s.n;
    }
    return [...byKey.values()];
  }

  /** Overdue targets of a campaign within a division (still to do after the deadline, or a planned revisit passed). */
  async overdue(manager: EntityManager, scope: CampaignScope, within: string, today: string, deadline: string, limit: number, offset: number): Promise<{ total: number; items: TaskRow[] }> {
    const where = `${IN_SCOPE} AND ${OVERDUE} AND t.village_code LIKE $6 || '%'`;
    const params = [...scopeParams(scope), today, deadline, within];
    const [{ total }] = (await manager.query(`SELECT count(*)::int AS total FROM survey_task t WHERE ${where}`, params)) as [{ total: number }];
    const rows: Raw[] = await manager.query(
      `SELECT ${COLUMNS} FROM survey_task t WHERE ${where} ORDER BY t.village_code, t.household_key, t.task_id LIMIT $7 OFFSET $8`,
      [...params, limit, offset],
    );
    return { total, items: await this.opened(rows) };
  }

  /**
   * A page of a campaign's targets within a division in ledger order (village, household, target), after a
   * position (read along survey_task_ledger_idx); with `responsibleId`, only that surveyor's targets (a surveyor's ledger).
   */
  async ledgerPage(
    manager: EntityManager,
    scope: CampaignScope,
    within: string,
    after: { villageCode: string; householdKey: string; taskId: string } | null,
    limit: number,
    responsibleId: string | null = null,
  ): Promise<TaskRow[]> {
    // The division as a range of village codes, so the index reads only its villages.
    // (bpchar, as the column: compared as text the index would not be used, and every page would sort the county.)
    const range = `t.village_code BETWEEN rpad($4, 12, '0')::bpchar AND rpad($4, 12, '9')::bpchar`;
    const params: unknown[] = [...scopeParams(scope), within, limit];
    let position = '';
    if (after) {
      params.push(after.villageCode, this.households.stored(after.householdKey), after.taskId);
      position = `AND (t.village_code, t.household_key, t.task_id) > ($${params.length - 2}::bpchar, $${params.length - 1}::text, $${params.length}::uuid)`;
    }
    let responsible = '';
    if (responsibleId !== null) {
      params.push(responsibleId);
      responsible = `AND t.responsible_id = $${params.length}`;
    }
    const rows: Raw[] = await manager.query(
      `SELECT ${COLUMNS} FROM survey_task t WHERE ${IN_SCOPE} AND ${range} ${position} ${responsible}
        ORDER BY t.village_code, t.household_key, t.task_id LIMIT $5`,
      params,
    );
    return this.opened(rows);
  }
}

function stateOf(t: SurveyTarget): SurveyTarget {
  return {
    taskId: t.taskId,
    personKey: t.personKey,
    villageCode: t.villageCode,
    origin: t.origin,
    status: t.status,
    reasons: t.reasons,
    submissionId: t.submissionId,
    surveyorId: t.surveyorId,
    campaignId: t.campaignId,
    teamId: t.teamId,
    responsibleId: t.responsibleId,
    assignedAt: t.assignedAt,
    visits: t.visits,
    lastVisitId: t.lastVisitId,
    lastOutcome: t.lastOutcome,
    lastVisitAt: t.lastVisitAt,
    revisitOn: t.revisitOn,
    whereRegion: t.whereRegion,
    whereText: t.whereText,
    visitNote: t.visitNote,
    returnReason: t.returnReason,
    fieldsToFix: t.fieldsToFix,
    closedReason: t.closedReason,
    finishedAt: t.finishedAt,
    foundInTaskId: t.foundInTaskId,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    version: t.version,
  };
}

/** The state part of a stored row (what the decider folds). */
export function targetOf(r: TaskRow): SurveyTarget {
  return stateOf(r);
}
