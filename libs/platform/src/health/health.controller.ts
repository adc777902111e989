import { Controller, Get, Inject, Optional, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '@qmcb/auth';
import { HEALTH_CHECKS } from './health-check';
import type { HealthCheck } from './health-check';

export const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');

export interface HealthOptions {
  /** A check that has not answered within this is down. Default 2000 ms. */
  timeoutMs?: number;
}

export interface HealthReport {
  status: 'ok' | 'down';
  checks: Record<string, 'up' | 'down'>;
  /** Why each failing check is down, in a few words. */
  reasons?: Record<string, string>;
}

const MAX_REASON = 160;

function reasonOf(e: unknown): string {
  const text = e instanceof Error ? e.message || e.name : String(e);
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
}

@ApiTags('operations')
@Controller('health')
export class HealthController {
  private readonly timeoutMs: number;

  constructor(
    @Inject(HEALTH_CHECKS) private readonly checks: HealthCheck[],
    @Optional() @Inject(HEALTH_OPTIONS) options?: HealthOptions,
  ) {
    const names = checks.map((c) => c.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new Error(`two health checks are named ${dup}`);
    this.timeoutMs = options?.timeoutMs ?? 2000;
  }

  /** Readiness: every dependency answers. */
  @Public()
  @Get()
  @ApiOkResponse({ description: "{ status: 'ok', checks: { postgres: 'up', redis: 'up', kafka: 'up' } }" })
  @ApiServiceUnavailableResponse({ description: "{ status: 'down', checks: { redis: 'down', … }, reasons: { redis: '…' } }" })
  async health(@Res({ passthrough: true }) res: Response): Promise<HealthReport> {
    const results = await Promise.all(this.checks.map((c) => this.run(c)));
    const report: HealthReport = { status: 'ok', checks: {} };
    for (const [name, reason] of results) {
      report.checks[name] = reason === undefined ? 'up' : 'down';
      if (reason !== undefined) {
        report.status = 'down';
        report.reasons = { ...report.reasons, [name]: reason };
      }
    }
    res.status(report.status === 'ok' ? 200 : 503);
    return report;
  }

  /** Liveness: the process answers. It never looks at dependencies, so an outage does not restart it. */
  @Public()
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  private async run(check: HealthCheck): Promise<[string, string | undefined]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await Promise.race([check.check(), timeout]);
      return [check.name, undefined];
    } catch (e) {
      return [check.name, reasonOf(e)];
    } finally {
      clearTimeout(timer);
    }
  }
}
