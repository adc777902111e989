import { HttpException, Inject, Injectable, Logger } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import { actorOf } from '@qmcb/auth';
import type { Principal, RequestLimiter } from '@qmcb/auth';
import type { Request, Response } from 'express';
import { REDIS } from '../redis/redis.module';
import type { RedisClient } from '../redis/redis.module';
import { RATE_CLASSES } from './route-limits';
import type { RateClass } from './route-limits';
import { RouteTableHolder } from './route-table-holder';

export type RateBudget = RateClass | 'auth-failure';

/** Requests per caller and window, per class; failed authentications per source address. */
export const DEFAULT_RATE_LIMITS: Readonly<Record<RateBudget, number>> = {
  read: 300,
  list: 60,
  export: 6,
  write: 300,
  bulk: 120,
  'auth-failure': 30,
};
export const DEFAULT_RATE_WINDOW_MS = 60_000;

export interface RateLimitOptions {
  /** Prefix of the counters: the service, so each service has its own budgets. */
  service: string;
  limits?: Partial<Record<RateBudget, number>>;
  windowMs?: number;
  /** How long to wait for Redis before counting in this process instead. */
  redisTimeoutMs?: number;
}

/** `read=300,list=60,export=6,write=300,bulk=120,auth-failure=30` (RATE_LIMITS); unnamed classes keep their defaults. */
export function parseRateLimits(text: string | undefined): Partial<Record<RateBudget, number>> {
  if (!text) return {};
  const out: Partial<Record<RateBudget, number>> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name, value] = part.split('=').map((x) => x.trim());
    const budgets: readonly string[] = [...RATE_CLASSES, 'auth-failure'];
    if (!budgets.includes(name) || !/^\d+$/.test(value ?? '') || Number(value) < 1) {
      throw new Error(`RATE_LIMITS: "${part}" is not <class>=<positive integer> with class one of ${budgets.join(', ')}`);
    }
    out[name as RateBudget] = Number(value);
  }
  return out;
}

export const RATE_LIMIT_OPTIONS = Symbol('RATE_LIMIT_OPTIONS');

const COUNT_SCRIPT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;

interface Count {
  n: number;
  resetMs: number;
}

/**
 * Fixed-window rate limits per caller (OWASP API4), counted in Redis so every replica shares them,
 * answered 429 RATE_LIMITED with `RateLimit-*` and `Retry-After` headers. While Redis does not
 * answer, each process counts by itself: the limits stay (per replica) rather than vanish.
 */
@Injectable()
export class RedisRateLimiter implements RequestLimiter {
  private readonly logger = new Logger('RateLimit');
  private readonly limits: Record<RateBudget, number>;
  private readonly windowMs: number;
  private readonly local = new Map<string, { n: number; resetAt: number }>();
  private redisDown = false;

  constructor(
    @Inject(RATE_LIMIT_OPTIONS) private readonly options: RateLimitOptions,
    @Inject(REDIS) private readonly redis: Pick<RedisClient, 'eval'>,
    private readonly routes: RouteTableHolder,
  ) {
    this.limits = { ...DEFAULT_RATE_LIMITS, ...options.limits };
    this.windowMs = options.windowMs ?? DEFAULT_RATE_WINDOW_MS;
  }

  async admit(context: ExecutionContext, principal: Principal): Promise<void> {
    const route = this.routes.table?.forHandler(context.getHandler());
    const budget: RateBudget = route?.rate ?? 'read';
    await this.count(context, budget, actorOf(principal));
  }

  async refuse(context: ExecutionContext): Promise<void> {
    const req = context.switchToHttp().getRequest<Request>();
    await this.count(context, 'auth-failure', `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`);
  }

  private async count(context: ExecutionContext, budget: RateBudget, caller: string): Promise<void> {
    const limit = this.limits[budget];
    const key = `qmcb:rate:${this.options.service}:${budget}:${caller}`;
    const { n, resetMs } = await this.increment(key);
    const res = context.switchToHttp().getResponse<Response>();
    const resetSeconds = Math.max(1, Math.ceil(resetMs / 1000));
    if (!res.headersSent) {
      res.setHeader('RateLimit-Limit', String(limit));
      res.setHeader('RateLimit-Remaining', String(Math.max(0, limit - n)));
      res.setHeader('RateLimit-Reset', String(resetSeconds));
    }
    if (n <= limit) return;
    if (!res.headersSent) res.setHeader('Retry-After', String(resetSeconds));
    const what = budget === 'auth-failure' ? 'failed authentications from this address' : `${budget} requests`;
    throw new HttpException(
      { statusCode: 429, code: 'RATE_LIMITED', message: `rate limit of ${limit} ${what} per ${Math.round(this.windowMs / 1000)} s exceeded; retry in ${resetSeconds} s` },
      429,
    );
  }

  private async increment(key: string): Promise<Count> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = (await Promise.race([
        this.redis.eval(COUNT_SCRIPT, { keys: [key], arguments: [String(this.windowMs)] }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.options.redisTimeoutMs ?? 300} ms`)), this.options.redisTimeoutMs ?? 300);
        }),
      ])) as [number, number];
      if (this.redisDown) this.logger.log({ msg: 'rate limits counted in Redis again' });
      this.redisDown = false;
      return { n: Number(reply[0]), resetMs: Math.max(0, Number(reply[1])) };
    } catch (e) {
      if (!this.redisDown) this.logger.warn({ msg: 'rate limits counted in this process while Redis does not answer', err: e instanceof Error ? e.message : String(e) });
      this.redisDown = true;
      return this.incrementLocally(key);
    } finally {
      clearTimeout(timer);
    }
  }

  private incrementLocally(key: string): Count {
    const now = Date.now();
    if (this.local.size > 10_000) for (const [k, v] of this.local) if (v.resetAt <= now) this.local.delete(k);
    const entry = this.local.get(key);
    if (!entry || entry.resetAt <= now) {
      this.local.set(key, { n: 1, resetAt: now + this.windowMs });
      return { n: 1, resetMs: this.windowMs };
    }
    entry.n += 1;
    return { n: entry.n, resetMs: entry.resetAt - now };
  }
}
