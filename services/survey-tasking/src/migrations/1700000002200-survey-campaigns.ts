import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Survey tasking as a county runs it (ADR 0006): every visit outcome, the target's campaign, team and
 * responsible surveyor, its person as the surveyor needs them at the door, households, visits,
 * campaigns, teams, villages given to teams and the history of assignments. `synced_xid` is the
 * transaction that last wrote a row: the surveyor's download cursor (rows changed since a snapshot).
 */
export class SurveyCampaigns1700000002200 implements MigrationInterface {
  name = 'SurveyCampaigns1700000002200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE survey_task DROP CONSTRAINT survey_task_status_check`);
    await q.query(`ALTER TABLE survey_task ADD CONSTRAINT survey_task_status_check CHECK (status IN (
      'open', 'revisit', 'submitted', 'initial-approved', 'approved', 'returned', 'refused', 'away', 'moved-out', 'not-found', 'death-claimed', 'deceased', 'closed'))`);
    await q.query(`ALTER TABLE survey_task
      ADD COLUMN origin text NOT NULL DEFAULT 'comparison' CHECK (origin IN ('comparison', 'found-on-site')),
      ADD COLUMN campaign_id uuid,
      ADD COLUMN team_id uuid,
      ADD COLUMN responsible_id text,
      ADD COLUMN assigned_at timestamptz,
      ADD COLUMN visits integer NOT NULL DEFAULT 0,
      ADD COLUMN last_visit_id uuid,
      ADD COLUMN last_outcome text,
      ADD COLUMN last_visit_at timestamptz,
      ADD COLUMN revisit_on date,
      ADD COLUMN where_region text,
      ADD COLUMN where_text text,
      ADD COLUMN visit_note text,
      ADD COLUMN fields_to_fix text[] NOT NULL DEFAULT '{}',
      ADD COLUMN finished_at timestamptz,
      ADD COLUMN found_in_task_id uuid,
      ADD COLUMN household_key text,
      ADD COLUMN person jsonb NOT NULL DEFAULT '{}'::jsonb,
      ADD COLUMN synced_xid xid8 NOT NULL DEFAULT pg_current_xact_id()`);
    await q.query(`CREATE INDEX survey_task_responsible_sync_idx ON survey_task (responsible_id, synced_xid, task_id)`);
    await q.query(`CREATE INDEX survey_task_campaign_idx ON survey_task (campaign_id, village_code)`);
    // A team's workload per surveyor (a new target goes to the one with the fewest).
    await q.query(`CREATE INDEX survey_task_team_load_idx ON survey_task (team_id, responsible_id) WHERE finished_at IS NULL`);
    await q.query(`CREATE INDEX survey_task_county_idx ON survey_task (county_code, village_code) WHERE campaign_id IS NULL`);
    // Until its person's household is known a target is a household of its own.
    await q.query(`UPDATE survey_task SET household_key = 'P-' || person_key`);
    await q.query(`ALTER TABLE survey_task ALTER COLUMN household_key SET NOT NULL`);
    await q.query(`CREATE INDEX survey_task_household_idx ON survey_task (household_key)`);
    // Ledger order (village, household, target): pages of a ledger are read by position in it.
    await q.query(`CREATE INDEX survey_task_ledger_idx ON survey_task (village_code, household_key, task_id)`);

    await q.query(`CREATE TABLE survey_visit (
      record_id uuid PRIMARY KEY,
      visit_id uuid NOT NULL,
      task_id uuid NOT NULL,
      person_key text NOT NULL,
      surveyor_id text NOT NULL,
      outcome text NOT NULL,
      visited_at timestamptz NOT NULL,
      submission_id uuid,
      payload jsonb NOT NULL,
      recorded_at timestamptz NOT NULL)`);
    await q.query(`CREATE INDEX survey_visit_task_idx ON survey_visit (task_id, visited_at)`);

    await q.query(`CREATE TABLE survey_household_member (
      person_key text PRIMARY KEY,
      household_key text NOT NULL,
      village_code char(12) NOT NULL,
      household_no text,
      citizen_id text,
      name text,
      relation text,
      sex text,
      birth_date text,
      hukou_status text,
      source text NOT NULL CHECK (source IN ('household', 'found')),
      found_task_id uuid)`);
    await q.query(`CREATE INDEX survey_household_member_household_idx ON survey_household_member (household_key)`);

    await q.query(`CREATE TABLE survey_campaign (
      campaign_id uuid PRIMARY KEY,
      county_code char(6) NOT NULL,
      name text NOT NULL,
      starts_on date NOT NULL,
      deadline date NOT NULL,
      status text NOT NULL CHECK (status IN ('open', 'closed')),
      opened_by text NOT NULL,
      opened_at timestamptz NOT NULL,
      closed_at timestamptz)`);
    await q.query(`CREATE INDEX survey_campaign_county_idx ON survey_campaign (county_code, status)`);

    await q.query(`CREATE TABLE survey_team (
      team_id uuid PRIMARY KEY,
      campaign_id uuid NOT NULL,
      township_code char(9) NOT NULL,
      name text NOT NULL,
      members jsonb NOT NULL,
      formed_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL)`);
    await q.query(`CREATE INDEX survey_team_campaign_idx ON survey_team (campaign_id, township_code)`);

    await q.query(`CREATE TABLE survey_village_team (
      campaign_id uuid NOT NULL,
      village_code char(12) NOT NULL,
      team_id uuid NOT NULL,
      PRIMARY KEY (campaign_id, village_code, team_id))`);

    await q.query(`CREATE TABLE survey_assignment (
      event_id text PRIMARY KEY,
      task_id uuid NOT NULL,
      person_key text NOT NULL,
      campaign_id uuid NOT NULL,
      team_id uuid NOT NULL,
      surveyor_id text NOT NULL,
      previous_surveyor_id text,
      mode text NOT NULL,
      reason text,
      assigned_by text NOT NULL,
      assigned_at timestamptz NOT NULL,
      ended_at timestamptz,
      synced_xid xid8 NOT NULL DEFAULT pg_current_xact_id())`);
    await q.query(`CREATE INDEX survey_assignment_task_idx ON survey_assignment (task_id, assigned_at)`);
    await q.query(`CREATE INDEX survey_assignment_ended_idx ON survey_assignment (surveyor_id, synced_xid, task_id) WHERE ended_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['survey_assignment', 'survey_village_team', 'survey_team', 'survey_campaign', 'survey_household_member', 'survey_visit']) await q.query(`DROP TABLE ${t}`);
    await q.query(`DROP INDEX survey_task_responsible_sync_idx, survey_task_campaign_idx, survey_task_county_idx, survey_task_household_idx, survey_task_ledger_idx, survey_task_team_load_idx`);
    await q.query(`ALTER TABLE survey_task DROP COLUMN origin, DROP COLUMN campaign_id, DROP COLUMN team_id, DROP COLUMN responsible_id, DROP COLUMN assigned_at,
      DROP COLUMN visits, DROP COLUMN last_visit_id, DROP COLUMN last_outcome, DROP COLUMN last_visit_at, DROP COLUMN revisit_on, DROP COLUMN where_region,
      DROP COLUMN where_text, DROP COLUMN visit_note, DROP COLUMN fields_to_fix, DROP COLUMN finished_at, DROP COLUMN found_in_task_id, DROP COLUMN household_key,
      DROP COLUMN person, DROP COLUMN synced_xid`);
    await q.query(`ALTER TABLE survey_task DROP CONSTRAINT survey_task_status_check`);
    await q.query(`ALTER TABLE survey_task ADD CONSTRAINT survey_task_status_check
      CHECK (status IN ('open', 'submitted', 'initial-approved', 'approved', 'returned', 'closed'))`);
  }
}
