import { SetMetadata, applyDecorators, createParamDecorator } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Department } from '@qmcb/contracts';
import { unauthenticated } from './http-errors';
import { OPENAPI_API_KEY, OPENAPI_BEARER } from './openapi';
import type { Principal, RequestWithPrincipal } from './principal';
import type { Role } from './role';

export const IS_PUBLIC_KEY = 'qmcb:auth:public';
export const ROLES_KEY = 'qmcb:auth:roles';
export const DEPARTMENTS_KEY = 'qmcb:auth:departments';
/** Stored under DEPARTMENTS_KEY by @SystemCallers(): any department. */
export const ANY_DEPARTMENT = '*';

const errorResponses = [
  ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: missing, invalid or expired credentials' }),
  ApiForbiddenResponse({ description: 'FORBIDDEN: wrong role or caller kind' }),
];

/** No credentials needed (health, metrics, docs). */
export const Public = (): ReturnType<typeof SetMetadata> => SetMetadata(IS_PUBLIC_KEY, true);

/** People with one of these roles may call. */
export const Roles = (...roles: Role[]): ReturnType<typeof applyDecorators> =>
  applyDecorators(SetMetadata(ROLES_KEY, roles), ApiBearerAuth(OPENAPI_BEARER), ...errorResponses);

/** Department systems of these departments (by API key) may call. */
export const Departments = (...departments: Department[]): ReturnType<typeof applyDecorators> =>
  applyDecorators(SetMetadata(DEPARTMENTS_KEY, departments), ApiSecurity(OPENAPI_API_KEY), ...errorResponses);

/** Department systems of any department may call. */
export const SystemCallers = (): ReturnType<typeof applyDecorators> =>
  applyDecorators(SetMetadata(DEPARTMENTS_KEY, [ANY_DEPARTMENT]), ApiSecurity(OPENAPI_API_KEY), ...errorResponses);

/** The authenticated caller. Refused (401) on a route where no one was authenticated. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<RequestWithPrincipal>().principal;
  if (!principal) throw unauthenticated('this endpoint needs credentials');
  return principal;
});
