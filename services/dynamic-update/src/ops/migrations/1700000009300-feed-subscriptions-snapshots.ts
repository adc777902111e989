import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dynamic update's operational schema (`<DB_SCHEMA>_ops`): what is not a projection of the log and
 * must survive a rebuild of it (docs/adr/0005): the change feed as delivered (its sequence is the
 * subscribers' cursor), the subscriptions and their deliveries and dead letters, the snapshots of
 * department rosters and their reports.
 */
export class FeedSubscriptionsSnapshots1700000009300 implements MigrationInterface {
  name = 'FeedSubscriptionsSnapshots1700000009300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE feed_entry (
        id bigserial PRIMARY KEY,
        seq bigint UNIQUE,
        event_id text NOT NULL UNIQUE,
        person_key text NOT NULL,
        version integer NOT NULL,
        type text NOT NULL,
        division_before text,
        division_after text,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL,
        source text NOT NULL,
        actor text NOT NULL,
        changes jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX feed_entry_unsequenced ON feed_entry (id) WHERE seq IS NULL`);
    await q.query(`
      CREATE TABLE subscription (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        department text NOT NULL,
        key_id text NOT NULL,
        division text NOT NULL,
        kinds text[] NOT NULL,
        webhook_url text,
        secret text,
        status text NOT NULL DEFAULT 'active',
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        disabled_at timestamptz
      )`);
    await q.query(`CREATE INDEX subscription_key ON subscription (department, key_id)`);
    await q.query(`
      CREATE TABLE webhook_delivery (
        subscription_id uuid PRIMARY KEY REFERENCES subscription (id),
        cursor bigint NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        lease_until timestamptz,
        delivered bigint NOT NULL DEFAULT 0,
        last_delivered_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE webhook_dead_letter (
        id bigserial PRIMARY KEY,
        subscription_id uuid NOT NULL REFERENCES subscription (id),
        from_seq bigint NOT NULL,
        to_seq bigint NOT NULL,
        entries jsonb NOT NULL,
        attempts integer NOT NULL,
        last_error text NOT NULL,
        failed_at timestamptz NOT NULL DEFAULT now(),
        redelivered_at timestamptz
      )`);
    await q.query(`CREATE INDEX webhook_dead_letter_subscription ON webhook_dead_letter (subscription_id, id)`);
    await q.query(`
      CREATE TABLE snapshot (
        snapshot_id uuid PRIMARY KEY,
        department text NOT NULL,
        kind text NOT NULL,
        scope text NOT NULL,
        as_of timestamptz NOT NULL,
        actor text NOT NULL,
        status text NOT NULL,
        counts jsonb NOT NULL,
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        error text
      )`);
    await q.query(`
      CREATE TABLE snapshot_member (
        snapshot_id uuid NOT NULL,
        person_key text NOT NULL,
        slot text NOT NULL,
        PRIMARY KEY (snapshot_id, person_key, slot)
      )`);
    await q.query(`
      CREATE TABLE snapshot_change (
        snapshot_id uuid NOT NULL,
        person_key text NOT NULL,
        slot text NOT NULL,
        line integer,
        change text NOT NULL,
        items text[] NOT NULL,
        event_id text NOT NULL,
        PRIMARY KEY (snapshot_id, person_key, slot)
      )`);
    await q.query(`
      CREATE TABLE snapshot_quarantine (
        snapshot_id uuid NOT NULL,
        line integer NOT NULL,
        reason text NOT NULL,
        raw text NOT NULL,
        violations jsonb NOT NULL,
        PRIMARY KEY (snapshot_id, line)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['snapshot_quarantine', 'snapshot_change', 'snapshot_member', 'snapshot', 'webhook_dead_letter', 'webhook_delivery', 'subscription', 'feed_entry']) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
