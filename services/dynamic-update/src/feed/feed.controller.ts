import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonalData, SystemCallers } from '@qmcb/auth';
import type { PersonalDataPolicy, Principal } from '@qmcb/auth';
import { DEPARTMENTS } from '@qmcb/contracts';
import { DomainError, PageLimit, RouteLimits, exportStallMs, responseSink } from '@qmcb/platform';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import type { Response } from 'express';
import type { FeedItem } from './feed-view';
import { SubscriptionsService } from './subscriptions.service';

export class FeedQueryDto {
  @ApiProperty({ description: 'Your subscription' }) @IsUUID()
  subscription: string;

  @ApiPropertyOptional({ description: 'Your cursor: entries after this feed number (0: from the beginning)', default: 0 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  after?: number;

  @PageLimit(100, 500)
  limit?: number;
}

/**
 * The feed is personal data shared with the department system a subscription is bound to (PIPL art.
 * 6, purpose `data-sharing`): each page is audited with the people in it, a stream page by page
 * before it is sent. The subscriber sees full values; it is the only caller who may read its feed.
 */
const FEED_PAGE: PersonalDataPolicy = { access: 'list', purposes: ['data-sharing'], unmasked: [{ departments: DEPARTMENTS, purposes: ['data-sharing'] }] };
const FEED_STREAM: PersonalDataPolicy = { access: 'export', purposes: ['data-sharing'], unmasked: [{ departments: DEPARTMENTS, purposes: ['data-sharing'] }] };
/** A stream ends by itself after this long (the client reconnects with Last-Event-ID); the route's deadline is a little later. */
export const STREAM_MAX_MS = 55 * 60_000;
const STREAM_TIMEOUT_MS = STREAM_MAX_MS + 5 * 60_000;
/** Streams open at once in one replica: each polls the database twice a second. */
export const MAX_STREAMS = 32;

/** How often an open stream looks for new entries, and sends a comment to keep proxies from closing it. */
const POLL_MS = 500;
const HEARTBEAT_MS = 15_000;

@ApiTags('feed')
@Controller('feed')
export class FeedController {
  private streams = 0;
  private readonly stallMs = exportStallMs();

  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Get()
  @SystemCallers()
  @PersonalData(FEED_PAGE)
  @ApiOperation({ summary: "A page of your subscription's change feed after your cursor; `cursor` in the answer is where to go on from" })
  page(@CurrentPrincipal() principal: Principal, @Query() query: FeedQueryDto): Promise<{ subscriptionId: string; cursor: number; entries: FeedItem[] }> {
    return this.subscriptions.page(principal, query.subscription, query.after ?? 0, query.limit ?? 100);
  }

  @Get('stream')
  @SystemCallers()
  @PersonalData(FEED_STREAM)
  @RouteLimits({ timeoutMs: STREAM_TIMEOUT_MS })
  @ApiOperation({
    summary: "Your subscription's change feed as server-sent events (text/event-stream)",
    description:
      'Each entry is an event `change` whose id is its feed number: a client that reconnects with Last-Event-ID (or ?after=) resumes after it. ' +
      `A stream ends after ${STREAM_MAX_MS / 60_000} minutes (reconnect); a client that stops reading is cut off; at most ${MAX_STREAMS} streams per replica (503 beyond).`,
  })
  async stream(
    @CurrentPrincipal() principal: Principal,
    @Query() query: FeedQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    const resumeAt = lastEventId !== undefined && /^\d{1,15}$/.test(lastEventId) ? Number(lastEventId) : (query.after ?? 0);
    if (this.streams >= MAX_STREAMS) throw new DomainError('UNAVAILABLE', 'too many feed streams are open in this replica; retry later');
    this.streams += 1;
    try {
      // The first page answers errors (404, 409) as JSON before the stream starts.
      let page = await this.subscriptions.page(principal, query.subscription, resumeAt, query.limit ?? 100);
      res.status(200).set({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.flushHeaders();
      const sink = responseSink(res, this.stallMs);
      const endAt = Date.now() + STREAM_MAX_MS;
      let lastBeat = Date.now();
      while (!sink.closed() && Date.now() < endAt) {
        if (page.entries.length > 0) {
          // Audited before it is sent; a page that cannot be audited ends the stream unsent.
          await this.subscriptions.disclose(page.entries);
          for (const entry of page.entries) await sink.write(`id: ${entry.seq}\nevent: change\ndata: ${JSON.stringify(entry)}\n\n`);
        } else {
          if (Date.now() - lastBeat >= HEARTBEAT_MS) {
            await sink.write(`: ${new Date().toISOString()}\n\n`);
            lastBeat = Date.now();
          }
          await new Promise((r) => setTimeout(r, POLL_MS));
        }
        if (sink.closed()) break;
        try {
          page = await this.subscriptions.page(principal, query.subscription, page.cursor, query.limit ?? 100);
        } catch (e) {
          // Disabled or gone meanwhile: the stream ends; the client's reconnect gets the reason.
          if (e instanceof DomainError) break;
          throw e;
        }
      }
    } catch (e) {
      // Once the stream started, the only honest signal left is a broken stream; before, the error body.
      if (!res.headersSent) throw e;
      res.destroy();
      return;
    } finally {
      this.streams -= 1;
    }
    if (!res.destroyed) res.end();
  }
}
