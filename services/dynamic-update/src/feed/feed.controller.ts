import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, SystemCallers } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import type { Request, Response } from 'express';
import type { FeedItem } from './feed-view';
import { SubscriptionsService } from './subscriptions.service';

export class FeedQueryDto {
  @ApiProperty({ description: 'Your subscription' }) @IsUUID()
  subscription: string;

  @ApiPropertyOptional({ description: 'Your cursor: entries after this feed number (0: from the beginning)', default: 0 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  after?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  limit?: number;
}

/** How often an open stream looks for new entries, and sends a comment to keep proxies from closing it. */
const POLL_MS = 500;
const HEARTBEAT_MS = 15_000;

@ApiTags('feed')
@Controller('feed')
export class FeedController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Get()
  @SystemCallers()
  @ApiOperation({ summary: "A page of your subscription's change feed after your cursor; `cursor` in the answer is where to go on from" })
  page(@CurrentPrincipal() principal: Principal, @Query() query: FeedQueryDto): Promise<{ subscriptionId: string; cursor: number; entries: FeedItem[] }> {
    return this.subscriptions.page(principal, query.subscription, query.after ?? 0, query.limit ?? 100);
  }

  @Get('stream')
  @SystemCallers()
  @ApiOperation({
    summary: "Your subscription's change feed as server-sent events (text/event-stream)",
    description: 'Each entry is an event `change` whose id is its feed number: a client that reconnects with Last-Event-ID (or ?after=) resumes after it.',
  })
  async stream(
    @CurrentPrincipal() principal: Principal,
    @Query() query: FeedQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const resumeAt = lastEventId !== undefined && /^\d+$/.test(lastEventId) ? Number(lastEventId) : (query.after ?? 0);
    // The first page answers errors (404, 409) as JSON before the stream starts.
    let page = await this.subscriptions.page(principal, query.subscription, resumeAt, query.limit ?? 100);
    res.status(200).set({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    let open = true;
    req.on('close', () => {
      open = false;
    });
    let lastBeat = Date.now();
    while (open) {
      for (const entry of page.entries) res.write(`id: ${entry.seq}\nevent: change\ndata: ${JSON.stringify(entry)}\n\n`);
      if (page.entries.length === 0) {
        if (Date.now() - lastBeat >= HEARTBEAT_MS) {
          res.write(`: ${new Date().toISOString()}\n\n`);
          lastBeat = Date.now();
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      if (!open) break;
      try {
        page = await this.subscriptions.page(principal, query.subscription, page.cursor, query.limit ?? 100);
      } catch {
        // Disabled or gone meanwhile: the stream ends; the client's reconnect gets the reason.
        break;
      }
    }
    res.end();
  }
}
