/**
 * A sampling profile of PostgreSQL sessions: every --every ms (default 50), what each backend of the
 * matching databases is doing (pg_stat_activity), counted by state and statement, until SIGINT or
 * --seconds. `active` samples show where PostgreSQL spends time; `idle in transaction` means
 * PostgreSQL is waiting for the client (Node). Works without pg_stat_statements.
 *   node bench/tools/pg-sample.js --db=qmcb_test_% [--every=50] [--seconds=600] [--top=25]
 */
'use strict';
const { Client } = require('pg');
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const every = Number(args.every || 50);
const until = Date.now() + Number(args.seconds || 600) * 1000;
const top = Number(args.top || 25);
const norm = (q) => q.replace(/\s+/g, ' ').replace(/\$\d+/g, '$n').slice(0, 140);
(async () => {
  const c = new Client({ connectionString: process.env.PG_SAMPLE_URL || 'postgres://postgres@127.0.0.1:5432/postgres' });
  await c.connect();
  const states = new Map();
  const queries = new Map();
  const waits = new Map();
  let samples = 0;
  let stop = false;
  process.on('SIGINT', () => (stop = true));
  process.on('SIGTERM', () => (stop = true));
  while (!stop && Date.now() < until) {
    const { rows } = await c.query(
      `select state, wait_event_type, wait_event, query, application_name from pg_stat_activity
        where datname like $1 and pid <> pg_backend_pid() and backend_type = 'client backend'`,
      [args.db || 'qmcb_test_%'],
    );
    samples += 1;
    for (const r of rows) {
      const s = r.state || '?';
      states.set(s, (states.get(s) || 0) + 1);
      if (s === 'active') {
        const q = norm(r.query || '');
        queries.set(q, (queries.get(q) || 0) + 1);
        const w = r.wait_event_type ? `${r.wait_event_type}:${r.wait_event}` : 'CPU (no wait event)';
        waits.set(w, (waits.get(w) || 0) + 1);
      }
    }
    await new Promise((r) => setTimeout(r, every));
  }
  await c.end();
  const show = (title, m) => {
    const total = [...m.values()].reduce((a, b) => a + b, 0);
    console.log(`\n${title} (${total} session-samples over ${samples} samples every ${every} ms; per sample ${(total / samples).toFixed(2)} sessions)`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${String(v).padStart(6)}  ${k}`);
  };
  show('session state', states);
  show('active: wait event', waits);
  show('active: statement', queries);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
