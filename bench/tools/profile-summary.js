/**
 * Self time per function and per file (or package) of a .cpuprofile:
 *   node bench/tools/profile-summary.js <file.cpuprofile> [--from=<s>] [--to=<s>] [--top=<n>]
 * --from/--to keep the samples between those seconds after the profile started (start-up left out);
 * the first lines show the busy share per 10 s so the window can be chosen.
 */
'use strict';
const fs = require('fs');
const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const opt = (name, d) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : d;
};
const from = opt('from', 0);
const to = opt('to', Infinity);
const top = opt('top', 30);
const p = JSON.parse(fs.readFileSync(file, 'utf8'));
const nodes = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children || []) parent.set(c, n.id);
const t0 = p.startTime;
let t = t0;
const self = new Map();
const byFile = new Map();
const total = new Map(); // inclusive, by function
const buckets = new Map();
let kept = 0;
let idle = 0;
const where = (n) => {
  const u = n.callFrame.url || '';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (m) return `npm:${m[1]}`;
  if (u.startsWith('node:')) return u;
  if (!u) return `(${n.callFrame.functionName || 'native'})`;
  return u.replace(/^file:\/\//, '').replace(/^.*?\/(libs|services|bench|tools)\//, '$1/');
};
const fn = (n) => `${n.callFrame.functionName || '(anonymous)'} ${where(n)}:${n.callFrame.lineNumber + 1}`;
for (let i = 0; i < p.samples.length; i += 1) {
  const dt = p.timeDeltas[i] || 0;
  t += dt;
  const s = (t - t0) / 1e6;
  const n = nodes.get(p.samples[i]);
  const name = n.callFrame.functionName;
  const isIdle = name === '(idle)';
  const b = Math.floor(s / 10);
  const bk = buckets.get(b) || { busy: 0, all: 0 };
  bk.all += dt;
  if (!isIdle) bk.busy += dt;
  buckets.set(b, bk);
  if (s < from || s > to) continue;
  if (isIdle) {
    idle += dt;
    continue;
  }
  kept += dt;
  self.set(fn(n), (self.get(fn(n)) || 0) + dt);
  byFile.set(where(n), (byFile.get(where(n)) || 0) + dt);
  const seen = new Set();
  for (let id = n.id; id !== undefined; id = parent.get(id)) {
    const k = fn(nodes.get(id));
    if (seen.has(k)) continue;
    seen.add(k);
    total.set(k, (total.get(k) || 0) + dt);
  }
}
console.log('busy share per 10 s:', [...buckets].map(([b, v]) => `${b * 10}s:${Math.round((100 * v.busy) / Math.max(1, v.all))}%`).join(' '));
console.log(`window ${from}–${to === Infinity ? 'end' : to} s: busy ${(kept / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s`);
const show = (title, m, n) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${((100 * v) / kept).toFixed(1).padStart(5)}%  ${(v / 1e6).toFixed(2).padStart(7)} s  ${k}`);
};
show('self time by file / package', byFile, top);
show('self time by function', self, top);
show('inclusive time by function', total, top);
