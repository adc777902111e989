import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Departments, Roles, inDivision } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { insuranceEntries } from '@qmcb/domain';
import { AuditService, DomainError } from '@qmcb/platform';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { DataSource } from 'typeorm';
import { HandoverRepository } from './handover.repository';

export class HandoverQueryDto {
  @ApiProperty({ description: 'The division people moved out of (within yours)', example: '440981' })
  @Matches(/^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/, { message: 'division must be a division code of 2, 4, 6, 9 or 12 digits' })
  division: string;

  @ApiPropertyOptional({ description: 'The last person key of the previous page' })
  @IsOptional() @Matches(/^(\d{17}[\dX]|X-[0-9a-f]{32})$/, { message: 'after must be a person key' })
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  limit?: number;
}

export interface Handover {
  personKey: string;
  citizenId: string | null;
  name: string | null;
  movedOutFrom: string | null;
  movedOutOn: string | null;
  /** Where to, as public security reported it. */
  movedOutTo: string | null;
  /** Whether the household registration arrived somewhere this registry serves since. */
  arrived: boolean;
  /** The insurance held when they left: what the destination takes over (转移接续). */
  insurance: { key: string; status: string; heldBy: string | null; since: string | null }[];
}

/**
 * Moving between regions (procedure §24: migrants are tracked): who moved out of a division, to
 * where, with the insurance they hold; the higher registry takes them over from here (and by the feed,
 * kind household.moved-out). The person is never deleted: one record per citizen ID, whatever moves.
 */
@ApiTags('exchange')
@Controller('exchange')
export class HandoversController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly handovers: HandoverRepository,
    private readonly audit: AuditService,
  ) {}

  @Get('handovers')
  @Roles('county-approver', 'window-clerk', 'analyst', 'admin')
  @Departments('higher-registry')
  @ApiOperation({ summary: 'People whose household registration moved out of a division, with where to and the insurance they hold (audited)' })
  async list(@CurrentPrincipal() principal: Principal, @Query() query: HandoverQueryDto): Promise<{ division: string; next: string | null; items: Handover[] }> {
    if (principal.kind === 'person' && !inDivision(principal.division, query.division)) throw new DomainError('NOT_FOUND', 'no such division in your scope');
    const limit = query.limit ?? 100;
    const records = await this.handovers.movedOutOf(this.dataSource.manager, query.division, query.after ?? null, limit);
    await this.audit.recordReads({ principal, service: 'dynamic-update', purpose: 'exchange:handovers' }, records.map((r) => r.personKey));
    const items = records.map((r) => ({
      personKey: r.personKey,
      citizenId: r.citizenId,
      name: r.name,
      movedOutFrom: r.migration?.movedOutFrom ?? null,
      movedOutOn: r.migration?.movedOutOn ?? null,
      movedOutTo: r.migration?.movedOutTo ?? null,
      arrived: r.hukouStatus === 'normal' && r.migration?.movedInOn !== null && r.migration?.movedInOn !== undefined,
      insurance: insuranceEntries(r).map((e) => ({ key: `${e.insuranceType}:${e.scheme}:${e.region}`, status: e.status, heldBy: e.source === 'survey' ? 'survey' : e.department, since: e.since })),
    }));
    return { division: query.division, next: records.length === limit ? (records[records.length - 1]?.personKey ?? null) : null, items };
  }
}
