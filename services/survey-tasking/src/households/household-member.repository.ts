import { Injectable } from '@nestjs/common';
import { PersonalDataSealer, PersonKeyColumn } from '@qmcb/service-kit';
import type { PlainRowSealer } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';
import { HouseholdKeyColumn } from '../targets/household-key-column';

/** A member of a household as survey tasking holds them: registered by public security, or found at a visit. */
export interface MemberRow {
  personKey: string;
  householdKey: string;
  villageCode: string;
  householdNo: string | null;
  citizenId: string | null;
  name: string | null;
  relation: string | null;
  sex: string | null;
  birthDate: string | null;
  hukouStatus: string | null;
  source: 'household' | 'found';
  foundTaskId: string | null;
}

/** What of a member is sealed at rest (ADR 0011): who they are. */
type MemberValues = Pick<MemberRow, 'citizenId' | 'name' | 'relation' | 'sex' | 'birthDate'>;

/** Where a member's values are sealed (the AAD names it, so they open nowhere else). */
export const MEMBER_VALUES = 'survey_household_member.sealed';

type StoredMember = MemberRow & { sealed: Buffer | null };

const COLUMNS = `person_key AS "personKey", household_key AS "householdKey", village_code AS "villageCode", household_no AS "householdNo",
  citizen_id AS "citizenId", name, relation, sex, birth_date AS "birthDate", hukou_status AS "hukouStatus", source, found_task_id AS "foundTaskId", sealed`;

/**
 * `survey_household_member`: who lives in each household (户), for the door and for 户不漏人. All SQL of the table.
 *
 * At rest (ADR 0011, stage 4) a member's citizen ID, name, relation, sex and birth date are `sealed`
 * and those columns are null; SQL reads only the household, village, 户号, hukou status and source
 * (no query selects on a citizen ID or a name: a found person is matched against the household's
 * members in Node, after they are read by household). The key that seals them is the member's own,
 * the row's `person_key`: the row is the member's (its key, and what the erasure of ADR 0010 deletes
 * by), and the values are theirs, not the household's. Sealed under a household head's or a target's
 * key instead, a member's name and ID would outlive the member's own erasure in every backup, and
 * die with someone else's. A row written before that has `sealed` null: read as it is.
 *
 * `person_key` holds the person ID and `household_key` a person's own household as `P-<person ID>`
 * (stage 5, `PersonKeyColumn`, `HouseholdKeyColumn`): converted here, so callers deal in keys.
 */
@Injectable()
export class HouseholdMemberRepository implements PlainRowSealer {
  readonly table = 'survey_household_member';
  private readonly households: HouseholdKeyColumn;

  constructor(
    private readonly sealer: PersonalDataSealer,
    private readonly keys: PersonKeyColumn,
  ) {
    this.households = new HouseholdKeyColumn(keys);
  }

  async countPlain(manager: EntityManager): Promise<number> {
    const [{ n }] = (await manager.query(`SELECT count(*)::int AS n FROM survey_household_member WHERE sealed IS NULL`)) as [{ n: number }];
    return n;
  }

  /**
   * Seals rows written before sealing (`seal-records`), by person key as stored (`after` and the answer
   * are stored values): each member as they are, locked; an erased member is left to the erasure.
   */
  async sealPlainRows(manager: EntityManager, after: string | null, limit: number): Promise<{ last: string | null; sealed: number }> {
    const rows: StoredMember[] = await manager.query(
      `SELECT ${COLUMNS} FROM survey_household_member WHERE sealed IS NULL AND ($1::text IS NULL OR person_key > $1) ORDER BY person_key LIMIT $2 FOR UPDATE`,
      [after, limit],
    );
    if (rows.length === 0) return { last: null, sealed: 0 };
    await this.upsertMany(manager, await this.opened(rows));
    // A row keyed by the plain key (written before stage 5) was written again under the person ID: the old one goes.
    const rekeyed = rows.map((r) => ({ old: r.personKey, new: this.keys.stored(this.keys.key(r.personKey)) })).filter((k) => k.old !== k.new);
    if (rekeyed.length > 0) {
      await manager.query(
        `DELETE FROM survey_household_member o USING jsonb_to_recordset($1::jsonb) AS k(old text, new text)
          WHERE o.person_key = k.old AND EXISTS (SELECT 1 FROM survey_household_member n WHERE n.person_key = k.new AND n.sealed IS NOT NULL)`,
        [JSON.stringify(rekeyed)],
      );
    }
    const [{ n }] = (await manager.query(`SELECT count(*)::int AS n FROM survey_household_member WHERE person_key = ANY($1::text[]) AND sealed IS NULL`, [rows.map((r) => r.personKey)])) as [{ n: number }];
    return { last: (rows[rows.length - 1] as StoredMember).personKey, sealed: rows.length - n };
  }

  async findMany(manager: EntityManager, personKeys: readonly string[]): Promise<Map<string, MemberRow>> {
    const out = new Map<string, MemberRow>();
    if (personKeys.length === 0) return out;
    const rows: StoredMember[] = await manager.query(`SELECT ${COLUMNS} FROM survey_household_member WHERE person_key = ANY($1::text[])`, [this.keys.storedAll(new Set(personKeys))]);
    for (const r of await this.opened(rows)) out.set(r.personKey, r);
    return out;
  }

  async upsertMany(manager: EntityManager, members: readonly MemberRow[]): Promise<void> {
    if (members.length === 0) return;
    const sealed = await this.sealer.seal(
      MEMBER_VALUES,
      members.map((m) => ({ personKey: m.personKey, value: { citizenId: m.citizenId, name: m.name, relation: m.relation, sex: m.sex, birthDate: m.birthDate } satisfies MemberValues })),
    );
    // An erased member (key shredded) is not written again: ADR 0010 deleted their row.
    const kept = members.flatMap((m, i) => {
      const bytes = sealed[i];
      return bytes ? [{ ...m, personKey: this.keys.stored(m.personKey), householdKey: this.households.stored(m.householdKey), citizenId: null, name: null, relation: null, sex: null, birthDate: null, sealed: bytes.toString('base64') }] : [];
    });
    if (kept.length === 0) return;
    await manager.query(
      `INSERT INTO survey_household_member (person_key, household_key, village_code, household_no, citizen_id, name, relation, sex, birth_date, hukou_status, source, found_task_id, sealed)
       SELECT m."personKey", m."householdKey", m."villageCode", m."householdNo", NULL, NULL, NULL, NULL, NULL, m."hukouStatus", m.source, m."foundTaskId", decode(m.sealed, 'base64')
         FROM jsonb_to_recordset($1::jsonb) AS m("personKey" text, "householdKey" text, "villageCode" text, "householdNo" text, "hukouStatus" text, source text, "foundTaskId" uuid, sealed text)
       ON CONFLICT (person_key) DO UPDATE SET household_key = EXCLUDED.household_key, village_code = EXCLUDED.village_code, household_no = EXCLUDED.household_no,
         citizen_id = NULL, name = NULL, relation = NULL, sex = NULL, birth_date = NULL,
         hukou_status = EXCLUDED.hukou_status, source = EXCLUDED.source, found_task_id = EXCLUDED.found_task_id, sealed = EXCLUDED.sealed`,
      [JSON.stringify(kept)],
    );
  }

  async deleteMany(manager: EntityManager, personKeys: readonly string[]): Promise<void> {
    if (personKeys.length === 0) return;
    await manager.query(`DELETE FROM survey_household_member WHERE person_key = ANY($1::text[])`, [this.keys.storedAll(new Set(personKeys))]);
  }

  /**
   * The members of these households, in household key and person key order (sorted here: the columns
   * hold person IDs, whose order is not the keys').
   */
  async ofHouseholds(manager: EntityManager, householdKeys: readonly string[]): Promise<MemberRow[]> {
    if (householdKeys.length === 0) return [];
    const rows: StoredMember[] = await manager.query(`SELECT ${COLUMNS} FROM survey_household_member WHERE household_key = ANY($1::text[])`, [
      this.households.storedAll(householdKeys),
    ]);
    const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    return (await this.opened(rows)).sort((a, b) => order(a.householdKey, b.householdKey) || order(a.personKey, b.personKey));
  }

  /**
   * The rows with each member's values opened (one keyring look-up for all), fields in the order of
   * `MemberRow` (the projection compares rows as JSON); an erased member's row is left out.
   */
  private async opened(stored: readonly StoredMember[]): Promise<MemberRow[]> {
    const rows = stored.map((r) => ({ ...r, personKey: this.keys.key(r.personKey), householdKey: this.households.key(r.householdKey) }));
    const values = await this.sealer.open<MemberValues>(
      MEMBER_VALUES,
      rows.map((r) => ({ personKey: r.personKey, sealed: r.sealed, plain: { citizenId: r.citizenId, name: r.name, relation: r.relation, sex: r.sex, birthDate: r.birthDate } })),
    );
    return rows.flatMap((r, i) => {
      const v = values[i];
      if (v === undefined) return [];
      return [
        {
          personKey: r.personKey, householdKey: r.householdKey, villageCode: r.villageCode, householdNo: r.householdNo, citizenId: v.citizenId ?? null, name: v.name ?? null,
          relation: v.relation ?? null, sex: v.sex ?? null, birthDate: v.birthDate ?? null, hukouStatus: r.hukouStatus, source: r.source, foundTaskId: r.foundTaskId,
        },
      ];
    });
  }
}
