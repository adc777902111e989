import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Departments, Roles } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, Max, Min } from 'class-validator';
import { RegistryService } from './registry.service';
import type { RegistryView } from './registry.service';
import type { HistoryRow } from './record-history.repository';

const READERS = ['window-clerk', 'grassroots-reviewer', 'county-approver', 'analyst', 'admin'] as const;

export class AsOfQueryDto {
  @ApiPropertyOptional({ description: 'The moment to read the record as the registry held it (ISO 8601); now when absent', example: '2026-06-30T16:00:00Z' })
  @IsOptional() @IsISO8601({ strict: true })
  asOf?: string;
}

export class HistoryQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  offset?: number;
}

@ApiTags('registry')
@Controller()
export class RegistryController {
  constructor(private readonly registry: RegistryService) {}

  @Get('persons/:personKey')
  @Roles(...READERS)
  @ApiOperation({ summary: "The registry's record of one person (登记库), with its change history" })
  get(@CurrentPrincipal() principal: Principal, @Param('personKey') personKey: string): Promise<object> {
    return this.registry.person(principal, personKey);
  }

  @Get('registry/:personKey')
  @Roles(...READERS)
  @Departments('higher-registry')
  @ApiOperation({ summary: 'Every registry item of a person with the source and time of its value; with asOf, as the registry held it then' })
  view(@CurrentPrincipal() principal: Principal, @Param('personKey') personKey: string, @Query() query: AsOfQueryDto): Promise<RegistryView> {
    return this.registry.view(principal, personKey, query.asOf ? new Date(query.asOf).toISOString() : null);
  }

  @Get('registry/:personKey/history')
  @Roles(...READERS)
  @ApiOperation({ summary: 'Who and what changed the record, event by event: what each changed, its source, actor and cause' })
  history(@CurrentPrincipal() principal: Principal, @Param('personKey') personKey: string, @Query() query: HistoryQueryDto): Promise<{ personKey: string; total: number; items: HistoryRow[] }> {
    return this.registry.historyPage(principal, personKey, query.limit ?? 100, query.offset ?? 0);
  }
}
