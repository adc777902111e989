import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Departments, PersonalData, Roles, assertInDivision } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { RouteLimits, responseSink } from '@qmcb/platform';
import type { Response } from 'express';
import { NonLocalInsuredQuery } from './exchange.dto';
import { EXPORT_TIMEOUT_MS, ExchangeService } from './exchange.service';

export const NDJSON = 'application/x-ndjson; charset=utf-8';

export { responseSink } from '@qmcb/platform';

@ApiTags('exchange')
@Controller('exchange')
export class ExchangeController {
  constructor(private readonly exchange: ExchangeService) {}

  @Get('non-local-insured')
  @Roles('county-approver', 'admin')
  @Departments('higher-registry')
  @PersonalData({
    access: 'export',
    purposes: ['cross-region-exchange'],
    unmasked: [{ roles: ['county-approver'], departments: ['higher-registry'], purposes: ['cross-region-exchange'] }],
  })
  @RouteLimits({ timeoutMs: EXPORT_TIMEOUT_MS })
  @ApiOperation({
    summary: 'Cross-region exchange (§10), outbound: people insured in the county whose household registration is not there, as NDJSON',
    description:
      'One line per active insurance entry in the region, each exactly a record of `POST /records` (kind `insurance`, mode `snapshot`), ' +
      'so the higher registry loads the file as is. Streamed from a database cursor; ordered by person key. ' +
      'People: a county approver or admin whose division contains the region (else 404), and only the people filed in their division; ' +
      'systems: the higher registry, everyone. Audited batch by batch; masked for an admin. A reader that stops reading is cut off.',
  })
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({ description: 'NDJSON, one insurance record per line' })
  @ApiNotFoundResponse({ description: "NOT_FOUND: the region is outside the caller's division" })
  @ApiServiceUnavailableResponse({ description: 'UNAVAILABLE: too many exports running in this replica' })
  async nonLocalInsured(@CurrentPrincipal() principal: Principal, @Query() query: NonLocalInsuredQuery, @Res() res: Response): Promise<void> {
    assertInDivision(principal, query.region);
    const release = this.exchange.acquire();
    try {
      res.status(200).setHeader('content-type', NDJSON);
      res.setHeader('cache-control', 'no-store');
      try {
        await this.exchange.exportNonLocalInsured(principal, query.region, responseSink(res, this.exchange.stallMs));
      } catch (e) {
        // Once lines went out, the only honest signal left is a broken stream (no final chunk);
        // before that, the error filter answers with the usual error body.
        if (res.headersSent) res.destroy(e instanceof Error ? e : new Error(String(e)));
        throw e;
      }
      if (!res.destroyed) res.end();
    } finally {
      release();
    }
  }
}
