import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Departments, Roles, assertInDivision } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import type { Response } from 'express';
import { NonLocalInsuredQuery } from './exchange.dto';
import { ExchangeService } from './exchange.service';
import type { LineSink } from './exchange.service';

export const NDJSON = 'application/x-ndjson; charset=utf-8';

/** A response as a sink with back-pressure: waits for `drain` when the socket buffer is full. */
export function responseSink(res: Response): LineSink {
  let closed = false;
  res.once('close', () => (closed = true));
  return {
    closed: () => closed || res.destroyed,
    write: (chunk) =>
      new Promise<void>((resolve) => {
        if (res.write(chunk)) return resolve();
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      }),
  };
}

@ApiTags('exchange')
@Controller('exchange')
export class ExchangeController {
  constructor(private readonly exchange: ExchangeService) {}

  @Get('non-local-insured')
  @Roles('county-approver', 'admin')
  @Departments('higher-registry')
  @ApiOperation({
    summary: 'Cross-region exchange (§10), outbound: people insured in the county whose household registration is not there, as NDJSON',
    description:
      'One line per active insurance entry in the region, each exactly a record of `POST /records` (kind `insurance`, mode `snapshot`), ' +
      'so the higher registry loads the file as is. Streamed from a database cursor; ordered by person key. ' +
      'People: a county approver or admin whose division contains the region (else 404); systems: the higher registry.',
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
        await this.exchange.exportNonLocalInsured(principal, query.region, responseSink(res));
      } catch (e) {
        // Once lines went out, the only honest signal left is a broken stream (no final chunk);
        // before that, the error filter answers with the usual error body.
        if (res.headersSent) res.destroy(e instanceof Error ? e : new Error(String(e)));
        throw e;
      }
      res.end();
    } finally {
      release();
    }
  }
}
