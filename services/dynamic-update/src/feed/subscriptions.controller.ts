import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, NoPersonalData, PersonalData, Roles, SystemCallers } from '@qmcb/auth';
import { IntPipe, PageLimit, PageOffset, UuidPipe } from '@qmcb/platform';
import type { PersonPrincipal, Principal } from '@qmcb/auth';
import { DEPARTMENTS } from '@qmcb/contracts';
import type { Department } from '@qmcb/contracts';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, IsUrl, Length, Matches } from 'class-validator';
import { SubscriptionsService } from './subscriptions.service';
import type { DeadLetter, Delivery, Subscription } from './subscription.repository';
import type { CallResult } from './webhook-deliverer';

export class CreateSubscriptionDto {
  @ApiProperty({ example: '高州市医保局 参保变动' }) @IsString() @Length(1, 128)
  name: string;

  @ApiProperty({ enum: DEPARTMENTS, description: "The subscriber's department (its API key's)" }) @IsIn(DEPARTMENTS)
  department: Department;

  @ApiProperty({ description: "The subscriber's API key ID", example: 'si-feed-1' }) @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'keyId must match [A-Za-z0-9_-]{1,64}' })
  keyId: string;

  @ApiProperty({ description: 'What it may see: people filed within this division (within yours)', example: '440981' })
  @Matches(/^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/, { message: 'division must be a division code of 2, 4, 6, 9 or 12 digits' })
  division: string;

  @ApiPropertyOptional({ description: 'Event types or prefix.*; every kind when empty', example: ['insurance.*', 'household.moved-out'] })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true })
  kinds?: string[];

  @ApiPropertyOptional({ description: 'Where the feed is POSTed, signed (HMAC-SHA256); pull and server-sent events work without' })
  @IsOptional() @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  webhookUrl?: string;

  @ApiPropertyOptional({ enum: ['beginning', 'now'], default: 'now', description: 'Where webhook delivery starts' })
  @IsOptional() @IsIn(['beginning', 'now'])
  from?: 'beginning' | 'now';
}

export class PageQueryDto {
  @PageLimit(100, 500)
  limit?: number;

  @PageOffset()
  offset?: number;
}

@ApiTags('feed')
@Controller('subscriptions')
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post()
  @HttpCode(201)
  @Roles('admin')
  @NoPersonalData()
  @ApiOperation({ summary: "Register a department system's subscription to the change feed, bound to a division and event kinds; the webhook secret is shown once" })
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateSubscriptionDto): Promise<Subscription & { secret: string | null }> {
    return this.subscriptions.create(principal as PersonPrincipal, { ...body, kinds: body.kinds ?? [], from: body.from ?? 'now' });
  }

  @Get()
  @Roles('admin')
  @NoPersonalData()
  @ApiOperation({ summary: 'Subscriptions within your division' })
  list(@CurrentPrincipal() principal: Principal): Promise<Subscription[]> {
    return this.subscriptions.list(principal as PersonPrincipal);
  }

  @Get(':id')
  @Roles('admin')
  @SystemCallers()
  @NoPersonalData()
  @ApiOperation({ summary: 'A subscription and its webhook delivery (cursor, attempts, last error), for an administrator or its own key' })
  get(@CurrentPrincipal() principal: Principal, @Param('id', UuidPipe) id: string): Promise<Subscription & { delivery: Delivery | null }> {
    return this.subscriptions.status(principal, id);
  }

  @Delete(':id')
  @Roles('admin')
  @NoPersonalData()
  @ApiOperation({ summary: 'Disable a subscription: no more deliveries or reads' })
  disable(@CurrentPrincipal() principal: Principal, @Param('id', UuidPipe) id: string): Promise<Subscription> {
    return this.subscriptions.disable(principal as PersonPrincipal, id);
  }

  @Get(':id/dead-letters')
  @Roles('admin')
  @SystemCallers()
  @PersonalData({ access: 'list', purposes: ['data-sharing', 'operations-support'], unmasked: [{ departments: DEPARTMENTS, purposes: ['data-sharing'] }] })
  @ApiOperation({ summary: 'Webhook batches that failed every attempt, with the reason (the entries in full for the subscriber, masked for an administrator)' })
  deadLetters(@CurrentPrincipal() principal: Principal, @Param('id', UuidPipe) id: string, @Query() query: PageQueryDto): Promise<{ subscriptionId: string; total: number; items: DeadLetter[] }> {
    return this.subscriptions.deadLetters(principal, id, query.limit ?? 100, query.offset ?? 0);
  }

  @Post(':id/dead-letters/:deadLetterId/redelivery')
  @HttpCode(200)
  @Roles('admin')
  @SystemCallers()
  @NoPersonalData()
  @ApiOperation({ summary: 'Send a dead letter again now; marked redelivered when the subscriber takes it (the call is audited as a disclosure)' })
  redeliver(@CurrentPrincipal() principal: Principal, @Param('id', UuidPipe) id: string, @Param('deadLetterId', IntPipe) deadLetterId: number): Promise<{ deadLetterId: number; result: CallResult }> {
    return this.subscriptions.redeliver(principal, id, deadLetterId);
  }
}
