import { mintApiKey, mintToken } from '@qmcb/auth';
import { checkCharacter, personKeyFor } from '@qmcb/domain';
import { closeSealers, personRefOf } from '@qmcb/event-log';
import { PersonIds } from '@qmcb/platform';
import { keyringCommand } from '@qmcb/service-kit';
import { SERVICES, httpJson, readAllEvents, startIsolatedStack, testKafkaSettings, waitFor } from '@qmcb/testing';
import type { HttpResult, IsolatedStack, ServiceName } from '@qmcb/testing';
import { spawnSync } from 'child_process';
import { randomBytes, randomUUID } from 'crypto';
import { join } from 'path';
import { Client } from 'pg';

/**
 * Erasure reaches the live projections (ADR 0010, PIPL art. 47): two people of one household go
 * through comparison, survey tasking (targets, assignments, the household, a form), review (the
 * form's review item) and dynamic update (history, holdings, the feed); `keyring erase` of one of
 * them appends `person.erased`, waits for the four consumer groups and shreds the key. Afterwards
 * no table of any service holds a row with their citizen ID, the other person's rows are as they
 * were, and each projection equals a rebuild of it from the log (which can open nothing of theirs).
 */
const JWT_SECRET = randomBytes(32).toString('base64url');
const KEY_SECRET = randomBytes(32).toString('base64url');
const VILLAGE = '440981002001';
const TOWNSHIP = VILLAGE.slice(0, 9);
const COUNTY = VILLAGE.slice(0, 6);
const cid = (first17: string): string => `${first17}${checkCharacter(first17)}`;
/**
 * People of this run only: an erased person stays erased in the keyring, which outlives a run, and
 * the person ref is the same in every run that shares LOG_PERSON_REF_SECRET (deploy/local/env.sh's,
 * kept on the machine), so a citizen ID erased by an earlier run would be dropped on arrival here.
 * A random birth date in 1970–1989 and sequence number (the 17th digit odd for a man) make a repeat
 * about one in three million per person (a sequence number alone repeated once in a few dozen runs).
 */
const birthDate = (): string => new Date(Date.UTC(1970, 0, 1) + Math.floor(Math.random() * 7300) * 86_400_000).toISOString().slice(0, 10);
const seq = (male: boolean): string => String(100 + 2 * Math.floor(Math.random() * 450) + (male ? 1 : 0));
const person = (male: boolean): { citizenId: string; birthDate: string } => {
  const born = birthDate();
  return { citizenId: cid(`${COUNTY}${born.replace(/-/g, '')}${seq(male)}`), birthDate: born };
};
const { citizenId: ERASED, birthDate: ERASED_BORN } = person(true);
const { citizenId: SPOUSE, birthDate: SPOUSE_BORN } = person(false);
const { citizenId: LINKED, birthDate: LINKED_BORN } = person(true);
/** The ID with another check character: invalid, one typo away (a record comparison links to the person). */
const typo = (citizenId: string): string => `${citizenId.slice(0, 17)}${citizenId[17] === '0' ? '1' : '0'}`;

const token = (role: string, division: string, sub: string, purpose: string): Record<string, string> => ({
  authorization: `Bearer ${mintToken({ sub, name: sub, role, division, ttlSeconds: 3600 }, JWT_SECRET)}`,
  'x-purpose': purpose,
});

// Bookkeeping a live and a rebuilt schema legitimately differ in (as in the flow e2e), and the erased
// persons' refs and survey tasking's tombstones of their targets (a rebuild never sees an erasure event: it cannot open it).
const NOT_COMPARED = new Set(['migrations', 'projection_checkpoint', 'applied_event', 'outbox', 'dead_letter', 'audit_read', 'erased_person', 'survey_task_erased']);

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function tablesOf(c: Client, schema: string): Promise<string[]> {
  const { rows } = await c.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema]);
  return rows.map((r) => r.table_name);
}

/** Every row of the projection schema, as compared with a rebuild. */
async function snapshot(c: Client, schema: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of (await tablesOf(c, schema)).filter((x) => !NOT_COMPARED.has(x))) {
    const surrogate = t === 'coverage_history' ? " - 'id'" : '';
    const { rows } = await c.query(`SELECT to_jsonb(x) - 'updated_at' - 'synced_xid'${surrogate} AS row FROM ${schema}.${t} x`);
    out[t] = rows.map((r) => JSON.stringify(r.row)).sort();
  }
  return out;
}

/** The person IDs the services hand out and store in their key columns (ADR 0011, stage 5): they share PERSON_ID_SECRET with this process. */
const ids = (): PersonIds => new PersonIds(process.env['PERSON_ID_SECRET'] as string);
/** A person key as the key columns hold it. */
const stored = (personKey: string): string => ids().idOf(personKey);

/** Per table of the schemas, the rows whose text holds any of the values anywhere (any column, any JSON). */
async function rowsHolding(c: Client, schemas: readonly string[], values: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const schema of schemas) {
    for (const t of await tablesOf(c, schema)) {
      const { rows } = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.${t} x WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) v WHERE strpos(to_jsonb(x)::text, v) > 0)`, [values]);
      out[`${schema}.${t}`] = Number(rows[0]?.n);
    }
  }
  return out;
}

/** The rows whose person_key is the person's (stored as their person ID), per table (volatile bookkeeping left out). */
async function rowsOf(c: Client, schemas: readonly string[], personKey: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const schema of schemas) {
    const { rows: tables } = await c.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'person_key' ORDER BY table_name`, [schema]);
    for (const { table_name: t } of tables) {
      if (t === 'outbox') continue;
      const surrogate = t === 'coverage_history' || t === 'feed_entry' ? " - 'id'" : '';
      const { rows } = await c.query(`SELECT to_jsonb(x) - 'updated_at' - 'synced_xid'${surrogate} AS row FROM ${schema}.${t} x WHERE person_key = $1`, [stored(personKey)]);
      out[`${schema}.${t}`] = rows.map((r) => JSON.stringify(r.row)).sort();
    }
  }
  return out;
}

describe('erasure reaches the live projections (ADR 0010)', () => {
  let stack: IsolatedStack;

  beforeAll(async () => {
    stack = await startIsolatedStack({
      logDir: join(__dirname, '..', 'tmp', 'e2e-logs'),
      ports: { comparison: 3291, 'survey-tasking': 3292, review: 3293, 'dynamic-update': 3294 },
      env: () => ({ AUTH_JWT_SECRET: JWT_SECRET, API_KEY_SECRET: KEY_SECRET, SURVEY_GAUGES_INTERVAL_MS: '0' }),
    });
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const call = (service: ServiceName, method: string, path: string, auth: Record<string, string>, body?: unknown): Promise<HttpResult> =>
    httpJson(stack.urls[service], method, path, auth, body);
  const schemasOf = (s: (typeof SERVICES)[number]): string[] => (s.name === 'dynamic-update' ? [s.schema, `${s.schema}_ops`] : [s.schema]);

  it('deletes every row of the erased person in all four services, leaves the other member of the household as they were, and leaves each projection equal to its rebuild', async () => {
    const publicSecurity = { 'x-api-key': mintApiKey('public-security', 'ps-e2e', KEY_SECRET) };
    const county = token('county-approver', COUNTY, 'county-1', 'survey');
    const township = token('grassroots-reviewer', TOWNSHIP, 'township-1', 'survey');
    const townshipReview = token('grassroots-reviewer', TOWNSHIP, 'township-1', 'review');

    // 1. One household of two, both uninsured: two targets.
    const household = (citizenId: string, name: string, sex: string, birthDate: string, relationToHead: string, phone: string): object => ({
      sourceRecordId: `HJ-${citizenId.slice(-4)}`, citizenId, mode: 'snapshot', asOf: '2026-11-01T00:00:00.000Z',
      facts: { kind: 'household', name, sex, birthDate, villageCode: VILLAGE, status: 'normal', householdNo: '0707', relationToHead, phone, address: '南宫居委会 7 号' },
    });
    const posted = await call('comparison', 'POST', '/records', publicSecurity, {
      records: [household(ERASED, '陈刚', 'male', ERASED_BORN, '户主', '13800000071'), household(SPOUSE, '林梅', 'female', SPOUSE_BORN, '配偶', '13800000072')],
    });
    expect(posted.status).toBe(202);
    const targets = await waitFor(async () => {
      const r = await call('survey-tasking', 'GET', `/tasks?division=${VILLAGE}`, county);
      if (r.body?.total !== 2) throw new Error(`GET /tasks answered ${r.status} with total ${String(r.body?.total)}`);
      return r.body.items;
    }, { timeoutMs: 120_000, message: 'the two targets' });

    // 2. A campaign, a team, both targets given to the household's surveyor.
    const campaignId = randomUUID();
    expect((await call('survey-tasking', 'POST', '/campaigns', county, { campaignId, countyCode: COUNTY, name: '入户调查', startsOn: '2026-11-01', deadline: '2099-12-31' })).status).toBe(201);
    expect((await call('survey-tasking', 'POST', `/campaigns/${campaignId}/teams`, township, { teamId: randomUUID(), townshipCode: TOWNSHIP, name: '南宫组', members: [{ surveyorId: 'sv-1', name: '调查员一' }, { surveyorId: 'sv-2', name: '调查员二' }] })).status).toBe(201);
    const assigned = await call('survey-tasking', 'POST', `/campaigns/${campaignId}/assignments/auto`, township, { townshipCode: TOWNSHIP });
    // One household: one surveyor for both.
    expect(assigned.body).toMatchObject({ assigned: 2 });
    const [surveyorId] = Object.keys(assigned.body.perSurveyor);
    const surveyor = token('surveyor', TOWNSHIP, surveyorId as string, 'survey');

    // 3. The surveyor submits the head's form (the household as found: both of them).
    const task = targets.find((t: { person: { name: string } }) => t.person.name === '陈刚');
    const form = {
      citizenId: ERASED, name: '陈刚', sex: 'male', birthDate: ERASED_BORN, phone: '13800000071', employmentStatus: 'farmer',
      residenceAddress: '南宫居委会 7 号', residenceDivision: VILLAGE,
      insurance: [{ insuranceType: 'pension', scheme: 'resident', status: 'active', region: COUNTY }, { insuranceType: 'medical', scheme: 'resident', status: 'active', region: COUNTY }],
      insuredElsewhere: false,
    };
    const submitted = await call('survey-tasking', 'POST', `/tasks/${task.taskId}/submissions`, surveyor, {
      submissionId: randomUUID(), visitId: randomUUID(), request: { kind: 'registration-form', fields: form, evidence: [], unknown: [] },
      household: { householdNo: '0707', members: [{ citizenId: ERASED, name: '陈刚', relation: '户主', status: 'present' }, { citizenId: SPOUSE, name: '林梅', relation: '配偶', status: 'present' }] },
    });
    expect(submitted.status).toBe(201);
    // 4. Review opens an item for it; the township passes it on.
    const item = await waitFor(async () => {
      const r = await call('review', 'GET', '/reviews?stage=initial&status=pending', townshipReview);
      return r.body?.items?.find((i: { taskId: string }) => i.taskId === task.taskId);
    }, { timeoutMs: 60_000, message: 'review item of the form' });
    expect((await call('review', 'POST', `/reviews/${item.reviewId}/initial-approval`, townshipReview, { expectedVersion: item.version, comment: '已核实' })).status).toBe(201);

    // 5. Every projection caught up with the log: outboxes published, each record at the log's version.
    await caughtUp();

    const before: Record<string, { erased: Record<string, number>; spouse: Record<string, string[]> }> = {};
    for (const s of SERVICES) {
      before[s.name] = await withClient(stack.databaseUrls[s.name], async (c) => {
        // No table of any service holds either citizen ID in plaintext (ADR 0011: key columns hold person IDs, the rest is sealed).
        expect(Object.entries(await rowsHolding(c, schemasOf(s), [ERASED, SPOUSE])).filter(([, n]) => n > 0)).toEqual([]);
        return { erased: await rowsHolding(c, schemasOf(s), [stored(ERASED)]), spouse: await rowsOf(c, schemasOf(s), SPOUSE) };
      });
    }
    // The person has rows in every service, in the tables the flow gives them.
    const held = (name: ServiceName, table: string): number | undefined => before[name]?.erased[table];
    expect([held('comparison', 'comparison.person_record'), held('comparison', 'comparison.current_outcome'), held('comparison', 'comparison.coverage_current')]).toEqual([1, 1, 1]);
    expect(held('comparison', 'comparison.outcome_history')).toBeGreaterThan(0);
    expect([held('survey-tasking', 'survey_tasking.person_record'), held('survey-tasking', 'survey_tasking.survey_task'), held('survey-tasking', 'survey_tasking.survey_household_member')]).toEqual([1, 1, 1]);
    expect(held('survey-tasking', 'survey_tasking.survey_visit')).toBe(1);
    expect(held('survey-tasking', 'survey_tasking.survey_assignment')).toBeGreaterThan(0);
    expect([held('review', 'review.person_record'), held('review', 'review.review_item')]).toEqual([1, 1]);
    expect(held('dynamic-update', 'dynamic_update.person_record')).toBe(1);
    expect(held('dynamic-update', 'dynamic_update.record_history')).toBeGreaterThan(0);
    expect(held('dynamic-update', 'dynamic_update.department_holding')).toBeGreaterThan(0);
    expect(held('dynamic-update', 'dynamic_update_ops.feed_entry')).toBeGreaterThan(0);
    expect(before['survey-tasking']?.spouse['survey_tasking.survey_task']).toHaveLength(1);

    // 6. Erase; the spouse's rows exactly as before.
    await eraseAndCheck(ERASED, ['陈刚', '13800000071', '南宫居委会 7 号'], async (name, c) => {
      expect(await rowsOf(c, schemasOf(SERVICES.find((x) => x.name === name) as (typeof SERVICES)[number]), SPOUSE)).toEqual(before[name]?.spouse);
    });
  });

  it('erases a person comparison linked records under a mistyped ID to: their link and its review go, the records under the mistyped ID stay theirs (another person key)', async () => {
    const socialInsurance = { 'x-api-key': mintApiKey('social-insurance', 'si-e2e', KEY_SECRET) };
    const publicSecurity = { 'x-api-key': mintApiKey('public-security', 'ps-e2e', KEY_SECRET) };
    const townshipReview = token('grassroots-reviewer', TOWNSHIP, 'township-1', 'review');
    const facts = { kind: 'household', name: '黄伟', sex: 'male', birthDate: LINKED_BORN, villageCode: VILLAGE, status: 'normal', householdNo: '0808', relationToHead: '户主', phone: '13800000081', address: '南宫居委会 8 号' };
    expect((await call('comparison', 'POST', '/records', publicSecurity, { records: [{ sourceRecordId: 'HJ-L1', citizenId: LINKED, mode: 'snapshot', asOf: '2026-11-01T00:00:00.000Z', facts }] })).status).toBe(202);
    const insurance = (n: number, citizenId: string, insuranceType: string): object => ({
      sourceRecordId: `SI-L${n}`, citizenId, mode: 'snapshot', asOf: '2026-11-01T00:00:00.000Z', facts: { kind: 'insurance', insuranceType, scheme: 'resident', status: 'active', region: COUNTY, name: '黄伟' },
    });
    expect((await call('comparison', 'POST', '/records', socialInsurance, { records: [insurance(1, LINKED, 'medical')] })).status).toBe(202);
    await waitFor(async () => withClient(stack.databaseUrls.comparison, async (c) => (await c.query(`SELECT 1 FROM comparison.current_outcome WHERE person_key = $1`, [stored(LINKED)])).rows.length === 1), { timeoutMs: 60_000, message: 'the first decision' });
    expect((await call('comparison', 'POST', '/records', socialInsurance, { records: [insurance(2, typo(LINKED), 'pension')] })).status).toBe(202);
    // The link proposed to them, and queued in review.
    await waitFor(async () => {
      const r = await call('review', 'GET', '/links?status=pending', townshipReview);
      return r.body?.items?.some((l: { records: { citizenIdAsSent: string } }) => l.records.citizenIdAsSent === typo(LINKED)) ? true : undefined;
    }, { timeoutMs: 60_000, message: 'the link in review' });
    await caughtUp();
    const linked = await withClient(stack.databaseUrls.comparison, async (c) => (await c.query(`SELECT count(*)::int AS n FROM comparison.person_link WHERE person_key = $1`, [stored(LINKED)])).rows[0].n);
    const reviewed = await withClient(stack.databaseUrls.review, async (c) => (await c.query(`SELECT count(*)::int AS n FROM review.link_review WHERE person_key = $1`, [stored(LINKED)])).rows[0].n);
    expect([linked, reviewed]).toEqual([1, 1]);
    // The records under the mistyped ID are a person key of their own (X-…), with their own events.
    const recordKey = personKeyFor(typo(LINKED));
    const ofRecords = await withClient(stack.databaseUrls.comparison, async (c) => rowsOf(c, ['comparison'], recordKey));
    expect([ofRecords['comparison.person_record']?.length, ofRecords['comparison.current_outcome']?.length]).toEqual([1, 1]);

    await eraseAndCheck(LINKED, ['黄伟', '13800000081', '南宫居委会 8 号'], async (name, c) => {
      if (name === 'comparison') {
        expect(await rowsOf(c, ['comparison'], recordKey)).toEqual(ofRecords);
        expect((await c.query(`SELECT count(*)::int AS n FROM comparison.person_link`)).rows[0].n).toBe(0);
      }
    });
  });

  /** Every outbox published, each person's record at the log's version, in every service. */
  async function caughtUp(): Promise<void> {
    const settings = testKafkaSettings(stack.topic);
    await waitFor(async () => {
      const perPerson = new Map<string, number>();
      for (const e of await readAllEvents(settings)) if (!e.personKey.startsWith('O-')) perPerson.set(e.personKey, (perPerson.get(e.personKey) ?? 0) + 1);
      for (const s of SERVICES) {
        const ok = await withClient(stack.databaseUrls[s.name], async (c) => {
          const { rows: pending } = await c.query(`SELECT 1 FROM ${s.schema}.outbox WHERE published_at IS NULL LIMIT 1`);
          const { rows } = await c.query<{ person_key: string; version: number }>(`SELECT person_key, version FROM ${s.schema}.person_record`);
          return pending.length === 0 && rows.length === perPerson.size && rows.every((r) => perPerson.get(ids().keyOf(r.person_key) ?? r.person_key) === Number(r.version));
        });
        if (!ok) return undefined;
      }
      return true;
    }, { timeoutMs: 60_000, message: 'projections caught up with the log' });
  }

  /**
   * Erases the person with \`keyring erase\` and checks: no row of any service holds their citizen ID,
   * the audit trail names them only in \`people\` (never `words` of theirs), `more` checks per service,
   * and each projection equals a rebuild of it from the log.
   */
  async function eraseAndCheck(citizenId: string, words: readonly string[], more: (name: ServiceName, c: Client) => Promise<void>): Promise<void> {
    const before: Record<string, Record<string, number>> = {};
    const forms = [citizenId, stored(citizenId)];
    for (const s of SERVICES) before[s.name] = await withClient(stack.databaseUrls[s.name], (c) => rowsHolding(c, schemasOf(s), forms));
    // Erase: the event, the four groups past it, the key destroyed. Lines name the person ref only.
    const suffix = stack.topic.replace(/[^a-z0-9]/gi, '').slice(-10);
    const groups = SERVICES.map((s) => `${s.name}-${suffix}`);
    const out: string[] = [];
    const code = await keyringCommand(
      ['erase', '--citizen-id', citizenId, '--reason', `PIPL art. 47 request E2E-${citizenId.slice(-4)}`, '--requested-by', 'operator:e2e', '--groups', groups.join(','), '--wait-seconds', '120'],
      { ...process.env, LOG_TOPIC: stack.topic },
      (l) => out.push(l),
    );
    const ref = personRefOf(process.env['LOG_PERSON_REF_SECRET'] as string, citizenId);
    // This process sealed the erasure event: its key cache would still open the person's events for
    // a minute (ADR 0009), and the log's readers below must see what the services see.
    await closeSealers();
    expect(code).toBe(0);
    expect(out[0]).toMatch(new RegExp(`^keyring erase: person ${ref}: person\\.erased \\S+ appended \\(partition \\d+, offset \\d+\\); waiting up to 120 s for ${groups.join(', ')}$`));
    expect(out[out.length - 2]).toBe(`keyring erase: ${groups.map((g) => `${g} passed`).join(', ')}`);
    expect(out[out.length - 1]).toBe(`keyring erase: person ${ref} erased (data key destroyed); running consumers stop reading their events within a minute (key cache)`);
    expect(out.join('\n')).not.toContain(citizenId);

    // Nothing of theirs in any table of any service (audit trail aside: the legal record, ADR 0010).
    for (const s of SERVICES) {
      await withClient(stack.databaseUrls[s.name], async (c) => {
        const after = await rowsHolding(c, schemasOf(s), forms);
        expect(Object.entries(after).filter(([, n]) => n > 0)).toEqual([]);
        expect(Object.keys(after).sort()).toEqual(Object.keys(before[s.name] ?? {}).sort());
        await more(s.name, c);
        const { rows } = await c.query<{ person_ref: string }>(`SELECT person_ref FROM ${s.schema}.erased_person`);
        expect(rows.map((r) => r.person_ref)).toContain(ref);
        // The audit trail is kept (the legal record of who read or changed whom): it names the person
        // by person ID in \`people\` (the erasure itself at least), never by citizen ID, and holds
        // nothing else of theirs (no name, phone, address).
        const personId = stored(citizenId);
        expect((await c.query(`SELECT seq FROM audit.audit_event WHERE strpos(entry, $1) > 0`, [citizenId])).rows).toEqual([]);
        const { rows: audit } = await c.query<{ entry: string }>(`SELECT entry FROM audit.audit_event WHERE people @> ARRAY[$1]::text[]`, [personId]);
        expect(audit.map((r) => (JSON.parse(r.entry) as { action: string }).action)).toContain('erase');
        for (const { entry } of audit) {
          const { people, ...rest } = JSON.parse(entry) as { people: string[] };
          expect(people).toContain(personId);
          for (const w of words) expect(JSON.stringify(rest)).not.toContain(w);
        }
      });
    }

    // Each projection equals a rebuild of it from the log, which opens nothing of theirs.
    for (const s of SERVICES) {
      await withClient(stack.databaseUrls[s.name], async (c) => {
        const live = await snapshot(c, s.schema);
        const result = spawnSync(process.execPath, ['-r', './tools/register.js', `services/${s.name}/src/cli.ts`, 'rebuild'], {
          cwd: join(__dirname, '..'),
          env: { ...process.env, DATABASE_URL: stack.databaseUrls[s.name], LOG_TOPIC: stack.topic, AUTH_JWT_SECRET: JWT_SECRET, API_KEY_SECRET: KEY_SECRET, LOG_LEVEL: 'warn' },
          encoding: 'utf8',
          timeout: 120_000,
        });
        if (result.status !== 0) throw new Error(`rebuild of ${s.name} failed: ${result.stderr}`);
        expect(await snapshot(c, s.schema)).toEqual(live);
        const { rows: old } = await c.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${s.schema}__old_%`]);
        for (const { nspname } of old) await c.query(`DROP SCHEMA ${nspname} CASCADE`);
      });
    }
  }
});
