import { Inject, Injectable, Optional } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { REQUEST_LIMITER } from './auth.options';
import { Authenticator } from './authenticator';
import type { HeaderValue } from './authenticator';
import { IS_PUBLIC_KEY } from './decorators';
import type { RequestWithPrincipal } from './principal';
import type { RequestLimiter } from './request-limiter';

/**
 * Global: every HTTP route needs a bearer token or an API key unless it is @Public(). Failed
 * attempts count against the source address, requests against their caller (the RequestLimiter).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
    @Optional() @Inject(REQUEST_LIMITER) private readonly limiter?: RequestLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<RequestWithPrincipal & { headers: Record<string, HeaderValue> }>();
    try {
      request.principal = await this.authenticator.authenticate(request.headers);
    } catch (e) {
      await this.limiter?.refuse(context);
      throw e;
    }
    await this.limiter?.admit(context, request.principal);
    return true;
  }
}
