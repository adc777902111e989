import { Controller, Get, HttpCode, Param, Post, Query, Req, UnsupportedMediaTypeException } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiConsumes, ApiCreatedResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, NoPersonalData, PersonalData, SystemCallers, actorOf, departmentOf } from '@qmcb/auth';
import { DEPARTMENTS, IsCalendarDateTime } from '@qmcb/contracts';
import { PageLimit, PageOffset, RouteLimits, UuidPipe } from '@qmcb/platform';
import type { Principal } from '@qmcb/auth';
import { FACT_KINDS } from '@qmcb/contracts';
import type { FactKind } from '@qmcb/contracts';
import { IsIn, IsISO8601, IsOptional, Matches } from 'class-validator';
import type { Request } from 'express';
import type { Server } from 'http';
import { SnapshotRunner } from './snapshot-runner';
import type { QuarantinedLine, SnapshotChange, SnapshotReport } from './snapshot.repository';

/** A roster is read as long as it takes: allow an hour, not Node's 5 minutes. */
export const SNAPSHOT_REQUEST_TIMEOUT_MS = 60 * 60 * 1000;

export class StartSnapshotQueryDto {
  @ApiProperty({ enum: FACT_KINDS, description: 'The kind of records the roster lists (one kind per roster)' })
  @IsIn(FACT_KINDS)
  kind: FactKind;

  @ApiProperty({ description: 'The division the roster covers in full (2-12 digits): held records there that it leaves out are flagged', example: '440981' })
  @Matches(/^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/, { message: 'scope must be a division code of 2, 4, 6, 9 or 12 digits' })
  scope: string;

  @ApiProperty({ description: 'When the department took the roster (ISO 8601): every row is its statement as of then', example: '2026-12-01T00:00:00+08:00' })
  @IsISO8601() @IsCalendarDateTime()
  asOf: string;
}

export class PageQueryDto {
  // Up to 1000 a page, like a load's quarantine: a roster's refused lines and changes are read whole.
  @PageLimit(100, 1000)
  limit?: number;

  @PageOffset()
  offset?: number;
}

export class ChangesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['added', 'updated', 'absent'] })
  @IsOptional() @IsIn(['added', 'updated', 'absent'])
  change?: SnapshotChange['change'];
}

const NDJSON = ['application/x-ndjson', 'application/ndjson'];

/** The request body as a byte stream the runner may stop reading without destroying the socket. */
function bodyOf(req: Request): AsyncIterable<Buffer> {
  return { [Symbol.asyncIterator]: () => req.iterator({ destroyOnReturn: false }) };
}

@ApiTags('snapshots')
@Controller('snapshots')
export class SnapshotsController implements OnApplicationBootstrap {
  constructor(
    private readonly runner: SnapshotRunner,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (server && server.requestTimeout > 0 && server.requestTimeout < SNAPSHOT_REQUEST_TIMEOUT_MS) server.requestTimeout = SNAPSHOT_REQUEST_TIMEOUT_MS;
  }

  @Post()
  @HttpCode(201)
  @SystemCallers()
  @PersonalData({ access: 'write', purposes: ['data-submission'] })
  @RouteLimits({ timeoutMs: SNAPSHOT_REQUEST_TIMEOUT_MS, rate: 'bulk' })
  @ApiConsumes('application/x-ndjson')
  @ApiOperation({
    summary: "A department's full roster of one kind for a division (procedure §24), diffed against what the registry holds from it",
    description:
      'The body is NDJSON, one `{"sourceRecordId","citizenId","facts"}` per line. Only real changes become events; held records the roster leaves out are flagged ' +
      '(registry.absent-from-roster), never deleted. Answers with the report when the roster is read; GET /snapshots/:id/changes lists the changes.',
  })
  @ApiCreatedResponse({ description: 'The report' })
  async start(@CurrentPrincipal() principal: Principal, @Query() query: StartSnapshotQueryDto, @Req() req: Request): Promise<SnapshotReport> {
    const department = departmentOf(principal);
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!NDJSON.includes(mediaType)) {
      throw new UnsupportedMediaTypeException({ statusCode: 415, code: 'VALIDATION_FAILED', message: `send the roster as the request body with Content-Type application/x-ndjson (got ${mediaType || 'none'})` });
    }
    const report = await this.runner.run({ department, kind: query.kind, scope: query.scope, asOf: new Date(query.asOf).toISOString(), actor: actorOf(principal) }, bodyOf(req));
    if (!req.readableEnded && !req.destroyed) req.resume();
    return report;
  }

  @Get(':snapshotId')
  @SystemCallers()
  @NoPersonalData()
  @ApiOperation({ summary: 'The report of a snapshot of your department' })
  report(@CurrentPrincipal() principal: Principal, @Param('snapshotId', UuidPipe) snapshotId: string): Promise<SnapshotReport> {
    return this.runner.report(snapshotId, departmentOf(principal));
  }

  @Get(':snapshotId/changes')
  @SystemCallers()
  // What the department's own roster changed: its own data, shown to it in full.
  @PersonalData({ access: 'list', purposes: ['data-submission'], unmasked: [{ departments: DEPARTMENTS, purposes: ['data-submission'] }] })
  @ApiOperation({ summary: 'The changes a snapshot made: added, updated (with the items) and absent, page by page' })
  changes(@CurrentPrincipal() principal: Principal, @Param('snapshotId', UuidPipe) snapshotId: string, @Query() query: ChangesQueryDto): Promise<{ snapshotId: string; total: number; items: SnapshotChange[] }> {
    return this.runner.changes(snapshotId, departmentOf(principal), query.change ?? null, query.limit ?? 100, query.offset ?? 0);
  }

  @Get(':snapshotId/quarantine')
  @SystemCallers()
  // The refused lines as the department sent them: its own data, shown to it in full.
  @PersonalData({ access: 'list', purposes: ['data-submission'], unmasked: [{ departments: DEPARTMENTS, purposes: ['data-submission'] }] })
  @ApiOperation({ summary: 'The roster lines refused, with every reason' })
  quarantine(@CurrentPrincipal() principal: Principal, @Param('snapshotId', UuidPipe) snapshotId: string, @Query() query: PageQueryDto): Promise<{ snapshotId: string; total: number; items: QuarantinedLine[] }> {
    return this.runner.quarantine(snapshotId, departmentOf(principal), query.limit ?? 100, query.offset ?? 0);
  }
}
