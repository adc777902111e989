import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

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

const COLUMNS = `person_key AS "personKey", household_key AS "householdKey", village_code AS "villageCode", household_no AS "householdNo",
  citizen_id AS "citizenId", name, relation, sex, birth_date AS "birthDate", hukou_status AS "hukouStatus", source, found_task_id AS "foundTaskId"`;

/** `survey_household_member`: who lives in each household (户), for the door and for 户不漏人. All SQL of the table. */
@Injectable()
export class HouseholdMemberRepository {
  async findMany(manager: EntityManager, personKeys: readonly string[]): Promise<Map<string, MemberRow>> {
    const out = new Map<string, MemberRow>();
    if (personKeys.length === 0) return out;
    const rows: MemberRow[] = await manager.query(`SELECT ${COLUMNS} FROM survey_household_member WHERE person_key = ANY($1::text[])`, [[...new Set(personKeys)]]);
    for (const r of rows) out.set(r.personKey, r);
    return out;
  }

  async upsertMany(manager: EntityManager, members: readonly MemberRow[]): Promise<void> {
    if (members.length === 0) return;
    await manager.query(
      `INSERT INTO survey_household_member (person_key, household_key, village_code, household_no, citizen_id, name, relation, sex, birth_date, hukou_status, source, found_task_id)
       SELECT m."personKey", m."householdKey", m."villageCode", m."householdNo", m."citizenId", m.name, m.relation, m.sex, m."birthDate", m."hukouStatus", m.source, m."foundTaskId"
         FROM jsonb_to_recordset($1::jsonb) AS m("personKey" text, "householdKey" text, "villageCode" text, "householdNo" text, "citizenId" text, name text,
              relation text, sex text, "birthDate" text, "hukouStatus" text, source text, "foundTaskId" uuid)
       ON CONFLICT (person_key) DO UPDATE SET household_key = EXCLUDED.household_key, village_code = EXCLUDED.village_code, household_no = EXCLUDED.household_no,
         citizen_id = EXCLUDED.citizen_id, name = EXCLUDED.name, relation = EXCLUDED.relation, sex = EXCLUDED.sex, birth_date = EXCLUDED.birth_date,
         hukou_status = EXCLUDED.hukou_status, source = EXCLUDED.source, found_task_id = EXCLUDED.found_task_id`,
      [JSON.stringify(members)],
    );
  }

  async deleteMany(manager: EntityManager, personKeys: readonly string[]): Promise<void> {
    if (personKeys.length === 0) return;
    await manager.query(`DELETE FROM survey_household_member WHERE person_key = ANY($1::text[])`, [[...new Set(personKeys)]]);
  }

  /** The members of these households, in household and relation order. */
  async ofHouseholds(manager: EntityManager, householdKeys: readonly string[]): Promise<MemberRow[]> {
    if (householdKeys.length === 0) return [];
    return manager.query(`SELECT ${COLUMNS} FROM survey_household_member WHERE household_key = ANY($1::text[]) ORDER BY household_key, person_key`, [[...new Set(householdKeys)]]);
  }
}
