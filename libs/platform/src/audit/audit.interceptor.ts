import { HttpException, Injectable } from '@nestjs/common';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { PURPOSE_HEADER, PURPOSE_REF_HEADER, PURPOSE_REF_PATTERN, isPurpose } from '@qmcb/auth';
import type { PersonalDataPolicy, Principal, Purpose, RequestWithPrincipal } from '@qmcb/auth';
import type { NextFunction, Request, Response } from 'express';
import { Observable, map, mergeMap } from 'rxjs';
import { DomainError } from '../errors/domain.error';
import { requestContextOf, runInRequest } from '../http/request-context';
import type { RequestContext } from '../http/request-context';
import { RouteTableHolder } from '../http/route-table-holder';
import { maskPersonalData } from '../logging/mask';
import { PersonIds } from '../person-ids/person-ids';
import { AuditRecorder, resultOfStatus } from './audit-recorder';

const PERSON_KEY = /^(\d{17}[\dX]|X-[0-9a-f]{32})$/;
const MAX_WALK_DEPTH = 12;

/** Person keys named in an answer: values of `personKey`, and `personId`s this deployment made. */
export function peopleIn(body: unknown, ids: PersonIds, out = new Set<string>(), depth = 0): Set<string> {
  if (depth > MAX_WALK_DEPTH || body === null || typeof body !== 'object') return out;
  if (Array.isArray(body)) {
    for (const item of body) peopleIn(item, ids, out, depth + 1);
    return out;
  }
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (k === 'personKey' && typeof v === 'string' && PERSON_KEY.test(v)) out.add(v);
    else if (k === 'personId' && typeof v === 'string') {
      const key = ids.keyOf(v);
      if (key) out.add(key);
    } else if (typeof v === 'object') peopleIn(v, ids, out, depth + 1);
  }
  return out;
}

/** Keys whose values are person keys (the citizen ID itself) wherever they stand in an answer. */
const PERSON_KEY_FIELDS: ReadonlySet<string> = new Set(['personKey', 'recordKey']);
const MAX_STRIP_DEPTH = 32;

/**
 * The one rule of every answer (docs/security.md, "Masking and person IDs"): answers carry
 * `personId`, never the person key. Every `personKey` (and a link's `recordKey`) holding a person key
 * is taken out of the answer; its object gets the `personId` of that key if it has none and, when the
 * key is a citizen ID and the object shows none (`citizenId`, `citizenIdMasked`), the `citizenId`,
 * which the masking then shows full or masked as the route's `unmasked` declaration gives it to the
 * caller's role and purpose (a list masks it for everyone else). Returns a copy; `body` is left as it
 * was (the audit reads the people from it).
 */
export function withoutPersonKeys(body: unknown, ids: PersonIds, depth = 0): unknown {
  if (depth > MAX_STRIP_DEPTH || body === null || typeof body !== 'object') return body;
  if (Array.isArray(body)) return body.map((item) => withoutPersonKeys(item, ids, depth + 1));
  // A Date, a Buffer and the like answer their own JSON; anything else is serialised as its own fields.
  if (typeof (body as { toJSON?: unknown }).toJSON === 'function' || body instanceof Map || body instanceof Set) return body;
  const out: Record<string, unknown> = {};
  const entries = Object.entries(body as Record<string, unknown>);
  const has = (name: string): boolean => entries.some(([k]) => k === name) || name in out;
  for (const [k, v] of entries) {
    if (PERSON_KEY_FIELDS.has(k) && typeof v === 'string' && PERSON_KEY.test(v)) {
      if (!has('personId')) out['personId'] = ids.idOf(v);
      if (k === 'personKey' && !v.startsWith('X-') && !has('citizenId') && !has('citizenIdMasked')) out['citizenId'] = v;
      continue;
    }
    out[k] = withoutPersonKeys(v, ids, depth + 1);
  }
  return out;
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function purposeError(message: string, rule: string): DomainError {
  return new DomainError('VALIDATION_FAILED', message, { violations: [{ field: 'X-Purpose', rule, message }] });
}

/**
 * The purpose of a request: stated, and one its route serves. A route that serves one purpose states
 * it itself (a self-service page, a window's gaps); on a route that serves several, a person reading
 * must say which. Writes and department systems default to the route's first.
 */
export function purposeOf(req: Request, policy: PersonalDataPolicy, principal: Principal): Purpose {
  const stated = header(req, PURPOSE_HEADER)?.trim();
  if (!stated) {
    if (principal.kind === 'person' && policy.access !== 'write' && policy.purposes.length > 1) {
      throw purposeError(`X-Purpose is required: state why you read this personal data, one of ${policy.purposes.join(', ')}`, 'required');
    }
    return policy.purposes[0];
  }
  if (!isPurpose(stated) || !policy.purposes.includes(stated)) {
    throw purposeError(`X-Purpose must be one of ${policy.purposes.join(', ')} on this route`, 'isIn');
  }
  return stated;
}

/** Whether a caller stating `purpose` sees full values: reads unless the route restricts them, lists and exports only when listed. */
export function unmaskedFor(policy: PersonalDataPolicy, principal: Principal, purpose: Purpose): boolean {
  if (!policy.unmasked) return policy.access === 'read' || policy.access === 'write';
  return policy.unmasked.some(
    (d) => d.purposes.includes(purpose) && (principal.kind === 'person' ? (d.roles ?? []).includes(principal.role) : (d.departments ?? []).includes(principal.department)),
  );
}

/**
 * Global, after the guards: fills the request's audit context (route, caller, purpose), runs the
 * handler inside it, and for reads writes the audit entry before the answer leaves, masking lists
 * for callers who may not see full values. A read that cannot be audited is answered 503.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly recorder: AuditRecorder,
    private readonly routes: RouteTableHolder,
    private readonly ids: PersonIds,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<Request & RequestWithPrincipal>();
    const audit = requestContextOf(req);
    if (!audit) return next.handle();
    const route = this.routes.table?.forHandler(context.getHandler());
    audit.route = route;
    audit.principal = req.principal;
    const policy = route?.personalData;
    if (route?.public || !policy || policy === 'none' || !req.principal) return this.inContext(audit, next);
    audit.purpose = purposeOf(req, policy, req.principal);
    const ref = header(req, PURPOSE_REF_HEADER)?.trim();
    if (ref !== undefined && ref !== '') {
      if (!PURPOSE_REF_PATTERN.test(ref)) throw new DomainError('VALIDATION_FAILED', 'X-Purpose-Ref must be 1-64 visible characters', { violations: [{ field: 'X-Purpose-Ref', rule: 'matches', message: 'X-Purpose-Ref must be 1-64 visible characters' }] });
      audit.purposeRef = ref;
    }
    audit.unmasked = unmaskedFor(policy, req.principal, audit.purpose);
    if (policy.access === 'export') return this.inContext(audit, next);
    if (policy.access === 'write') return this.inContext(audit, next).pipe(map((body: unknown) => withoutPersonKeys(body, this.ids)));
    return this.inContext(audit, next).pipe(
      mergeMap(async (body: unknown) => {
        const answer = withoutPersonKeys(body, this.ids);
        const shown = audit.unmasked ? answer : maskPersonalData(answer);
        peopleIn(body, this.ids, audit.people);
        try {
          await this.recorder.write(this.recorder.entryOf(audit, 'ok', context.switchToHttp().getResponse<Response>().statusCode));
        } catch {
          throw new HttpException({ statusCode: 503, code: 'UNAVAILABLE', message: 'the read could not be audited; nothing was disclosed; retry later' }, 503);
        }
        audit.audited = true;
        return shown;
      }),
    );
  }

  private inContext(audit: RequestContext, next: CallHandler): Observable<unknown> {
    return new Observable((subscriber) => runInRequest(audit, () => next.handle().subscribe(subscriber)));
  }
}

/** The person a `:personId` path parameter names, if this deployment made the ID (anything else names nobody). */
function personOfPath(req: Request, ids: PersonIds): string | undefined {
  const personId = (req.params as Record<string, unknown> | undefined)?.['personId'];
  return typeof personId === 'string' ? ids.keyOf(personId) : undefined;
}

/**
 * After the answer has left: the audit entry of every request that was refused or failed on a
 * declared route, of every write and of every export's end (with how many people it sent and whether
 * the reader stayed to the end). Reads were audited before they were answered.
 */
export function auditFinishMiddleware(recorder: AuditRecorder, routes: RouteTableHolder, ids?: PersonIds): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      const audit = requestContextOf(req);
      const template = (req.route as { path?: unknown } | undefined)?.path;
      if (!audit || audit.audited || typeof template !== 'string') return;
      const route = audit.route ?? routes.table?.find(req.method, template);
      if (!route || route.public) return;
      audit.route = route;
      audit.principal ??= (req as RequestWithPrincipal).principal;
      const status = res.statusCode;
      const policy = route.personalData;
      const aborted = !res.writableFinished;
      if (status < 400 && (!policy || policy === 'none' || policy.access === 'read' || policy.access === 'list')) return;
      audit.audited = true;
      // Refused before the handler named anyone (a missing purpose, a wrong role): the person of the
      // path names them, so that an auditor searching by that person sees the attempt.
      if (audit.people.size === 0 && ids) {
        const key = personOfPath(req, ids);
        if (key) audit.people.add(key);
      }
      if (policy && policy !== 'none' && policy.access === 'export' && status < 400) {
        recorder.writeLater(recorder.entryOf(audit, aborted ? 'aborted' : 'ok', status, { people: [], count: audit.disclosed ?? 0 }));
        return;
      }
      recorder.writeLater(recorder.entryOf(audit, status < 400 && aborted ? 'aborted' : resultOfStatus(status), status));
    };
    res.once('finish', finish);
    res.once('close', finish);
    next();
  };
}
