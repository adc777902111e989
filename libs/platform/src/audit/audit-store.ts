import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { maskText } from '../logging/mask';
import { PERSON_ID_PATTERN, PERSON_KEY_PATTERN } from '../person-ids/person-ids';
import type { PersonIds } from '../person-ids/person-ids';
import { GENESIS_HASH, canonicalEntry, chainHash } from './audit-entry';
import type { AuditEntry } from './audit-entry';

/**
 * The audit trail of a service: schema `audit` of its database, outside the projection schema (a
 * rebuild swaps that one and leaves this untouched), append-only (UPDATE, DELETE and TRUNCATE are
 * refused by triggers; the runtime role has INSERT and SELECT only), hash-chained (trigger
 * audit.chain), kept AUDIT_RETENTION_DAYS (at least 183: six months) and purged only by `audit purge`.
 */
export const AUDIT_SCHEMA = 'audit';
/** No purge removes entries younger than this, whatever it is asked (MLPS: at least six months). */
export const MIN_AUDIT_RETENTION_DAYS = 183;
const LOCK = 720_340_112; // pg_advisory_xact_lock key of the chain and of the DDL

/** The DDL, by version; applied in order, once, under an advisory lock. Append, never edit. */
export const AUDIT_DDL: readonly (readonly string[])[] = [
  [
    `CREATE FUNCTION audit.text_array(j jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
       AS $$ SELECT coalesce(array_agg(x), '{}') FROM jsonb_array_elements_text(coalesce(j, '[]')) AS t(x) $$`,
    `CREATE FUNCTION audit.utc_text(t timestamptz) RETURNS text LANGUAGE sql STABLE
       AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$`,
    `CREATE TABLE audit.audit_event (
       seq bigint PRIMARY KEY,
       at timestamptz NOT NULL,
       entry text NOT NULL,
       prev_hash bytea NOT NULL,
       hash bytea NOT NULL,
       service text GENERATED ALWAYS AS ((entry::jsonb)->>'service') STORED,
       actor text GENERATED ALWAYS AS ((entry::jsonb)->>'actor') STORED,
       role text GENERATED ALWAYS AS ((entry::jsonb)->>'role') STORED,
       division text GENERATED ALWAYS AS ((entry::jsonb)->>'division') STORED,
       action text GENERATED ALWAYS AS ((entry::jsonb)->>'action') STORED,
       purpose text GENERATED ALWAYS AS ((entry::jsonb)->>'purpose') STORED,
       result text GENERATED ALWAYS AS ((entry::jsonb)->>'result') STORED,
       request_id text GENERATED ALWAYS AS ((entry::jsonb)->>'requestId') STORED,
       people text[] GENERATED ALWAYS AS (audit.text_array((entry::jsonb)->'people')) STORED
     )`,
    `CREATE INDEX audit_event_at_idx ON audit.audit_event (at)`,
    `CREATE INDEX audit_event_actor_idx ON audit.audit_event (actor, seq)`,
    `CREATE INDEX audit_event_people_idx ON audit.audit_event USING gin (people)`,
    `CREATE INDEX audit_event_request_idx ON audit.audit_event (request_id)`,
    `CREATE FUNCTION audit.chain() RETURNS trigger LANGUAGE plpgsql AS $$
     DECLARE last_seq bigint; last_hash bytea;
     BEGIN
       PERFORM pg_advisory_xact_lock(${LOCK});
       SELECT seq, hash INTO last_seq, last_hash FROM audit.audit_event ORDER BY seq DESC LIMIT 1;
       NEW.seq := coalesce(last_seq, 0) + 1;
       NEW.prev_hash := coalesce(last_hash, '\\x${GENESIS_HASH.toString('hex')}'::bytea);
       NEW.at := clock_timestamp();
       NEW.hash := sha256(NEW.prev_hash || convert_to(NEW.seq::text || E'\\n' || audit.utc_text(NEW.at) || E'\\n' || NEW.entry, 'UTF8'));
       RETURN NEW;
     END $$`,
    `CREATE TRIGGER audit_event_chain BEFORE INSERT ON audit.audit_event FOR EACH ROW EXECUTE FUNCTION audit.chain()`,
    `CREATE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF TG_OP = 'DELETE' AND current_setting('qmcb.audit_purge', true) = 'on'
          AND OLD.at < now() - interval '${MIN_AUDIT_RETENTION_DAYS} days' THEN
         RETURN OLD;
       END IF;
       RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
     END $$`,
    `CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit.audit_event FOR EACH ROW EXECUTE FUNCTION audit.refuse_change()`,
    `CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit.audit_event FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()`,
    // Whatever default privileges handed out (deploy/compose/postgres-schemas.sql gives the service's
    // app role DML on the owner's new tables), no role but the owner changes the trail or its version.
    `DO $$
     DECLARE r record;
     BEGIN
       FOR r IN SELECT DISTINCT a.grantee::regrole::text AS grantee
                  FROM pg_class c, aclexplode(c.relacl) a
                 WHERE c.oid IN ('audit.audit_event'::regclass, 'audit.schema_version'::regclass) AND a.grantee <> c.relowner AND a.grantee <> 0
       LOOP
         EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit.audit_event FROM %s', r.grantee);
         EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit.schema_version FROM %s', r.grantee);
       END LOOP;
     END $$`,
  ],
];

export interface AuditSearch {
  /** Entries concerning this person key (those naming its person ID, and older ones naming the key itself). */
  personKey?: string;
  /** Entries of this actor (as given, or as stored: masked). */
  actor?: string;
  /** ISO timestamps, from inclusive, to exclusive. */
  from?: string;
  to?: string;
  /** Entries by people of this division (prefix); entries without a division (systems, anonymous) only when `includeUndivided`. */
  division?: string;
  includeUndivided?: boolean;
  /** Entries after this sequence number (the previous page's last). */
  after?: string;
  limit: number;
}

export interface StoredAuditEntry extends AuditEntry {
  seq: string;
  at: string;
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  first: string | null;
  last: string | null;
  head: string | null;
  /** Where the chain breaks and why. */
  problem?: { seq: string; reason: string };
}

interface ChainRow {
  seq: string;
  at: string;
  entry: string;
  prev_hash: Buffer;
  hash: Buffer;
}

const maskOrNull = (text: string | null): string | null => (text === null ? null : maskText(text));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A request ID as stored: a UUID (what the platform makes, and what most clients send) as it is, so
 * the entry is found by the ID the client and the logs know; anything else masked like free text (a
 * client may send a citizen ID as its X-Request-Id). A UUID holds no personal data, though its hex
 * may happen to hold a run of digits shaped like a mobile number, which masking would alter.
 */
const requestIdAtRest = (id: string | null): string | null => (id === null || UUID.test(id) ? id : maskText(id));

/**
 * What an entry keeps at rest (docs/security.md, "Audit"): `people` by person ID (PersonIds: the
 * citizen ID only for whoever holds PERSON_ID_SECRET), never by person key, which is the citizen ID
 * itself; and in the fields whose text comes from outside (the caller's request ID and purpose
 * reference, the token's subject in the actor, the source, the detail), citizen IDs and mobile
 * numbers masked as in the logs. Entries written before this kept person keys: they stay as they
 * are (rewriting them would break the chain), and reading maps both forms.
 */
export class AuditStore {
  private readonly logger = new Logger('AuditStore');

  /**
   * `ids`: needed to write or search entries that name people (not to migrate, verify or purge):
   * without it such an entry is refused rather than stored with a person key.
   */
  constructor(
    private readonly dataSource: DataSource,
    private readonly ids?: PersonIds,
  ) {}

  /** The entry as stored. */
  private atRest(e: AuditEntry): AuditEntry {
    return {
      ...e,
      requestId: requestIdAtRest(e.requestId),
      actor: maskText(e.actor),
      source: maskOrNull(e.source),
      purposeRef: maskOrNull(e.purposeRef),
      people: e.people.map((p) => this.personAtRest(p)),
      detail: maskOrNull(e.detail),
    };
  }

  /** A person key as its person ID; an ID as it is; anything else (no person's key: an `O-` stream) masked. */
  private personAtRest(value: string): string {
    if (PERSON_ID_PATTERN.test(value)) return value;
    if (!PERSON_KEY_PATTERN.test(value)) return maskText(value);
    if (!this.ids) throw new Error('the audit store names people by person ID: construct it with PersonIds to write an entry that names people');
    return this.ids.idOf(value);
  }

  /** A stored person as its person key: an ID this deployment reads, or a key (entries written before IDs); anything else as stored. */
  private personOfStored(value: string): string {
    return PERSON_ID_PATTERN.test(value) ? (this.ids?.keyOf(value) ?? value) : value;
  }

  /** Creates or upgrades the audit schema (idempotent; safe from several replicas at once). */
  async migrate(): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(${LOCK})`);
      await m.query(`CREATE SCHEMA IF NOT EXISTS ${AUDIT_SCHEMA}`);
      await m.query(`CREATE TABLE IF NOT EXISTS ${AUDIT_SCHEMA}.schema_version (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      const [{ v }] = (await m.query(`SELECT coalesce(max(version), 0)::int AS v FROM ${AUDIT_SCHEMA}.schema_version`)) as [{ v: number }];
      for (let version = v + 1; version <= AUDIT_DDL.length; version += 1) {
        for (const statement of AUDIT_DDL[version - 1] as readonly string[]) await m.query(statement);
        await m.query(`INSERT INTO ${AUDIT_SCHEMA}.schema_version (version) VALUES ($1)`, [version]);
        this.logger.log({ msg: 'audit schema upgraded', version });
      }
      return AUDIT_DDL.length;
    });
  }

  /**
   * Appends entries in order (one statement; the trigger chains them), as stored at rest: people by
   * person ID, citizen IDs in free text masked. Never inside a business transaction: it serialises on the chain.
   */
  async append(entries: readonly AuditEntry[], manager: EntityManager = this.dataSource.manager): Promise<string[]> {
    return this.insert(entries.map((e) => canonicalEntry(this.atRest(e))), manager);
  }

  private async insert(entries: readonly string[], manager: EntityManager): Promise<string[]> {
    if (entries.length === 0) return [];
    const rows: { seq: string }[] = await manager.query(
      `INSERT INTO ${AUDIT_SCHEMA}.audit_event (entry) SELECT e FROM unnest($1::text[]) WITH ORDINALITY AS t(e, n) ORDER BY n RETURNING seq::text AS seq`,
      [entries],
    );
    return rows.map((r) => r.seq);
  }

  /** Entries in order, with `people` as person keys where this deployment can read them (an ID made under a retired secret stays as stored). */
  async search(q: AuditSearch): Promise<StoredAuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (n: number) => string, value: unknown): void => {
      params.push(value);
      where.push(sql(params.length));
    };
    if (q.personKey) add((n) => `people && $${n}::text[]`, this.storedFormsOf(q.personKey));
    if (q.actor) add((n) => `actor = ANY($${n}::text[])`, [...new Set([q.actor, maskText(q.actor)])]);
    if (q.from) add((n) => `at >= $${n}::timestamptz`, q.from);
    if (q.to) add((n) => `at < $${n}::timestamptz`, q.to);
    if (q.after) add((n) => `seq > $${n}::bigint`, q.after);
    if (q.division !== undefined) {
      params.push(`${q.division}%`);
      where.push(q.includeUndivided ? `(division LIKE $${params.length} OR division IS NULL)` : `division LIKE $${params.length}`);
    }
    params.push(q.limit);
    const rows: { seq: string; at: string; entry: string }[] = await this.dataSource.query(
      `SELECT seq::text AS seq, ${AUDIT_SCHEMA}.utc_text(at) AS at, entry FROM ${AUDIT_SCHEMA}.audit_event
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY audit_event.seq LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => {
      const { v: _v, ...entry } = JSON.parse(r.entry) as AuditEntry & { v: number };
      return { seq: r.seq, at: r.at, ...entry, people: entry.people.map((p) => this.personOfStored(p)) };
    });
  }

  /** How entries may name a person: the key itself (entries written before person IDs) and each ID of it this deployment reads. */
  private storedFormsOf(personKey: string): string[] {
    if (!PERSON_KEY_PATTERN.test(personKey)) return [personKey];
    if (!this.ids) throw new Error('the audit store names people by person ID: construct it with PersonIds to search by person');
    return [personKey, ...this.ids.idsOf(personKey)];
  }

  /**
   * Recomputes the chain from the first entry kept: each hash from its predecessor and its own
   * sequence number, time and entry; an entry removed, changed, inserted or reordered breaks it.
   * The first entry kept after a purge is anchored by the purge entry, which names its predecessor's hash.
   */
  async verify(pageSize = 5000): Promise<VerifyResult> {
    let previous: ChainRow | undefined;
    let first: string | null = null;
    let entries = 0;
    const purges = new Map<string, string>();
    for (;;) {
      const rows: ChainRow[] = await this.dataSource.query(
        `SELECT seq::text AS seq, ${AUDIT_SCHEMA}.utc_text(at) AS at, entry, prev_hash, hash FROM ${AUDIT_SCHEMA}.audit_event
          WHERE seq > $1::bigint ORDER BY audit_event.seq LIMIT $2`,
        [previous?.seq ?? '0', pageSize],
      );
      if (rows.length === 0) break;
      if (!previous) {
        first = rows[0]?.seq ?? null;
        const anchors: { entry: string }[] = await this.dataSource.query(`SELECT entry FROM ${AUDIT_SCHEMA}.audit_event WHERE action = 'purge' ORDER BY audit_event.seq`);
        for (const a of anchors) {
          const detail = JSON.parse((JSON.parse(a.entry) as AuditEntry).detail ?? '{}') as { through?: string; hash?: string };
          if (detail.through && detail.hash) purges.set(detail.through, detail.hash);
        }
      }
      for (const row of rows) {
        const problem = this.check(row, previous, purges);
        if (problem) return { ok: false, entries, first, last: previous?.seq ?? null, head: previous?.hash.toString('hex') ?? null, problem: { seq: row.seq, reason: problem } };
        previous = row;
        entries += 1;
      }
    }
    return { ok: true, entries, first, last: previous?.seq ?? null, head: previous?.hash.toString('hex') ?? null };
  }

  private check(row: ChainRow, previous: ChainRow | undefined, purges: Map<string, string>): string | undefined {
    if (previous) {
      if (BigInt(row.seq) !== BigInt(previous.seq) + 1n) return `entry ${BigInt(previous.seq) + 1n} is missing`;
      if (!row.prev_hash.equals(previous.hash)) return 'its predecessor hash does not match the entry before it';
    } else if (row.seq === '1') {
      if (!row.prev_hash.equals(GENESIS_HASH)) return 'the first entry does not start from the genesis hash';
    } else {
      const anchored = purges.get(String(BigInt(row.seq) - 1n));
      if (!anchored) return `entries before ${row.seq} are gone and no purge entry accounts for them`;
      if (row.prev_hash.toString('hex') !== anchored) return 'its predecessor hash does not match the hash its purge entry recorded';
    }
    if (!chainHash(row.prev_hash, row.seq, row.at, row.entry).equals(row.hash)) return 'its hash does not match its contents';
    return undefined;
  }

  /**
   * Removes entries older than `retentionDays` (at least MIN_AUDIT_RETENTION_DAYS), after appending
   * a purge entry that names the last removed entry and its hash (the anchor `verify` starts from).
   * Needs a role allowed to DELETE (the owner's, not the service's).
   */
  async purge(retentionDays: number, operator = 'operator'): Promise<{ removed: number; through: string | null }> {
    if (!Number.isInteger(retentionDays) || retentionDays < MIN_AUDIT_RETENTION_DAYS) {
      throw new Error(`the audit is kept at least ${MIN_AUDIT_RETENTION_DAYS} days (six months); ${retentionDays} refused`);
    }
    return this.dataSource.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(${LOCK})`);
      const last: { seq: string; hash: Buffer }[] = await m.query(
        `SELECT seq::text AS seq, hash FROM ${AUDIT_SCHEMA}.audit_event WHERE at < now() - make_interval(days => $1) ORDER BY audit_event.seq DESC LIMIT 1`,
        [retentionDays],
      );
      const through = last[0];
      if (!through) return { removed: 0, through: null };
      // Written as it is: no person, and its detail holds a hash in hex, which masking could alter.
      await this.insert(
        [
          canonicalEntry({
            service: 'audit',
            requestId: null,
            actor: operator,
            role: null,
            division: null,
            source: null,
            method: null,
            route: null,
            action: 'purge',
            purpose: null,
            purposeRef: null,
            people: [],
            count: 0,
            result: 'ok',
            status: null,
            code: null,
            detail: JSON.stringify({ through: through.seq, hash: through.hash.toString('hex'), retentionDays }),
          }),
        ],
        m,
      );
      await m.query(`SET LOCAL qmcb.audit_purge = 'on'`);
      const [{ n }] = (await m.query(`WITH gone AS (DELETE FROM ${AUDIT_SCHEMA}.audit_event WHERE seq <= $1::bigint RETURNING 1) SELECT count(*)::int AS n FROM gone`, [
        through.seq,
      ])) as [{ n: number }];
      return { removed: n, through: through.seq };
    });
  }
}
