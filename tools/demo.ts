import { mintApiKey, mintToken } from '@qmcb/auth';
import { checkCharacter, maskCitizenId } from '@qmcb/domain';
import { httpJson, startStack, waitFor } from '@qmcb/testing';
import type { HttpResult, ServiceName } from '@qmcb/testing';
import { join } from 'path';

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
  const stack = await startStack({ env: () => ({}), logDir: join(__dirname, '..', 'tmp', 'demo-logs') });
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

    step(3, 'Survey tasking puts him on his village’s target list');
    const surveyor = bearer('surveyor', VILLAGE, 'surveyor-demo', 'survey');
    const task = await waitFor(async () => {
      const r = await call('survey-tasking', 'POST', '/persons/lookup', clerk, { citizenId });
      return r.status === 200 && r.body.tasks.length ? r.body.tasks[0] : undefined;
    }, { timeoutMs: 60_000, message: 'survey task' });
    show('task', task);

    step(4, 'A surveyor visits and submits the registration form; he enrols in the resident schemes on site');
    const form = {
      name: '李明', phone: '13800138000', employmentStatus: 'farmer', residenceAddress: '高州市石仔岭街道南宫居委会 12 号',
      residenceDivision: VILLAGE, insuredElsewhere: false,
      insurance: [
        { insuranceType: 'pension', scheme: 'resident', status: 'active', region: COUNTY },
        { insuranceType: 'medical', scheme: 'resident', status: 'active', region: COUNTY },
      ],
    };
    const submitted = await call('survey-tasking', 'POST', `/tasks/${task.taskId}/submissions`, { ...surveyor, 'idempotency-key': `demo-${citizenId}` }, form);
    show(`POST /tasks/:id/submissions → ${submitted.status}`, submitted.body);

    step(5, 'The township grassroots platform reviews it (初审)');
    const township = bearer('grassroots-reviewer', TOWNSHIP, 'township-demo', 'review');
    const item = await waitFor(async () => {
      const r = await call('review', 'POST', '/persons/lookup', clerk, { citizenId });
      return r.status === 200 && r.body.reviews.length ? r.body.reviews[0] : undefined;
    }, { timeoutMs: 60_000, message: 'review item' });
    const initial = await call('review', 'POST', `/reviews/${item.reviewId}/initial-approval`, township, { expectedVersion: item.version, comment: '信息核实无误' });
    show(`initial approval → ${initial.status}`, initial.body);

    step(6, 'The county approves it (审定)');
    const county = bearer('county-approver', COUNTY, 'county-demo', 'review');
    const final = await call('review', 'POST', `/reviews/${item.reviewId}/final-approval`, county, { expectedVersion: item.version + 1 });
    show(`final approval → ${final.status}`, final.body);

    step(7, 'Dynamic update: the registry record carries the collected information, the flag lifted');
    const registry = await waitFor(async () => {
      const r = await call('dynamic-update', 'POST', '/persons/lookup', clerk, { citizenId });
      return r.status === 200 && r.body.record.comparison?.outcome === 'registered' ? r.body : undefined;
    }, { timeoutMs: 60_000, message: 'registry record' });
    show('outcome', registry.record.comparison.outcome);
    show('needs survey', registry.record.flags.needsSurvey);
    show('insurance', Object.keys(registry.record.insurance));
    show('history', registry.history.map((h: { version: number; type: string }) => `${h.version}:${h.type}`));
    process.stdout.write('\nDemo complete.\n');
  } catch (e) {
    process.stderr.write(`\nDemo failed: ${(e as Error).message}\nService logs are in tmp/demo-logs/\n`);
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
