import { RequestMethod } from '@nestjs/common';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { INestApplication, Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { DEPARTMENTS_KEY, IS_PUBLIC_KEY, PERSONAL_DATA_KEY, ROLES_KEY, isPurpose } from '@qmcb/auth';
import type { AccessRule, PersonalDataDeclaration, Role } from '@qmcb/auth';
import { DEFAULT_BODY_LIMIT_BYTES, DEFAULT_REQUEST_TIMEOUT_MS, ROUTE_LIMITS_KEY } from './route-limits';
import type { RateClass, RouteLimitsOptions } from './route-limits';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS' | 'ALL';

/** One HTTP route of the application, with everything it declares. */
export interface RouteInfo {
  method: HttpMethod;
  /** The path template as Express matches it: `/persons/:personId`. */
  path: string;
  controller: Type<unknown>;
  handler: (...args: unknown[]) => unknown;
  handlerName: string;
  public: boolean;
  /** Who may call (handler's declarations, else the controller's): @Roles / @Departments / @SystemCallers. */
  access: AccessRule;
  /** @PersonalData / @NoPersonalData; undefined when the route declares neither (refused at start). */
  personalData?: PersonalDataDeclaration;
  timeoutMs: number;
  bodyLimitBytes: number;
  rate: RateClass;
  /** The handler reads a JSON body (`@Body()`): a body of another media type is refused (415). */
  takesJsonBody: boolean;
}

const METHODS: Readonly<Record<number, HttpMethod>> = {
  [RequestMethod.GET]: 'GET',
  [RequestMethod.POST]: 'POST',
  [RequestMethod.PUT]: 'PUT',
  [RequestMethod.PATCH]: 'PATCH',
  [RequestMethod.DELETE]: 'DELETE',
  [RequestMethod.HEAD]: 'HEAD',
  [RequestMethod.OPTIONS]: 'OPTIONS',
  [RequestMethod.ALL]: 'ALL',
};

function join(...parts: string[]): string {
  const path = `/${parts.map((p) => p.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/')}`;
  return path;
}

function asList(value: unknown): string[] {
  if (value === undefined) return ['/'];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

function defaultRate(method: HttpMethod, personalData: PersonalDataDeclaration | undefined): RateClass {
  if (personalData && personalData !== 'none') return personalData.access;
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

/** Problems with a route's declarations that stop the application from starting. */
export function declarationProblems(route: RouteInfo): string[] {
  if (route.public) return [];
  const where = `${route.method} ${route.path} (${route.controller.name}.${route.handlerName})`;
  const problems: string[] = [];
  if (route.personalData === undefined) {
    problems.push(`${where}: declare what it does with personal data, @PersonalData({ access, purposes }) or @NoPersonalData()`);
  } else if (route.personalData !== 'none') {
    const bad = route.personalData.purposes.filter((p) => !isPurpose(p));
    if (bad.length) problems.push(`${where}: unknown purposes ${bad.join(', ')}`);
  }
  if (!route.access.roles && !route.access.departments) {
    problems.push(`${where}: declare who may call it, @Roles(...), @Departments(...), @SystemCallers() or @Public()`);
  }
  return problems;
}

/**
 * Every HTTP route of an application, read from Nest's metadata (the same as its router uses):
 * what the platform applies per route (audit, purpose, masking, body limit, timeout, rate class) and
 * what the authorization matrix test walks, so a new route is covered without anyone listing it.
 */
export class RouteTable {
  private constructor(readonly routes: readonly RouteInfo[]) {}

  private readonly byHandler = new Map<unknown, RouteInfo>();
  private readonly matchers: { route: RouteInfo; pattern: RegExp }[] = [];

  static of(app: INestApplication): RouteTable {
    const discovery = new DiscoveryService(app.get(ModulesContainer));
    const scanner = new MetadataScanner();
    const reflector = new Reflector();
    const routes: RouteInfo[] = [];
    for (const wrapper of discovery.getControllers()) {
      const controller = wrapper.metatype as Type<unknown> | undefined;
      if (!controller || !wrapper.instance) continue;
      const prototype = Object.getPrototypeOf(wrapper.instance) as Record<string, unknown>;
      const base = asList(Reflect.getMetadata(PATH_METADATA, controller));
      for (const name of scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name] as RouteInfo['handler'];
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as number | undefined;
        const paths = Reflect.getMetadata(PATH_METADATA, handler) as unknown;
        if (method === undefined || paths === undefined) continue;
        const targets = [handler, controller];
        const handlerAccess: AccessRule = { roles: reflector.get<Role[] | undefined>(ROLES_KEY, handler), departments: reflector.get<AccessRule['departments']>(DEPARTMENTS_KEY, handler) };
        const access: AccessRule =
          handlerAccess.roles || handlerAccess.departments
            ? handlerAccess
            : { roles: reflector.get<Role[] | undefined>(ROLES_KEY, controller), departments: reflector.get<AccessRule['departments']>(DEPARTMENTS_KEY, controller) };
        const personalData = reflector.getAllAndOverride<PersonalDataDeclaration | undefined>(PERSONAL_DATA_KEY, targets);
        const limits = reflector.getAllAndOverride<RouteLimitsOptions | undefined>(ROUTE_LIMITS_KEY, targets) ?? {};
        const httpMethod = METHODS[method] ?? 'ALL';
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<string, unknown>;
        const takesJsonBody = Object.keys(args).some((k) => k.split(':')[0] === String(RouteParamtypes.BODY));
        for (const b of base) {
          for (const p of asList(paths)) {
            routes.push({
              method: httpMethod,
              path: join(b, p),
              controller,
              handler,
              handlerName: name,
              public: reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets) === true,
              access,
              personalData,
              timeoutMs: limits.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
              bodyLimitBytes: limits.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
              rate: limits.rate ?? defaultRate(httpMethod, personalData),
              takesJsonBody,
            });
          }
        }
      }
    }
    const table = new RouteTable(routes);
    for (const route of routes) {
      table.byHandler.set(route.handler, route);
      table.matchers.push({ route, pattern: new RegExp(`^${route.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z0-9_]+/g, '[^/]+')}/?$`, 'i') });
    }
    // Static segments before parameters, as a person reads them: /flags/summary before /flags/:id.
    table.matchers.sort((a, b) => paramCount(a.route.path) - paramCount(b.route.path));
    return table;
  }

  /** The application refuses to start while any route lacks a declaration. */
  assertDeclared(): this {
    const problems = this.routes.flatMap(declarationProblems);
    if (problems.length) throw new Error(`routes without declarations:\n  ${problems.join('\n  ')}`);
    return this;
  }

  forHandler(handler: unknown): RouteInfo | undefined {
    return this.byHandler.get(handler);
  }

  /** The route a request goes to, by method and URL path (before Nest's router has run). */
  match(method: string, urlPath: string): RouteInfo | undefined {
    const m = method.toUpperCase();
    return this.matchers.find((x) => (x.route.method === m || x.route.method === 'ALL' || (m === 'HEAD' && x.route.method === 'GET')) && x.pattern.test(urlPath))?.route;
  }

  /** The route whose Express template and method these are (`req.route.path`). */
  find(method: string, template: string): RouteInfo | undefined {
    const m = method.toUpperCase();
    return this.routes.find((r) => r.path === template && (r.method === m || r.method === 'ALL'));
  }

  /** The longest any route may take: the server's own request timeout is set to it. */
  get maxTimeoutMs(): number {
    return Math.max(DEFAULT_REQUEST_TIMEOUT_MS, ...this.routes.map((r) => r.timeoutMs));
  }
}

function paramCount(path: string): number {
  return (path.match(/:/g) ?? []).length;
}
