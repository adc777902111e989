import { Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Authenticator } from './authenticator';
import type { HeaderValue } from './authenticator';
import { IS_PUBLIC_KEY } from './decorators';
import type { RequestWithPrincipal } from './principal';

/** Global: every HTTP route needs a bearer token or an API key unless it is @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<RequestWithPrincipal & { headers: Record<string, HeaderValue> }>();
    request.principal = await this.authenticator.authenticate(request.headers);
    return true;
  }
}
