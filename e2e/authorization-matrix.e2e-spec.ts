import { DIVISION_LEVELS, ROLES, ROLE_DIVISION_LEVELS, mintApiKey, mintToken } from '@qmcb/auth';
import type { DivisionLevel, PersonalDataPolicy, Role } from '@qmcb/auth';
import { DEPARTMENTS } from '@qmcb/contracts';
import type { Department } from '@qmcb/contracts';
import { checkCharacter } from '@qmcb/domain';
import { PersonIds } from '@qmcb/platform';
import { SERVICES, freePort, freeServicePorts, registrationFormSubmission, sexOfCitizenId, startIsolatedStack, waitFor } from '@qmcb/testing';
import type { IsolatedStack, ServiceName } from '@qmcb/testing';
import { randomBytes, randomUUID } from 'crypto';
import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { Client } from 'pg';

/**
 * The authorization matrix, generated from the route table: every route every service serves (read
 * from the services themselves, `GET /routes` on their management port: Nest's route metadata, as
 * its router uses it) × every kind of caller that must be refused:
 *
 *   no credentials · a role the route does not grant · a granted role at a division level the role does
 *   not work at · a granted role outside the division of what is asked for · another department's key
 *   · the submitter (or initial reviewer) deciding on their own item (four eyes)
 *
 * plus, as controls, every granted role inside the division and every granted department, which must
 * get through; and bad pagination, which must never be a 500. Every refusal must be in the service's
 * audit trail. A new route is covered without anyone editing this file, except to say how to make a
 * valid request to it (`REQUESTS`, `PARAMS`): a route for which that is missing fails the test.
 */
const JWT_SECRET = randomBytes(32).toString('base64url');
const KEY_SECRET = randomBytes(32).toString('base64url');
const VILLAGE = '440981002001'; // 高州市 石仔岭街道 南宫居委会
const PREFIX_LENGTH: Readonly<Record<DivisionLevel, number>> = { province: 2, city: 4, county: 6, township: 9, village: 12 };
/** The fixtures' division at each level, and a division of the same level that does not contain them. */
const INSIDE = (level: DivisionLevel): string => VILLAGE.slice(0, PREFIX_LENGTH[level]);
const OUTSIDE: Readonly<Record<DivisionLevel, string>> = { province: '11', city: '4401', county: '440902', township: '440981100', village: '440981002002' };
const SURVEYOR = 'matrix-surveyor';
/** The other surveyor of the fixtures' team (a team has 2-3). */
const OTHER_SURVEYOR = 'matrix-surveyor-2';
const REVIEWER = 'matrix-reviewer';

const id = (first17: string): string => `${first17}${checkCharacter(first17)}`;
const P1 = id('44098119850315201'); // surveyed, submitted: review item at the initial stage
const P2 = id('44098119850315202'); // surveyed, submitted, initially approved: review item at the final stage
const P3 = id('44098119850315203'); // records under a mistyped ID proposed as theirs: a link at the initial stage
const P4 = id('44098119850315204'); // the same, initially approved: a link at the final stage
const P5 = id('44098119850315205'); // whose death the county reviews: a proposal (dynamic update)
const P6 = id('44098119850315206'); // on a department's roster of another village
/** The ID with another check character: invalid, one typo away. */
const typo = (citizenId: string): string => `${citizenId.slice(0, 17)}${citizenId[17] === '0' ? '1' : '0'}`;

interface RouteDeclaration {
  method: string;
  path: string;
  public: boolean;
  roles: Role[];
  departments: (Department | '*')[];
  personalData: PersonalDataPolicy | 'none' | null;
}

interface Fixtures {
  personId: string;
  citizenId: string;
  name: string;
  taskId: string;
  /** Review items: at the initial stage (P1) and at the final stage (P2), with their versions. */
  initial: { reviewId: string; version: number };
  final: { reviewId: string; version: number };
  loadId: string;
  /** Window submissions, each seen by its submitter only: a clerk's and the social-insurance system's. */
  windowByClerk: string;
  windowBySystem: string;
  /** A correction the citizen P1 submitted about themselves (self-service), with its version. */
  correction: { reviewId: string; version: number };
  /** Identity links comparison proposed: at the initial stage (P3) and at the final stage (P4), with their versions. */
  linkInitial: { linkId: string; version: number };
  linkFinal: { linkId: string; version: number };
  /** The county's survey campaign (open, with the fixtures' team, the targets assigned to SURVEYOR), and one closed before it. */
  campaignId: string;
  closedCampaignId: string;
  teamId: string;
  /** A business event the county reviews (P5's death), a department's roster, change-feed subscriptions (one to disable) and a dead letter. */
  proposalId: string;
  snapshotId: string;
  subscriptionId: string;
  doomedSubscriptionId: string;
  deadLetterId: number;
}

/** A citizen's scope is their own citizen ID (claim cid): P1 inside, P2 outside. */
type Caller = { kind: 'none' } | { kind: 'person'; role: Role; division: string; sub: string; cid?: string } | { kind: 'system'; department: Department };

interface Request {
  method: string;
  path: string;
  query?: string;
  body?: { contentType: string; text: string };
}

/** The person a request is about (the fixtures') and how to build a valid request to each route. */
const PARAMS: Record<string, (f: Fixtures, route: RouteDeclaration, caller: Caller) => string> = {
  personId: (f) => f.personId,
  taskId: (f) => f.taskId,
  reviewId: (f, route, caller) => {
    if (route.path.startsWith('/me/')) return f.correction.reviewId;
    // A decision reaches the four-eyes check only at its own stage: the county decides on the final-stage item.
    return route.path.endsWith('/final-approval') || (caller.kind === 'person' && caller.role === 'county-approver') ? f.final.reviewId : f.initial.reviewId;
  },
  submissionId: (f, _route, caller) => (caller.kind === 'system' ? f.windowBySystem : f.windowByClerk),
  // As for review items: the county decides on the final-stage link.
  linkId: (f, route, caller) => (route.path.endsWith('/final-approval') || (caller.kind === 'person' && caller.role === 'county-approver') ? f.linkFinal.linkId : f.linkInitial.linkId),
  // Closing, and the automatic distribution (which re-plans every unfinished target of the township), act on the closed campaign: 409, nothing changes.
  campaignId: (f, route) => (/\/(close|assignments\/auto)$/.test(route.path) ? f.closedCampaignId : f.campaignId),
  teamId: (f) => f.teamId,
  proposalId: (f) => f.proposalId,
  snapshotId: (f) => f.snapshotId,
  deadLetterId: (f) => String(f.deadLetterId),
  id: (f, route) => {
    if (route.path.startsWith('/loads/')) return f.loadId;
    // Disabling acts on a subscription of its own: the feed routes read the other.
    if (route.path.startsWith('/subscriptions/')) return route.method === 'DELETE' ? f.doomedSubscriptionId : f.subscriptionId;
    throw new Error(`no fixture for :id of ${route.method} ${route.path}: add one to PARAMS in ${__filename}`);
  },
};

/** The registration form of a visit, with the household as found (every registered member present). */
const submission = (citizenId: string, name: string, members: { citizenId: string; name: string; relation: string }[]): object =>
  registrationFormSubmission({ citizenId, name, residenceDivision: VILLAGE, members });
const NAMES: Readonly<Record<string, string>> = { [P1]: '王五', [P2]: '李四' };

const sexOf = sexOfCitizenId;

const household = (sourceRecordId: string, citizenId: string, name: string): object => ({
  sourceRecordId,
  citizenId,
  mode: 'snapshot',
  asOf: '2026-11-01T00:00:00.000Z',
  facts: { kind: 'household', name, sex: sexOf(citizenId), birthDate: '1985-03-15', villageCode: VILLAGE, status: 'normal', hukouType: 'agricultural', phone: '13900139000', address: '广东省高州市石仔岭街道南宫居委会 1 号' },
});

const json = (value: unknown): Request['body'] => ({ contentType: 'application/json', text: JSON.stringify(value) });
/** P5's death, sent by the public-security bureau: 高州市 reviews deaths before they enter the registry (region policy). */
const DEATH = { type: 'death.registered', businessId: 'MATRIX-P5-DEATH', citizenId: P5, occurredAt: '2026-05-21T10:00:00+08:00', payload: { deathDate: '2026-05-20' } };
/** A public-security roster of another village of the county (nobody of the fixtures on it or held there). */
const ROSTER_QUERY = `kind=household&scope=${OUTSIDE.village}&asOf=${encodeURIComponent('2026-12-01T00:00:00+08:00')}`;
const ROSTER = `${JSON.stringify({ sourceRecordId: 'MATRIX-ROSTER-1', citizenId: P6, facts: { kind: 'household', name: '吴九', sex: 'male', birthDate: '1985-03-15', villageCode: OUTSIDE.village, status: 'normal', hukouType: 'agricultural', address: '广东省高州市石仔岭街道 2 号' } })}\n`;
const TEAM_MEMBERS = [{ surveyorId: SURVEYOR, name: '调查员一' }, { surveyorId: OTHER_SURVEYOR, name: '调查员二' }];
const county = (caller: Caller): boolean => caller.kind === 'person' && caller.role === 'county-approver';
/** The version a decision names: the item's (to reach the four-eyes check), or one it is not at (a control: 409, nothing changes). */
const versionFor = (f: Fixtures, caller: Caller, control: boolean): number => (control ? 999_999 : county(caller) ? f.final.version : f.initial.version);
const change = (citizenId?: string): object => ({ ...(citizenId ? { citizenId } : {}), submissionId: randomUUID(), fields: { phone: '13300133000' }, evidence: [] });

/**
 * Query and body of a valid request, per route; the scope inputs (division, region, citizen ID) point
 * at the fixtures. `control`: a caller who must get through; a decision then names a version the item
 * is not at (409), so the controls change nothing the refusals after them rely on.
 */
const REQUESTS: Record<string, (f: Fixtures, caller: Caller, control: boolean) => Pick<Request, 'query' | 'body'>> = {
  'POST /records': () => ({ body: json({ records: [household(`M-${randomUUID()}`, id('44098119850315299'), '赵六')] }) }),
  'POST /loads': () => ({ body: { contentType: 'application/x-ndjson', text: `${JSON.stringify(household(`ML-${randomUUID()}`, id('44098119850315298'), '钱七'))}\n` } }),
  'GET /loads/:id': () => ({}),
  'GET /loads/:id/quarantine': () => ({}),
  'GET /persons/:personId': () => ({}),
  'POST /persons/lookup': (f) => ({ body: json({ citizenId: f.citizenId }) }),
  'GET /flags': () => ({ query: `division=${VILLAGE}` }),
  'GET /flags/summary': () => ({ query: `division=${VILLAGE}` }),
  'GET /exchange/non-local-insured': () => ({ query: `region=${VILLAGE.slice(0, 6)}` }),
  'GET /statistics/coverage': () => ({ query: `division=${VILLAGE}` }),
  'GET /statistics/changes': () => ({ query: `division=${VILLAGE}&from=2026-01-01T00:00:00Z` }),
  'GET /statistics/details': () => ({ query: `division=${VILLAGE}&figure=population` }),
  'GET /statistics/details/export': () => ({ query: `division=${VILLAGE}&figure=population&format=ndjson` }),
  'GET /statistics/report': () => ({ query: `division=${VILLAGE}&format=csv` }),
  // Scoped by the auditor's own division: no input names the fixtures' division.
  'POST /audit/search': () => ({ body: json({}) }),
  'GET /tasks': () => ({ query: `division=${VILLAGE}` }),
  'GET /tasks/:taskId': () => ({}),
  // The fixtures' target is in review: a form (409) or a visit (409) changes nothing; P2 is a target already (409).
  'POST /tasks/:taskId/submissions': (f) => ({ body: json(submission(f.citizenId, f.name, [{ citizenId: f.citizenId, name: f.name, relation: '户主' }])) }),
  'GET /tasks/:taskId/assignments': () => ({}),
  'POST /tasks/:taskId/visits': () => ({ body: json({ visitId: randomUUID(), outcome: 'not-found', visitedAt: new Date().toISOString() }) }),
  'POST /tasks/:taskId/found-persons': (f) => ({
    body: json({ ...submission(P2, '李四', [{ citizenId: f.citizenId, name: f.name, relation: '户主' }, { citizenId: P2, name: '李四', relation: '兄弟' }]), citizenId: P2, name: '李四', relation: '兄弟' }),
  }),
  'GET /my/targets': () => ({}),
  // The county runs an open campaign: another is a 409.
  'POST /campaigns': () => ({ body: json({ campaignId: randomUUID(), countyCode: INSIDE('county'), name: 'matrix', startsOn: '2026-11-01', deadline: '2099-12-31' }) }),
  'GET /campaigns': () => ({}),
  'GET /campaigns/:campaignId': () => ({}),
  'POST /campaigns/:campaignId/close': () => ({ body: json({ note: 'matrix' }) }),
  'POST /campaigns/:campaignId/teams': () => ({ body: json({ teamId: randomUUID(), townshipCode: INSIDE('township'), name: 'matrix', members: [{ surveyorId: 'matrix-a', name: 'a' }, { surveyorId: 'matrix-b', name: 'b' }] }) }),
  // A campaign is its county's: reads of it name the part they are about, the fixtures' village.
  'GET /campaigns/:campaignId/teams': () => ({ query: `division=${VILLAGE}` }),
  // The members the team has: nobody leaves, nothing is reassigned.
  'PUT /campaigns/:campaignId/teams/:teamId/members': () => ({ body: json({ members: TEAM_MEMBERS }) }),
  // The village to the surveyor who has it.
  'POST /campaigns/:campaignId/assignments': (f) => ({ body: json({ teamId: f.teamId, villageCodes: [VILLAGE], surveyorId: SURVEYOR, reason: 'matrix' }) }),
  'POST /campaigns/:campaignId/assignments/auto': () => ({ body: json({ townshipCode: INSIDE('township') }) }),
  'GET /campaigns/:campaignId/progress': () => ({ query: `groupBy=village&division=${VILLAGE}` }),
  'GET /campaigns/:campaignId/overdue': () => ({ query: `division=${VILLAGE}` }),
  'GET /campaigns/:campaignId/ledgers/summary': () => ({ query: `format=csv&division=${VILLAGE}` }),
  'GET /campaigns/:campaignId/ledgers/rectification': () => ({ query: `format=csv&division=${VILLAGE}` }),
  // The death the fixtures posted, again: already there, nothing changes.
  'POST /business-events': () => ({ body: json({ events: [DEATH] }) }),
  'GET /changes': () => ({ query: `division=${VILLAGE}` }),
  // The county's approval decides P5's proposal; later decisions on it are 409.
  'POST /changes/:proposalId/approval': () => ({ body: json({ comment: 'matrix' }) }),
  'POST /changes/:proposalId/rejection': () => ({ body: json({ reason: 'matrix' }) }),
  // The same roster again: unchanged.
  'POST /snapshots': () => ({ query: ROSTER_QUERY, body: { contentType: 'application/x-ndjson', text: ROSTER } }),
  'GET /snapshots/:snapshotId': () => ({}),
  'GET /snapshots/:snapshotId/changes': () => ({}),
  'GET /snapshots/:snapshotId/quarantine': () => ({}),
  'GET /exchange/handovers': () => ({ query: `division=${VILLAGE}` }),
  'GET /registry/:personId': () => ({}),
  'GET /registry/:personId/history': () => ({}),
  'GET /feed': (f) => ({ query: `subscription=${f.subscriptionId}` }),
  'GET /feed/stream': (f) => ({ query: `subscription=${f.subscriptionId}` }),
  'POST /subscriptions': () => ({ body: json({ name: 'matrix', department: 'social-insurance', keyId: `si-matrix-${randomUUID().slice(0, 8)}`, division: VILLAGE }) }),
  'GET /subscriptions': () => ({}),
  'GET /subscriptions/:id': () => ({}),
  'DELETE /subscriptions/:id': () => ({}),
  'GET /subscriptions/:id/dead-letters': () => ({}),
  // To an endpoint that refuses every connection: answered with the failed result.
  'POST /subscriptions/:id/dead-letters/:deadLetterId/redelivery': () => ({}),
  'GET /reviews': () => ({ query: `division=${VILLAGE}` }),
  'GET /reviews/:reviewId': () => ({}),
  // The version of the item at the stage the caller decides at (the four-eyes check comes after the version check).
  'POST /reviews/:reviewId/initial-approval': (f, caller, control) => ({ body: json({ expectedVersion: versionFor(f, caller, control), comment: 'matrix' }) }),
  'POST /reviews/:reviewId/final-approval': (f, caller, control) => ({ body: json({ expectedVersion: versionFor(f, caller, control) }) }),
  'POST /reviews/:reviewId/return': (f, caller, control) => ({ body: json({ expectedVersion: versionFor(f, caller, control), reason: 'matrix' }) }),
  'POST /reviews/:reviewId/reject': (f, caller, control) => ({ body: json({ expectedVersion: versionFor(f, caller, control), reasonCode: 'false-information', reason: 'matrix' }) }),
  // A duplicate: closing as withdrawn is the submitter's own right, not a review.
  'POST /reviews/:reviewId/close': (f, caller, control) => ({ body: json({ expectedVersion: versionFor(f, caller, control), closeReason: 'duplicate', reason: 'matrix' }) }),
  'POST /reviews/:reviewId/rebase': (f, caller, control) => ({ body: json({ expectedVersion: versionFor(f, caller, control) }) }),
  'POST /reviews/bulk-approval': (f, caller) => ({
    body: json({ stage: county(caller) ? 'final' : 'initial', items: [{ reviewId: county(caller) ? f.final.reviewId : f.initial.reviewId, expectedVersion: 999_999 }] }),
  }),
  'GET /reviews/queues': () => ({ query: `division=${VILLAGE}` }),
  'POST /window/gaps': (f) => ({ body: json({ citizenId: f.citizenId }) }),
  'POST /window/submissions': (f) => ({ body: json(change(f.citizenId)) }),
  'GET /window/submissions/:submissionId': () => ({}),
  'POST /grassroots/changes': (f) => ({ body: json(change(f.citizenId)) }),
  'POST /department-changes': (f) => ({ body: json(change(f.citizenId)) }),
  'GET /me': () => ({}),
  'GET /me/requests': () => ({}),
  'POST /me/corrections': () => ({ body: json(change()) }),
  'POST /me/requests/:reviewId/withdraw': (f, _caller, control) => ({ body: json({ expectedVersion: control ? 999_999 : f.correction.version }) }),
  'GET /links': () => ({ query: `division=${VILLAGE}` }),
  'GET /links/:linkId': () => ({}),
  'POST /links/:linkId/initial-approval': (f, _caller, control) => ({ body: json({ expectedVersion: control ? 999_999 : f.linkInitial.version, comment: 'matrix' }) }),
  'POST /links/:linkId/final-approval': (f, _caller, control) => ({ body: json({ expectedVersion: control ? 999_999 : f.linkFinal.version }) }),
  'POST /links/:linkId/reject': (f, caller, control) => ({ body: json({ expectedVersion: control ? 999_999 : county(caller) ? f.linkFinal.version : f.linkInitial.version, reason: 'matrix' }) }),
};

/** Routes deciding on what a service proposed (comparison's identity links): nobody submitted it, so only the final approval's four eyes apply. */
const PROPOSED_BY_A_SERVICE = /^\/links\//;

/**
 * What a route scoped to the caller's own division may answer a caller outside the fixtures' division.
 * By default nothing of the fixtures' person; the audit search answers entries filed in the auditor's
 * division, which name whom the auditor's own people asked for (refused: in this matrix, the fixtures').
 */
const OWN_DIVISION_ONLY: Record<string, (body: unknown, caller: Extract<Caller, { kind: 'person' }>) => boolean> = {
  'POST /audit/search': (body, caller) => (body as { items: { division: string | null }[] }).items.every((i) => i.division !== null && i.division.startsWith(caller.division)),
};

/**
 * Routes whose resource lives at a coarser level than the fixtures' village: a campaign is its county's,
 * a team its township's. A granted role at a finer level inside the fixtures' division (a village's
 * reviewer) is not inside it: refused with the 404 of everything outside, as the outsider is.
 */
const RESOURCE_LEVEL: Record<string, DivisionLevel> = {
  'POST /campaigns/:campaignId/teams': 'township',
  'PUT /campaigns/:campaignId/teams/:teamId/members': 'township',
  'POST /campaigns/:campaignId/assignments': 'township',
  'POST /campaigns/:campaignId/assignments/auto': 'township',
};
/** A campaign is seen by everyone in its county, each with the figures of their own part: an outsider within the county reads their own division only. */
const COUNTY_WIDE = new Set(['GET /campaigns/:campaignId']);

/** Inputs that name what a request is about; a route with none is scoped to the caller's own division. */
const SCOPED_QUERY = /(^|&)(division|region)=/;
/** In a body: the person, or the division it acts on (a campaign's county, a team's township, a subscription's division). */
const SCOPED_BODY = /"(citizenId|personId|countyCode|townshipCode|division)"/;

function scoped(route: RouteDeclaration, request: Request): boolean {
  return route.path.includes(':') || SCOPED_QUERY.test(request.query ?? '') || SCOPED_BODY.test(request.body?.text ?? '');
}

describe('authorization matrix, generated from the route table of every service', () => {
  let stack: IsolatedStack;
  let fixtures: Fixtures;
  const routes = {} as Record<ServiceName, RouteDeclaration[]>;
  const refused: { service: ServiceName; requestId: string; what: string }[] = [];
  const problems: string[] = [];
  const counts: Record<string, number> = {};

  const headersOf = (caller: Caller, purpose?: string): Record<string, string> => {
    if (caller.kind === 'person') {
      const token = mintToken({ sub: caller.sub, name: caller.sub, role: caller.role, division: caller.division, ttlSeconds: 600, ...(caller.cid ? { citizenId: caller.cid } : {}) }, JWT_SECRET);
      return { authorization: `Bearer ${token}`, ...(purpose ? { 'x-purpose': purpose } : {}) };
    }
    if (caller.kind === 'system') return { 'x-api-key': mintApiKey(caller.department, `${caller.department}-matrix`, KEY_SECRET), ...(purpose ? { 'x-purpose': purpose } : {}) };
    return {};
  };

  async function send(service: ServiceName, request: Request, caller: Caller, purpose?: string, requestId = randomUUID()): Promise<{ status: number; text: string; requestId: string }> {
    const res = await fetch(`${stack.urls[service]}${request.path}${request.query ? `?${request.query}` : ''}`, {
      method: request.method,
      headers: { ...headersOf(caller, purpose), 'x-request-id': requestId, ...(request.body ? { 'content-type': request.body.contentType } : {}) },
      body: request.body?.text,
    });
    // A stream that started (the change feed's server-sent events) runs for the better part of an hour: its status is the answer.
    if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await res.body?.cancel();
      return { status: res.status, text: '', requestId };
    }
    return { status: res.status, text: await res.text(), requestId };
  }

  /** A person of a role; a citizen is P1 (the fixtures' person) unless another ID is given. */
  const person = (role: Role, division: string, sub = `matrix-${role}`, cid = P1): Caller => ({ kind: 'person', role, division, sub, ...(role === 'citizen' ? { cid } : {}) });
  /** The same role somewhere else: another division, another subject, and for a citizen another person (P2). */
  const outsider = (role: Role, division: string): Caller => person(role, division, `matrix-${role}-outside`, P2);
  const json200 = async (service: ServiceName, method: string, path: string, caller: Caller, purpose?: string, body?: unknown) => {
    const res = await send(service, { method, path, body: body === undefined ? undefined : json(body) }, caller, purpose);
    return { status: res.status, body: res.text ? JSON.parse(res.text) : null };
  };

  beforeAll(async () => {
    const logDir = join(__dirname, '..', 'tmp', 'e2e-logs', 'authorization-matrix');
    mkdirSync(logDir, { recursive: true });
    // 高州市 reviews deaths before they enter the registry (procedure §21): the county's queue has an item.
    const policies = join(logDir, 'region-policies.json');
    writeFileSync(policies, JSON.stringify({ regions: { [INSIDE('county')]: { reviewBusinessEvents: ['death.registered'] } } }));
    stack = await startIsolatedStack({
      logDir,
      ports: await freeServicePorts(),
      env: () => ({
        AUTH_JWT_SECRET: JWT_SECRET,
        API_KEY_SECRET: KEY_SECRET,
        DEPLOYMENT_DIVISION: VILLAGE.slice(0, 6),
        REGION_POLICIES_FILE: policies,
        // A webhook that fails once is a dead letter, soon.
        FEED_SEQUENCE_INTERVAL_MS: '100',
        WEBHOOK_POLL_INTERVAL_MS: '200',
        WEBHOOK_BACKOFF_MS: '100',
        WEBHOOK_MAX_ATTEMPTS: '1',
      }),
    });
    for (const s of SERVICES) {
      const table = (await (await fetch(`${stack.managementUrls[s.name]}/routes`)).json()) as { routes: RouteDeclaration[]; express: { method: string; path: string }[] };
      routes[s.name] = table.routes;
      // Nothing Express serves escapes the table (and so this matrix).
      const declared = new Set(table.routes.map((r) => `${r.method} ${r.path}`));
      expect(table.express.map((r) => `${r.method} ${r.path}`).filter((r) => !declared.has(r))).toEqual([]);
    }

    // The fixtures, made the way they are in the county: a department's records, the survey, the first review.
    const publicSecurity: Caller = { kind: 'system', department: 'public-security' };
    const posted = await json200('comparison', 'POST', '/records', publicSecurity, undefined, { records: [household('M-1', P1, '王五'), household('M-2', P2, '李四')] });
    expect(posted.status).toBe(202);
    // The survey: the county's campaign (after one it closed), the township's team, the village's targets to SURVEYOR.
    const county = person('county-approver', INSIDE('county'));
    const township = person('grassroots-reviewer', INSIDE('township'), REVIEWER);
    const campaign = (campaignId: string): object => ({ campaignId, countyCode: INSIDE('county'), name: 'matrix', startsOn: '2026-11-01', deadline: '2099-12-31' });
    const answered = (r: { status: number; body: unknown }, status: number): void => {
      if (r.status !== status) throw new Error(`expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
    };
    const closedCampaignId = randomUUID();
    answered(await json200('survey-tasking', 'POST', '/campaigns', county, 'survey', campaign(closedCampaignId)), 201);
    answered(await json200('survey-tasking', 'POST', `/campaigns/${closedCampaignId}/close`, county, 'survey', { note: 'matrix' }), 201);
    const campaignId = randomUUID();
    const teamId = randomUUID();
    answered(await json200('survey-tasking', 'POST', '/campaigns', county, 'survey', campaign(campaignId)), 201);
    answered(await json200('survey-tasking', 'POST', `/campaigns/${campaignId}/teams`, township, 'survey', { teamId, townshipCode: INSIDE('township'), name: 'matrix', members: TEAM_MEMBERS }), 201);
    const ids = new PersonIds(process.env['PERSON_ID_SECRET'] as string);
    await waitFor(async () => {
      const r = await json200('survey-tasking', 'GET', `/tasks?division=${VILLAGE}`, county, 'survey');
      return r.status === 200 && r.body.total === 2;
    }, { timeoutMs: 60_000, message: 'two survey targets' });
    const assigned = await json200('survey-tasking', 'POST', `/campaigns/${campaignId}/assignments`, township, 'survey', { teamId, villageCodes: [VILLAGE], surveyorId: SURVEYOR });
    expect(assigned.status).toBe(201);
    const surveyor = person('surveyor', VILLAGE, SURVEYOR);
    const tasks = await waitFor(async () => {
      const r = await json200('survey-tasking', 'GET', `/tasks?division=${VILLAGE}`, surveyor, 'survey');
      return r.status === 200 && r.body.total === 2 ? (r.body.items as { taskId: string; personId: string }[]) : undefined;
    }, { timeoutMs: 60_000, message: 'two survey tasks, assigned to the surveyor' });
    const taskOf = (citizenId: string): string => tasks.find((t) => t.personId === ids.idOf(citizenId))?.taskId as string;
    for (const citizenId of [P1, P2]) {
      const detail = await json200('survey-tasking', 'GET', `/tasks/${taskOf(citizenId)}`, surveyor, 'survey');
      expect(detail.status).toBe(200);
      const members = (detail.body.household.members as { citizenId: string; name: string; relation: string | null }[]).map((m) => ({ citizenId: m.citizenId, name: m.name, relation: m.relation ?? '户主' }));
      const submitted = await json200('survey-tasking', 'POST', `/tasks/${taskOf(citizenId)}/submissions`, surveyor, 'survey', submission(citizenId, NAMES[citizenId] as string, members));
      if (submitted.status !== 201) throw new Error(JSON.stringify(submitted.body));
    }
    const reviewer = person('grassroots-reviewer', INSIDE('township'), REVIEWER);
    const items = await waitFor(async () => {
      const r = await json200('review', 'GET', `/reviews?division=${VILLAGE}`, reviewer, 'review');
      return r.status === 200 && r.body.total === 2 ? (r.body.items as { reviewId: string; taskId: string; version: number }[]) : undefined;
    }, { timeoutMs: 60_000, message: 'two review items' });
    const itemOf = (citizenId: string) => items.find((i) => i.taskId === taskOf(citizenId)) as { reviewId: string; version: number };
    const second = itemOf(P2);
    const approved = await json200('review', 'POST', `/reviews/${second.reviewId}/initial-approval`, reviewer, 'review', { expectedVersion: second.version, comment: 'ok' });
    expect(approved.status).toBe(201);
    const lookup = await json200('comparison', 'POST', '/persons/lookup', person('window-clerk', INSIDE('county')), 'window-service', { citizenId: P1 });
    const load = await send('comparison', { method: 'POST', path: '/loads', ...REQUESTS['POST /loads']?.({} as Fixtures, publicSecurity, false) }, publicSecurity);
    expect(load.status).toBe(201);
    const clerk = person('window-clerk', INSIDE('county'));
    const socialInsurance: Caller = { kind: 'system', department: 'social-insurance' };
    const byClerk = await json200('review', 'POST', '/window/submissions', clerk, 'window-service', change(P1));
    const bySystem = await json200('review', 'POST', '/window/submissions', socialInsurance, 'window-service', change(P1));
    const corrected = await json200('review', 'POST', '/me/corrections', person('citizen', INSIDE('county')), 'self-service', change());
    expect([byClerk.status, bySystem.status, corrected.status]).toEqual([201, 201, 201]);
    fixtures = {
      personId: lookup.body.personId,
      citizenId: P1,
      name: '王五',
      taskId: taskOf(P1),
      initial: itemOf(P1),
      final: { reviewId: second.reviewId, version: second.version + 1 },
      loadId: (JSON.parse(load.text) as { loadId: string }).loadId,
      windowByClerk: byClerk.body.submissionId,
      windowBySystem: bySystem.body.submissionId,
      correction: { reviewId: corrected.body.reviewId, version: corrected.body.version },
      ...(await linkFixtures(reviewer)),
      campaignId,
      closedCampaignId,
      teamId,
      ...(await dynamicUpdateFixtures()),
    };
    // Every service has caught up with the fixtures (each serves the person and, where it keeps them, the items).
    for (const s of SERVICES) {
      await waitFor(async () => (await json200(s.name, 'POST', '/persons/lookup', person('window-clerk', INSIDE('county')), 'window-service', { citizenId: P2 })).status === 200, {
        timeoutMs: 60_000,
        message: `${s.name} has the fixtures`,
      });
    }
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
  });

  /**
   * Two identity links, once the other fixtures are in place (their people would be survey targets
   * too): records under a mistyped ID of P3 and of P4, with their names, which comparison proposes as
   * theirs; P4's passed on by the fixtures' grassroots reviewer.
   */
  async function linkFixtures(reviewer: Caller): Promise<Pick<Fixtures, 'linkInitial' | 'linkFinal'>> {
    const publicSecurity: Caller = { kind: 'system', department: 'public-security' };
    const socialInsurance: Caller = { kind: 'system', department: 'social-insurance' };
    const pension = (sourceRecordId: string, citizenId: string, name: string): object => ({
      sourceRecordId, citizenId, mode: 'snapshot', asOf: '2026-11-01T00:00:00.000Z',
      facts: { kind: 'insurance', insuranceType: 'pension', scheme: 'resident', status: 'active', region: VILLAGE.slice(0, 6), name },
    });
    expect((await json200('comparison', 'POST', '/records', publicSecurity, undefined, { records: [household('M-3', P3, '孙七'), household('M-4', P4, '周八')] })).status).toBe(202);
    await waitFor(async () => (await json200('review', 'POST', '/persons/lookup', person('window-clerk', INSIDE('county')), 'window-service', { citizenId: P4 })).status === 200, {
      timeoutMs: 60_000,
      message: 'the people of the links in review',
    });
    expect((await json200('comparison', 'POST', '/records', socialInsurance, undefined, { records: [pension('SI-3', typo(P3), '孙七'), pension('SI-4', typo(P4), '周八')] })).status).toBe(202);
    const links = await waitFor(async () => {
      const r = await json200('review', 'GET', `/links?division=${VILLAGE}`, reviewer, 'review');
      return r.status === 200 && r.body.total === 2 ? (r.body.items as { linkId: string; citizenIdMasked: string; version: number }[]) : undefined;
    }, { timeoutMs: 60_000, message: 'two proposed links in review' });
    const linkOf = (citizenId: string) => links.find((l) => l.citizenIdMasked.endsWith(citizenId.slice(-4))) as { linkId: string; version: number };
    const passed = await json200('review', 'POST', `/links/${linkOf(P4).linkId}/initial-approval`, reviewer, 'review', { expectedVersion: linkOf(P4).version, comment: 'ok' });
    expect(passed.status).toBe(201);
    return { linkInitial: { linkId: linkOf(P3).linkId, version: linkOf(P3).version }, linkFinal: { linkId: linkOf(P4).linkId, version: passed.body.version } };
  }

  /**
   * Dynamic update's: change-feed subscriptions of the public-security bureau's matrix key (its webhook
   * refuses every connection), one to disable; P5 filed in the village, whose death the bureau reports
   * (a proposal for the county) and whose entries in the feed become a dead letter; a roster of another village.
   */
  async function dynamicUpdateFixtures(): Promise<Pick<Fixtures, 'proposalId' | 'snapshotId' | 'subscriptionId' | 'doomedSubscriptionId' | 'deadLetterId'>> {
    const publicSecurity: Caller = { kind: 'system', department: 'public-security' };
    const admin = person('admin', INSIDE('county'));
    const subscribe = async (name: string): Promise<string> => {
      const r = await json200('dynamic-update', 'POST', '/subscriptions', admin, undefined, {
        name, department: 'public-security', keyId: 'public-security-matrix', division: INSIDE('county'), webhookUrl: `http://127.0.0.1:${await freePort()}/hook`, from: 'now',
      });
      expect(r.status).toBe(201);
      return r.body.id as string;
    };
    const subscriptionId = await subscribe('matrix');
    const doomedSubscriptionId = await subscribe('matrix, to disable');
    expect((await json200('comparison', 'POST', '/records', publicSecurity, undefined, { records: [household('M-5', P5, '郑十')] })).status).toBe(202);
    await waitFor(async () => (await json200('dynamic-update', 'POST', '/persons/lookup', person('window-clerk', INSIDE('county')), 'window-service', { citizenId: P5 })).status === 200, {
      timeoutMs: 60_000,
      message: 'P5 in the registry',
    });
    const death = await json200('dynamic-update', 'POST', '/business-events', publicSecurity, 'data-submission', { events: [DEATH] });
    expect(death).toMatchObject({ status: 202, body: { events: [{ status: 'pending-review' }] } });
    const roster = await send('dynamic-update', { method: 'POST', path: '/snapshots', query: ROSTER_QUERY, body: { contentType: 'application/x-ndjson', text: ROSTER } }, publicSecurity, 'data-submission');
    expect(roster.status).toBe(201);
    const dead = await waitFor(async () => {
      const r = await json200('dynamic-update', 'GET', `/subscriptions/${subscriptionId}/dead-letters`, admin, 'operations-support');
      return r.status === 200 && r.body.total > 0 ? (r.body.items[0] as { id: number }) : undefined;
    }, { timeoutMs: 60_000, message: 'a dead letter' });
    return { proposalId: death.body.events[0].proposalId, snapshotId: (JSON.parse(roster.text) as { snapshotId: string }).snapshotId, subscriptionId, doomedSubscriptionId, deadLetterId: dead.id };
  }

  function requestFor(route: RouteDeclaration, caller: Caller, control = false): Request {
    const build = REQUESTS[`${route.method} ${route.path}`];
    if (!build) throw new Error(`no request fixture for ${route.method} ${route.path}: add one to REQUESTS in ${__filename}`);
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
      const param = PARAMS[name];
      if (!param) throw new Error(`no fixture for :${name} of ${route.method} ${route.path}: add one to PARAMS in ${__filename}`);
      return encodeURIComponent(param(fixtures, route, caller));
    });
    return { method: route.method, path, ...build(fixtures, caller, control) };
  }

  const purposeOf = (route: RouteDeclaration): string | undefined => (route.personalData && route.personalData !== 'none' ? route.personalData.purposes[0] : undefined);

  async function expectRefused(service: ServiceName, route: RouteDeclaration, what: string, caller: Caller, status: number, body: object): Promise<void> {
    const res = await send(service, requestFor(route, caller), caller, purposeOf(route));
    counts[what] = (counts[what] ?? 0) + 1;
    const got = ((): unknown => {
      try {
        return res.text ? (JSON.parse(res.text) as object) : null;
      } catch {
        return res.text; // not JSON (a ledger, say): never the body expected
      }
    })();
    if (res.status !== status || JSON.stringify(got) !== JSON.stringify(body)) {
      problems.push(`${service} ${route.method} ${route.path} [${what}]: expected ${status} ${JSON.stringify(body)}, got ${res.status} ${res.text.slice(0, 300)}`);
    }
    refused.push({ service, requestId: res.requestId, what: `${service} ${route.method} ${route.path} [${what}]` });
  }

  async function expectAdmitted(service: ServiceName, route: RouteDeclaration, what: string, caller: Caller): Promise<void> {
    const res = await send(service, requestFor(route, caller, true), caller, purposeOf(route));
    counts[what] = (counts[what] ?? 0) + 1;
    if ([401, 403, 404, 429].includes(res.status) || res.status >= 500) {
      problems.push(`${service} ${route.method} ${route.path} [${what}]: expected to get through, got ${res.status} ${res.text.slice(0, 300)}`);
    }
  }

  const forbidden = (message: string) => ({ statusCode: 403, code: 'FORBIDDEN', message });
  const NOT_FOUND = { statusCode: 404, code: 'NOT_FOUND', message: 'not found' };
  const UNAUTHENTICATED = { statusCode: 401, code: 'UNAUTHENTICATED', message: 'missing credentials: send Authorization: Bearer <token> or X-Api-Key: <key>' };

  it('refuses every route to every caller it does not grant, at the wrong level, outside the division, and to the submitter; admits those it grants', async () => {
    let covered = 0;
    for (const s of SERVICES) {
      for (const route of routes[s.name]) {
        if (route.public) continue;
        covered += 1;
        // Declared: who may call and what it does with personal data (the service would not start otherwise).
        expect(route.personalData).not.toBeNull();
        await expectRefused(s.name, route, 'no credentials', { kind: 'none' }, 401, UNAUTHENTICATED);

        for (const role of ROLES) {
          const level = ROLE_DIVISION_LEVELS[role][ROLE_DIVISION_LEVELS[role].length - 1] as DivisionLevel;
          if (!route.roles.includes(role)) {
            const message = route.roles.length === 0 ? 'only department systems may call this endpoint' : `role ${role} may not call this endpoint`;
            await expectRefused(s.name, route, 'wrong role', person(role, INSIDE(level)), 403, forbidden(message));
            continue;
          }
          for (const wrong of DIVISION_LEVELS.filter((l) => !ROLE_DIVISION_LEVELS[role].includes(l))) {
            const division = INSIDE(wrong);
            const message = `role ${role} works at ${ROLE_DIVISION_LEVELS[role].join(' or ')} level, not ${wrong} level (division ${division})`;
            await expectRefused(s.name, route, 'right role, wrong division level', person(role, division), 403, forbidden(message));
          }
          for (const allowed of ROLE_DIVISION_LEVELS[role]) {
            const outside = outsider(role, OUTSIDE[allowed]);
            const key = `${route.method} ${route.path}`;
            const withinCounty = COUNTY_WIDE.has(key) && OUTSIDE[allowed].startsWith(INSIDE('county'));
            if (scoped(route, requestFor(route, outside)) && !withinCounty) {
              await expectRefused(s.name, route, 'right role outside the division', outside, 404, NOT_FOUND);
            } else {
              // Scoped to the caller's own division: whatever it answers, nothing of the fixtures' person.
              const res = await send(s.name, requestFor(route, outside), outside, purposeOf(route));
              counts['right role outside the division (own division only)'] = (counts['right role outside the division (own division only)'] ?? 0) + 1;
              const check = OWN_DIVISION_ONLY[`${route.method} ${route.path}`];
              const leaks = check ? !check(JSON.parse(res.text), outside as Extract<Caller, { kind: 'person' }>) : [fixtures.personId, fixtures.citizenId, fixtures.name].some((x) => res.text.includes(x));
              if (res.status >= 400 || leaks) {
                problems.push(`${s.name} ${route.method} ${route.path} [outside, own division only]: ${res.status} ${res.text.slice(0, 300)}`);
              }
            }
            const resource = RESOURCE_LEVEL[key];
            if (resource && PREFIX_LENGTH[allowed] > PREFIX_LENGTH[resource]) {
              await expectRefused(s.name, route, 'right role below the division of what is asked', person(role, INSIDE(allowed)), 404, NOT_FOUND);
            } else {
              await expectAdmitted(s.name, route, 'right role inside the division', person(role, INSIDE(allowed)));
            }
          }
          if (route.personalData !== 'none' && route.personalData?.fourEyes) {
            const own = person(role, INSIDE(ROLE_DIVISION_LEVELS[role][0] as DivisionLevel), SURVEYOR);
            if (!PROPOSED_BY_A_SERVICE.test(route.path)) await expectRefused(s.name, route, 'own submission', own, 403, forbidden('you submitted this item: someone else must review it'));
            if (role === 'county-approver' && route.path.endsWith('/final-approval')) {
              const initialReviewer = person(role, INSIDE('county'), REVIEWER);
              await expectRefused(s.name, route, 'own initial review', initialReviewer, 403, forbidden('you gave this item its initial review: someone else must give the final approval'));
            }
          }
        }

        for (const department of DEPARTMENTS) {
          const system: Caller = { kind: 'system', department };
          if (route.departments.length === 0) {
            await expectRefused(s.name, route, "other department's key", system, 403, forbidden('department systems may not call this endpoint'));
          } else if (!route.departments.includes('*') && !route.departments.includes(department)) {
            await expectRefused(s.name, route, "other department's key", system, 403, forbidden(`department ${department} may not call this endpoint`));
          } else if (route.path.startsWith('/loads/:id') && department !== 'public-security') {
            // A load is its department's: another department's key gets the same 404 as for no such load.
            await expectRefused(s.name, route, "other department's key", system, 404, NOT_FOUND);
          } else if (route.departments.includes(department) || department === 'public-security') {
            await expectAdmitted(s.name, route, 'granted department', system);
          }
        }

        if (route.method === 'GET') {
          // Bad pagination is refused or ignored, never a 500.
          const caller: Caller = route.roles.length ? person(route.roles[0] as Role, INSIDE(ROLE_DIVISION_LEVELS[route.roles[0] as Role][0] as DivisionLevel)) : { kind: 'system', department: 'public-security' };
          const request = requestFor(route, caller);
          const res = await send(s.name, { ...request, query: `${request.query ? `${request.query}&` : ''}offset=99999999999999999999&limit=99999999999999999999` }, caller, purposeOf(route));
          counts['offset beyond bigint'] = (counts['offset beyond bigint'] ?? 0) + 1;
          if (res.status >= 500) problems.push(`${s.name} GET ${route.path} [offset beyond bigint]: ${res.status} ${res.text.slice(0, 200)}`);
        }
      }
    }
    process.stdout.write(`authorization matrix: ${covered} routes; cases ${JSON.stringify(counts)}\n`);
    expect(problems).toEqual([]);
    expect(covered).toBeGreaterThanOrEqual(20);
    for (const what of ['no credentials', 'wrong role', 'right role, wrong division level', 'right role outside the division', "other department's key", 'own submission', 'right role inside the division']) {
      expect(counts[what] ?? 0).toBeGreaterThan(0);
    }
  }, 600_000);

  it('records every refusal in the audit trail of the service that refused it', async () => {
    const missing: string[] = [];
    for (const s of SERVICES) {
      const ids = refused.filter((r) => r.service === s.name);
      const client = new Client({ connectionString: stack.databaseUrls[s.name] });
      await client.connect();
      try {
        const rows = await waitFor(async () => {
          const { rows: found } = await client.query<{ request_id: string; result: string }>(`SELECT request_id, result FROM audit.audit_event WHERE request_id = ANY($1)`, [ids.map((r) => r.requestId)]);
          return found.length >= ids.length ? found : undefined;
        }, { timeoutMs: 10_000, message: `${s.name}: an audit entry for each refusal` }).catch(async () => {
          // Not all there: name exactly those missing.
          return (await client.query<{ request_id: string; result: string }>(`SELECT request_id, result FROM audit.audit_event WHERE request_id = ANY($1)`, [ids.map((r) => r.requestId)])).rows;
        });
        const byId = new Map(rows.map((r) => [r.request_id, r.result]));
        for (const r of ids) if (byId.get(r.requestId) !== 'refused') missing.push(`${r.what}: ${byId.get(r.requestId) ?? 'no entry'}`);
      } finally {
        await client.end();
      }
    }
    expect(missing).toEqual([]);
    expect(refused.length).toBeGreaterThan(100);
  });
});
