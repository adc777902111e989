import { Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Department } from '@qmcb/contracts';
import { ANY_DEPARTMENT, DEPARTMENTS_KEY, IS_PUBLIC_KEY, ROLES_KEY } from './decorators';
import { forbidden, unauthenticated } from './http-errors';
import type { Principal, RequestWithPrincipal } from './principal';
import { divisionLevelProblem } from './role';
import type { Role } from './role';

export interface AccessRule {
  /** Roles of people who may call; undefined: no person may. */
  roles?: Role[];
  /** Departments of systems that may call (`*` any); undefined: no system may. */
  departments?: (Department | typeof ANY_DEPARTMENT)[];
}

/**
 * Decides who may call from @Roles / @Departments / @SystemCallers. Access is declared, never
 * implied: a route with none of them is refused to every caller. A person must also hold a division
 * at a level their role works at (ROLE_DIVISION_LEVELS).
 */
export function checkAccess(principal: Principal, rule: AccessRule): void {
  if (principal.kind === 'person') {
    if (!rule.roles) {
      throw forbidden(rule.departments ? 'only department systems may call this endpoint' : 'no caller is granted access to this endpoint');
    }
    if (!rule.roles.includes(principal.role)) throw forbidden(`role ${principal.role} may not call this endpoint`);
    // A token whose division is at the wrong level for its role (a surveyor of a whole province) is refused everywhere.
    const problem = divisionLevelProblem(principal.role, principal.division);
    if (problem) throw forbidden(problem);
    return;
  }
  if (!rule.departments) {
    throw forbidden(rule.roles ? 'department systems may not call this endpoint' : 'no caller is granted access to this endpoint');
  }
  if (!rule.departments.includes(ANY_DEPARTMENT) && !rule.departments.includes(principal.department)) {
    throw forbidden(`department ${principal.department} may not call this endpoint`);
  }
}

/** Global, after AuthGuard. The handler's declarations replace the controller's when it has any. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) return true;
    const principal = context.switchToHttp().getRequest<RequestWithPrincipal>().principal;
    if (!principal) throw unauthenticated('missing credentials');
    checkAccess(principal, this.ruleOf(context));
    return true;
  }

  private ruleOf(context: ExecutionContext): AccessRule {
    const read = (target: ReturnType<ExecutionContext['getHandler']>): AccessRule => ({
      roles: this.reflector.get<Role[] | undefined>(ROLES_KEY, target),
      departments: this.reflector.get<AccessRule['departments']>(DEPARTMENTS_KEY, target),
    });
    const handler = read(context.getHandler());
    return handler.roles || handler.departments ? handler : read(context.getClass());
  }
}
