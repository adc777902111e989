import { Controller, Get, HttpStatus, Param, Post, Query, Req, Res, UnsupportedMediaTypeException } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConsumes, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, NoPersonalData, PersonalData, SystemCallers, actorOf, departmentOf } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { DEPARTMENTS } from '@qmcb/contracts';
import { DomainError, PageLimit, PageOffset, RouteLimits, UuidPipe } from '@qmcb/platform';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';
import type { Request, Response } from 'express';
import type { LoadReport, QuarantineItem } from './load-store';
import { LoadsService } from './loads.service';
import type { LoadFormat } from './rows';

/** Media types of the request body, and the format each means. */
export const LOAD_MEDIA_TYPES: Readonly<Record<string, LoadFormat>> = {
  'text/csv': 'csv',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
};

/** A synchronous load holds its request open as long as it runs: this route allows an hour (others 30 s). */
export const LOAD_REQUEST_TIMEOUT_MS = 60 * 60 * 1000;

export class StartLoadQueryDto {
  @ApiPropertyOptional({ description: 'Kept with the load for people to recognise it' })
  @IsOptional() @IsString() @Length(1, 255)
  fileName?: string;

  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'true: answer 202 with the load ID at once; the load runs on' })
  @IsOptional() @IsIn(['true', 'false'])
  async?: 'true' | 'false';
}

export class QuarantineQueryDto {
  @PageLimit(100, 1000)
  limit?: number;

  @PageOffset()
  offset?: number;
}

class ViolationDto {
  @ApiProperty({ example: 'facts.villageCode' }) field: string;
  @ApiProperty({ example: 'matches' }) rule: string;
  @ApiProperty() message: string;
}

export class LoadReportDto {
  @ApiProperty() loadId: string;
  @ApiProperty({ enum: ['running', 'completed', 'failed'] }) status: string;
  @ApiProperty() department: string;
  @ApiProperty({ enum: ['csv', 'ndjson'] }) format: string;
  @ApiProperty({ nullable: true, type: String }) fileName: string | null;
  @ApiProperty({ description: 'Data rows read so far; always accepted + duplicates + quarantined' }) rows: number;
  @ApiProperty({ description: 'Rows appended to the log by this load' }) accepted: number;
  @ApiProperty({ description: 'Rows whose event was already appended (by an earlier load or earlier in this file): not appended again' }) duplicates: number;
  @ApiProperty({ description: 'Rows refused and kept in quarantine with their reasons' }) quarantined: number;
  @ApiProperty({ description: 'Quarantined rows by the rule of their first violation', example: { matches: 2, csvSyntax: 1 } })
  quarantinedByReason: Record<string, number>;
  @ApiProperty() startedAt: string;
  @ApiProperty({ nullable: true, type: String }) finishedAt: string | null;
  @ApiProperty() durationMs: number;
  @ApiPropertyOptional({ description: 'Why a failed load stopped' }) error?: string;
}

class QuarantineItemDto {
  @ApiProperty({ description: 'Physical line of the file where the row starts (the header is line 1)' }) line: number;
  @ApiProperty({ description: 'The rule of the first violation' }) reason: string;
  @ApiProperty({ description: 'The row as it was in the file (up to 8 KiB)' }) raw: string;
  @ApiProperty({ type: [ViolationDto] }) violations: ViolationDto[];
}

export class QuarantinePageDto {
  @ApiProperty() loadId: string;
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
  @ApiProperty({ type: [QuarantineItemDto] }) items: QuarantineItem[];
}

function formatOf(contentType: string | undefined): LoadFormat {
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const format = LOAD_MEDIA_TYPES[mediaType];
  if (!format) {
    throw new UnsupportedMediaTypeException({
      statusCode: 415,
      code: 'VALIDATION_FAILED',
      message: `send the file as the request body with Content-Type text/csv or application/x-ndjson (got ${mediaType || 'none'})`,
    });
  }
  return format;
}

/** The request body as a byte stream that the loader may stop reading without destroying the socket. */
function bodyOf(req: Request): AsyncIterable<Buffer> {
  return { [Symbol.asyncIterator]: () => req.iterator({ destroyOnReturn: false }) };
}

/** After a load stopped early: read the rest of the upload away so the answer reaches the client. */
function drain(req: Request): void {
  if (!req.readableEnded && !req.destroyed) req.resume();
}

@ApiTags('ingestion')
@Controller('loads')
export class LoadsController {
  constructor(private readonly loads: LoadsService) {}

  @Post()
  @SystemCallers()
  @PersonalData({ access: 'write', purposes: ['data-submission'] })
  @RouteLimits({ timeoutMs: LOAD_REQUEST_TIMEOUT_MS, rate: 'bulk' })
  @ApiConsumes(...Object.keys(LOAD_MEDIA_TYPES))
  @ApiOperation({
    summary: "A department loads a file of its records (CSV or NDJSON), streamed as the request body",
    description:
      'The body is read as a stream, never held in memory. Each row is validated as in POST /records; bad rows are quarantined with ' +
      'their reasons and never stop the good ones, which are appended to the log in chunks. Rows whose event the log already has ' +
      '(re-sent file, repeated row) count as duplicates and are not appended again. 201 with the report when the load ends; with ' +
      '?async=true, 202 with the load ID at once (poll GET /loads/{id}).',
  })
  @ApiCreatedResponse({ type: LoadReportDto })
  @ApiAcceptedResponse({ type: LoadReportDto })
  async post(
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Query() query: StartLoadQueryDto,
  ): Promise<LoadReport> {
    const department = departmentOf(principal);
    const format = formatOf(req.headers['content-type']);
    const started = await this.loads.start({ department, format, fileName: query.fileName ?? null, actor: actorOf(principal) }, bodyOf(req));
    res.setHeader('Location', `/loads/${started.loadId}`);
    if (query.async === 'true') {
      void started.done.then(() => drain(req));
      res.status(HttpStatus.ACCEPTED);
      return started.initial;
    }
    const outcome = await started.done;
    if (outcome.failure?.kind === 'unavailable') {
      // The log, the database or this process is going away: answer and close rather than read on.
      res.setHeader('Connection', 'close');
      throw new DomainError('UNAVAILABLE', `load ${started.loadId} failed: ${outcome.failure.message}`);
    }
    drain(req);
    if (outcome.failure) throw new DomainError('VALIDATION_FAILED', `load ${started.loadId} failed: ${outcome.failure.message}`);
    res.status(HttpStatus.CREATED);
    return outcome.report;
  }

  @Get(':id')
  @SystemCallers()
  @NoPersonalData()
  @ApiOperation({ summary: 'The report of a load of the caller’s department: progress while it runs, the result when it ended' })
  @ApiOkResponse({ type: LoadReportDto })
  async get(@CurrentPrincipal() principal: Principal, @Param('id', UuidPipe) id: string): Promise<LoadReport> {
    return this.loads.report(id, departmentOf(principal));
  }

  @Get(':id/quarantine')
  @SystemCallers()
  // The refused rows as the department sent them: its own data, shown to it in full.
  @PersonalData({ access: 'list', purposes: ['data-submission'], unmasked: [{ departments: DEPARTMENTS, purposes: ['data-submission'] }] })
  @ApiOperation({ summary: 'The rows a load refused, by line, with the raw text and every violation' })
  @ApiOkResponse({ type: QuarantinePageDto })
  async quarantine(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidPipe) id: string,
    @Query() query: QuarantineQueryDto,
  ): Promise<QuarantinePageDto> {
    const limit = query.limit ?? 100;
    const offset = query.offset ?? 0;
    const page = await this.loads.quarantine(id, departmentOf(principal), limit, offset);
    return { loadId: id, total: page.total, limit, offset, items: page.items };
  }
}
