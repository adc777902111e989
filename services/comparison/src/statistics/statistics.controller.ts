import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, NoPersonalData, PersonalData, Roles } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { RouteLimits, responseSink } from '@qmcb/platform';
import type { Response } from 'express';
import { CONTENT_TYPES } from './report-writers';
import { ChangesQuery, DetailExportQuery, DetailPageQuery, ReportQuery, StatisticsQuery } from './statistics.dto';
import { DETAIL_EXPORT_TIMEOUT_MS, StatisticsService } from './statistics.service';
import type { ChangeFigures, CoverageStatistics, DetailPage } from './statistics.service';

const STAMP = (): string => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10).replace(/-/g, '');

function attachment(res: Response, name: string, format: keyof typeof CONTENT_TYPES): void {
  res.status(200).setHeader('content-type', CONTENT_TYPES[format]);
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-disposition', `attachment; filename="${name}.${format}"`);
}

/**
 * Statistics (procedure §27-§31): coverage by insurance type, registration rate, insured here and
 * elsewhere, reasons, people aged 60 and over without a pension, targets, changes between two times,
 * each figure's detail list, and the reports (docs/api/statistics.md).
 */
@ApiTags('statistics')
@Controller('statistics')
export class StatisticsController {
  constructor(private readonly statistics: StatisticsService) {}

  @Get('coverage')
  @Roles('grassroots-reviewer', 'county-approver', 'analyst', 'operations', 'admin')
  @NoPersonalData()
  @ApiOperation({
    summary: 'The figures of a county, township or village as of a time, and of each area it is broken into',
    description: 'Denominator: the household-registered population. Coverage per insurance type (due, insured here and elsewhere, not insured by reason, not due and exempt by reason), registration rate, 60+ without pension, targets of the region policy and the distance to them.',
  })
  @ApiOkResponse({ description: 'The figures (docs/api/statistics.md)' })
  @ApiNotFoundResponse({ description: "NOT_FOUND: the division is outside the caller's" })
  coverage(@CurrentPrincipal() principal: Principal, @Query() query: StatisticsQuery): Promise<CoverageStatistics> {
    return this.statistics.figures(principal, query.division, query.asOf);
  }

  @Get('changes')
  @Roles('grassroots-reviewer', 'county-approver', 'analyst', 'operations', 'admin')
  @NoPersonalData()
  @ApiOperation({ summary: 'People newly covered and newly uncovered per insurance type between two times' })
  @ApiOkResponse({ description: 'Counts per type, total and by area' })
  @ApiNotFoundResponse({ description: "NOT_FOUND: the division is outside the caller's" })
  changes(@CurrentPrincipal() principal: Principal, @Query() query: ChangesQuery): Promise<ChangeFigures> {
    return this.statistics.changes(principal, query.division, query.from, query.to);
  }

  @Get('details')
  @Roles('grassroots-reviewer', 'county-approver', 'analyst', 'admin')
  @PersonalData({ access: 'list', purposes: ['statistics'] })
  @ApiOperation({
    summary: 'A page of the people behind a figure (masked; audited with everyone listed)',
    description: 'Ordered by person key; `total` is the figure. Each item carries the `personId` of `GET /persons/:personId`; names and citizen IDs are always masked.',
  })
  @ApiOkResponse({ description: 'A page of the detail list' })
  @ApiNotFoundResponse({ description: "NOT_FOUND: the division is outside the caller's" })
  details(@CurrentPrincipal() principal: Principal, @Query() query: DetailPageQuery): Promise<DetailPage> {
    return this.statistics.detailPage(principal, query, query.limit, query.offset);
  }

  @Get('details/export')
  @Roles('grassroots-reviewer', 'county-approver', 'analyst', 'admin')
  @PersonalData({ access: 'export', purposes: ['statistics'] })
  @RouteLimits({ timeoutMs: DETAIL_EXPORT_TIMEOUT_MS })
  @ApiOperation({
    summary: 'The whole detail list behind a figure, streamed as CSV, NDJSON or XLSX (人员明细表, Chinese headers; masked)',
    description: 'Audited batch by batch before each is sent. A reader that stops reading is cut off.',
  })
  @ApiProduces(CONTENT_TYPES.csv, CONTENT_TYPES.ndjson, CONTENT_TYPES.xlsx)
  @ApiNotFoundResponse({ description: "NOT_FOUND: the division is outside the caller's" })
  @ApiServiceUnavailableResponse({ description: 'UNAVAILABLE: too many exports running in this replica' })
  async exportDetails(@CurrentPrincipal() principal: Principal, @Query() query: DetailExportQuery, @Res() res: Response): Promise<void> {
    const prepared = this.statistics.prepareDetails(principal, query);
    const release = this.statistics.acquire();
    try {
      attachment(res, `details-${query.division}-${query.figure.replace(/:/g, '-')}-${STAMP()}`, query.format);
      try {
        await this.statistics.exportDetails(principal, query, prepared, query.format, { sink: responseSink(res, this.statistics.stallMs), stream: res });
      } catch (e) {
        // Once bytes went out, the only honest signal left is a broken stream.
        if (res.headersSent) res.destroy(e instanceof Error ? e : new Error(String(e)));
        throw e;
      }
      if (!res.writableEnded) res.end();
    } finally {
      release();
    }
  }

  @Get('report')
  @Roles('grassroots-reviewer', 'county-approver', 'analyst', 'operations', 'admin')
  @NoPersonalData()
  @ApiOperation({ summary: 'The summary report (全民参保登记统计表) of a division by area with a total row, as XLSX or CSV (Chinese headers)' })
  @ApiProduces(CONTENT_TYPES.csv, CONTENT_TYPES.xlsx)
  @ApiNotFoundResponse({ description: "NOT_FOUND: the division is outside the caller's" })
  async report(@CurrentPrincipal() principal: Principal, @Query() query: ReportQuery, @Res() res: Response): Promise<void> {
    // Computed before anything is sent, so an error still gets the usual error body.
    const figures = await this.statistics.figures(principal, query.division, query.asOf);
    attachment(res, `statistics-${query.division}-${STAMP()}`, query.format);
    await this.statistics.writeReport(figures, query.format, res);
    if (!res.writableEnded) res.end();
  }
}
