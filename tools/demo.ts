import { mintApiKey, mintToken } from '@qmcb/auth';
import { checkCharacter, maskCitizenId } from '@qmcb/domain';
import { PortInUseError, SERVICES, httpJson, startIsolatedStack, startStack, waitFor } from '@qmcb/testing';
import type { IsolatedStack } from '@qmcb/testing';
import type { HttpResult, ServiceName } from '@qmcb/testing';
import { randomUUID } from 'crypto';
import { join } from 'path';
import { ledgerRowForDisplay } from './demo-output';

/**
 * The demo: the four services on their default ports against the local stack, and one uninsured
 * resident of 高州市 taken from department records to an approved registry record, step by step.
 */
const VILLAGE = '440981002001';
const TOWNSHIP = VILLAGE.slice(0, 9);
const COUNTY = VILLAGE.slice(0, 6);
// The local stack's own (deploy/local/env.sh, sourced by tools/demo.sh): there are no defaults.
const jwtSecret = process.env.AUTH_JWT_SECRET ?? '';
const keySecret = process.env.API_KEY_SECRET ?? '';

function step(n: number, text: string): void {
  process.stdout.write(`\n[${n}] ${text}\n`);
}
function show(label: string, value: unknown): void {
  process.stdout.write(`    ${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
}

async function main(): Promise<void> {
  const exitAfter = process.argv.includes('--exit');
  // A fresh person each run, so the demo can be run again against the same databases.
  const seq = String(101 + 2 * Math.floor(Math.random() * 400)).padStart(3, '0'); // odd: male, as the household record says
  const id17 = `${COUNTY}1985${String(1 + Math.floor(Math.random() * 12)).padStart(2, '0')}15${seq}`;
  const citizenId = `${id17}${checkCharacter(id17)}`;
  // Each person states why they read personal data (X-Purpose, docs/security.md).
  const bearer = (role: string, division: string, sub: string, purpose?: string): Record<string, string> => ({
    authorization: `Bearer ${mintToken({ sub, name: sub, role, division, ttlSeconds: 3600 }, jwtSecret)}`,
    ...(purpose ? { 'x-purpose': purpose } : {}),
  });

  process.stdout.write('==> starting comparison, survey-tasking, review and dynamic-update\n');
  // QMCB_DEMO_ISOLATED=1: a log topic and databases of its own (the databases dropped at the end), to try
  // the demo on a machine where the local databases are someone else's.
  // QMCB_DEMO_PORT=3201: the four services on 3201-3204 (management 4201-4204) instead of 3101-3104, beside a stack already running.
  const base = Number(process.env.QMCB_DEMO_PORT ?? SERVICES[0].port);
  if (!Number.isInteger(base) || base < 1024 || base + 3 + 1000 > 65_535) throw new Error(`QMCB_DEMO_PORT must be a port from 1024 to 64532, got ${process.env.QMCB_DEMO_PORT}`);
  const ports = Object.fromEntries(SERVICES.map((s, i) => [s.name, base + i])) as Record<ServiceName, number>;
  // Appended to, never truncated; a demo on other ports has logs of its own.
  const logDir = join(__dirname, '..', 'tmp', base === SERVICES[0].port ? 'demo-logs' : `demo-logs-${base}`);
  const portHint = `stop it (Ctrl-C where that \`npm run demo\` runs; \`ss -ltnp\` shows what listens), or run this one on other ports with a log topic and databases of its own: QMCB_DEMO_ISOLATED=1 QMCB_DEMO_PORT=${base + 100 <= 64_000 ? base + 100 : 3201} npm run demo`;
  let stack: Awaited<ReturnType<typeof startStack>>;
  try {
    stack = process.env.QMCB_DEMO_ISOLATED === '1' ? await startIsolatedStack({ logDir, ports, portHint }) : await startStack({ env: () => ({}), logDir, ports, portHint });
  } catch (e) {
    // Nothing of ours is running: say why, nothing else (a port in use needs no stack trace).
    process.stderr.write(`\nDemo not started: ${(e as Error).message}\n${e instanceof PortInUseError ? '' : `Service logs are in ${logDir}/\n`}`);
    process.exit(1);
  }
  const call = (service: ServiceName, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<HttpResult> =>
    httpJson(stack.urls[service], method, path, headers, body);
  const shutdown = async (): Promise<void> => {
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());

  try {
    Object.entries(stack.urls).forEach(([name, url]) => show(name, `${url}  (OpenAPI ${stack.managementUrls[name as ServiceName]}/api/docs)`));
    if ('topic' in stack) {
      // Operator commands reach this stack only when pointed at it (the defaults are the local stack's).
      const isolated = stack as IsolatedStack;
      show('isolated', `log topic ${isolated.topic}; consumer groups ${Object.values(isolated.consumerGroups).join(',')}`);
      show('commands', `LOG_TOPIC=${isolated.topic} npm run keyring -- erase … --groups ${Object.values(isolated.consumerGroups).join(',')}; DATABASE_URL=<its database> npm run projection -- <service> …`);
      Object.entries(isolated.databaseUrls).forEach(([name, url]) => show(`${name} database`, url.replace(/\/\/[^@/]*@/, '//')));
      show('note', 'its databases are dropped when it stops; its topic, consumer groups and data keys stay');
    }
    const clerk = bearer('window-clerk', COUNTY, 'clerk-demo', 'window-service');

    step(1, `Public security posts the household record of 李明 (${maskCitizenId(citizenId)}), village ${VILLAGE}; no insurance system knows him`);
    const posted = await call('comparison', 'POST', '/records', { 'x-api-key': mintApiKey('public-security', 'ps-demo', keySecret) }, {
      records: [{ sourceRecordId: `HJ-${citizenId.slice(-6)}`, citizenId, mode: 'snapshot', asOf: new Date().toISOString(),
        facts: { kind: 'household', name: '李明', sex: 'male', villageCode: VILLAGE, status: 'normal', hukouType: 'agricultural',
          address: '广东省高州市石仔岭街道南宫居委会 12 号', phone: '13800138000' } }],
    });
    show(`POST /records → ${posted.status}`, posted.body);

    step(2, 'Comparison merges what every department knows and decides');
    const compared = await waitFor(async () => {
      const r = await call('comparison', 'POST', '/persons/lookup', clerk, { citizenId });
      return r.status === 200 && r.body.record.comparison ? r.body : undefined;
    }, { timeoutMs: 60_000, message: 'comparison outcome' });
    show('outcome', compared.record.comparison.outcome);
    show('reasons', compared.record.comparison.reasons);

    step(3, 'Survey tasking puts him on his village’s target list, with why in plain words');
    const task = await waitFor(async () => {
      const r = await call('survey-tasking', 'POST', '/persons/lookup', clerk, { citizenId });
      return r.status === 200 && r.body.tasks.length ? r.body.tasks[0] : undefined;
    }, { timeoutMs: 60_000, message: 'survey task' });
    show('target', { taskId: task.taskId, villageCode: task.villageCode, status: task.status, why: task.why.map((w: { label: string }) => w.label), household: task.householdKey });

    step(4, 'The county runs its campaign: a team of two under the township, targets distributed by workload');
    const countyHead = bearer('county-approver', COUNTY, 'county-demo', 'survey');
    const township = bearer('grassroots-reviewer', TOWNSHIP, 'township-demo', 'survey');
    const campaigns = await call('survey-tasking', 'GET', '/campaigns', countyHead);
    let campaign = (campaigns.body as { campaignId: string; countyCode: string; status: string }[]).find((c) => c.countyCode === COUNTY && c.status === 'open');
    if (!campaign) {
      const opened = await call('survey-tasking', 'POST', '/campaigns', countyHead, { campaignId: randomUUID(), countyCode: COUNTY, name: '高州市全民参保登记入户调查', startsOn: new Date().toISOString().slice(0, 10), deadline: '2099-12-31' });
      campaign = opened.body;
    }
    const campaignId = (campaign as { campaignId: string }).campaignId;
    const teams = await call('survey-tasking', 'GET', `/campaigns/${campaignId}/teams?division=${TOWNSHIP}`, township);
    if (!(teams.body as { name: string }[]).some((t) => t.name === '演示组')) {
      await call('survey-tasking', 'POST', `/campaigns/${campaignId}/teams`, township, { teamId: randomUUID(), townshipCode: TOWNSHIP, name: '演示组', members: [{ surveyorId: 'surveyor-demo', name: '调查员甲' }, { surveyorId: 'surveyor-demo-2', name: '调查员乙' }] });
    }
    const assigned = await call('survey-tasking', 'POST', `/campaigns/${campaignId}/assignments/auto`, township, { townshipCode: TOWNSHIP });
    show(`POST /campaigns/:id/assignments/auto → ${assigned.status}`, { assigned: assigned.body.assigned, perSurveyor: assigned.body.perSurveyor });
    const given = await waitFor(async () => {
      const r = await call('survey-tasking', 'GET', `/tasks/${task.taskId}`, township);
      return r.status === 200 && r.body.responsibleId ? r.body : undefined;
    }, { timeoutMs: 30_000, message: 'the target given to a surveyor' });
    show('responsible surveyor', `${given.responsibleId} (campaign ${campaignId})`);
    // The surveyor sees only their own targets: a download of their list for the day.
    const surveyor = bearer('surveyor', VILLAGE, given.responsibleId, 'survey');
    const download = await call('survey-tasking', 'GET', '/my/targets?limit=500', surveyor);
    show('GET /my/targets', `${download.body.targets.length} targets in ${download.body.households.length} households`);

    step(5, 'The surveyor visits and submits the registration form (全民参保登记表); he enrols in the resident schemes on site');
    const birthDate = `${citizenId.slice(6, 10)}-${citizenId.slice(10, 12)}-${citizenId.slice(12, 14)}`;
    const request = {
      kind: 'registration-form',
      fields: {
        citizenId, name: '李明', sex: 'male', birthDate, phone: '13800138000', employmentStatus: 'farmer', residenceAddress: '高州市石仔岭街道南宫居委会 12 号',
        residenceDivision: VILLAGE, insuredElsewhere: false,
        insurance: [
          { insuranceType: 'pension', scheme: 'resident', status: 'active', region: COUNTY },
          { insuranceType: 'medical', scheme: 'resident', status: 'active', region: COUNTY },
        ],
      },
      evidence: [],
      unknown: [],
    };
    const upload = { submissionId: randomUUID(), visitId: randomUUID(), visitedAt: new Date().toISOString(), request, household: { members: [{ citizenId, name: '李明', relation: '户主', status: 'present' }] } };
    const submitted = await call('survey-tasking', 'POST', `/tasks/${task.taskId}/submissions`, surveyor, upload);
    show(`POST /tasks/:id/submissions → ${submitted.status}`, submitted.body);

    step(6, 'The township grassroots platform reviews it (初审)');
    const reviewer = bearer('grassroots-reviewer', TOWNSHIP, 'township-demo', 'review');
    const item = await waitFor(async () => {
      const r = await call('review', 'POST', '/persons/lookup', clerk, { citizenId });
      return r.status === 200 && r.body.reviews.length ? r.body.reviews[0] : undefined;
    }, { timeoutMs: 60_000, message: 'review item' });
    const initial = await call('review', 'POST', `/reviews/${item.reviewId}/initial-approval`, reviewer, { expectedVersion: item.version, comment: '信息核实无误' });
    show(`initial approval → ${initial.status}`, initial.body);

    step(7, 'The county approves it (审定)');
    const county = bearer('county-approver', COUNTY, 'county-demo', 'review');
    const final = await call('review', 'POST', `/reviews/${item.reviewId}/final-approval`, county, { expectedVersion: item.version + 1 });
    show(`final approval → ${final.status}`, final.body);

    step(8, 'Dynamic update: the registry record carries the collected information, the flag lifted');
    const registry = await waitFor(async () => {
      const r = await call('dynamic-update', 'POST', '/persons/lookup', clerk, { citizenId });
      return r.status === 200 && r.body.record.comparison?.outcome === 'registered' ? r.body : undefined;
    }, { timeoutMs: 60_000, message: 'registry record' });
    show('outcome', registry.record.comparison.outcome);
    show('needs survey', registry.record.flags.needsSurvey);
    show('insurance', Object.keys(registry.record.insurance));
    show('history', registry.history.map((h: { version: number; type: string }) => `${h.version}:${h.type}`));

    step(9, 'The campaign: progress of the township, and the rectification ledger (整改台账) closing him out');
    const progress = await waitFor(async () => {
      const r = await call('survey-tasking', 'GET', `/campaigns/${campaignId}/progress?groupBy=village&division=${TOWNSHIP}`, township);
      return r.status === 200 && r.body.total.approved > 0 ? r.body : undefined;
    }, { timeoutMs: 30_000, message: 'progress' });
    show('township', progress.total);
    const ledger = await fetch(`${stack.urls['survey-tasking']}/campaigns/${campaignId}/ledgers/rectification?format=csv&division=${VILLAGE}`, { headers: township });
    const lines = (await ledger.text()).replace(/^\uFEFF/, '').split('\r\n');
    show(`GET …/ledgers/rectification?format=csv → ${ledger.status}`, lines[0] as string);
    const row = ledgerRowForDisplay(lines, citizenId);
    if (row) show('his row', row);
    process.stdout.write('\nDemo complete.\n');
  } catch (e) {
    process.stderr.write(`\nDemo failed: ${(e as Error).message}\nService logs are in ${logDir}/\n`);
    await stack.stop();
    process.exit(1);
  }
  if (exitAfter) {
    await stack.stop();
    return;
  }
  process.stdout.write('The services keep running (Ctrl-C stops them).\n');
}

void main();
