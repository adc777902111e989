import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonalData, Roles } from '@qmcb/auth';
import type { PersonPrincipal, Principal } from '@qmcb/auth';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { PageLimit, PageOffset, UuidPipe } from '@qmcb/platform';
import type { ChangeProposal } from './change-proposal.decider';
import { ChangesService } from './changes.service';

export class PendingQueryDto {
  @ApiPropertyOptional({ description: 'A division within yours (2-12 digits); yours when absent' })
  @IsOptional() @Matches(/^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/, { message: 'division must be a division code of 2, 4, 6, 9 or 12 digits' })
  division?: string;

  @PageLimit(50)
  limit?: number;

  @PageOffset()
  offset?: number;
}

export class ApproveChangeDto {
  @ApiPropertyOptional({ maxLength: 512 })
  @IsOptional() @IsString() @Length(0, 512)
  comment?: string;
}

export class RejectChangeDto {
  @ApiProperty({ maxLength: 512 })
  @IsString() @Length(1, 512)
  reason: string;
}

/** The county's queue of business events that region policy routes to review (procedure §21). */
@ApiTags('changes')
@Controller('changes')
export class ChangesController {
  constructor(private readonly changes: ChangesService) {}

  @Get()
  @Roles('county-approver')
  @PersonalData({ access: 'list', purposes: ['registry-maintenance'], unmasked: [{ roles: ['county-approver'], purposes: ['registry-maintenance'] }] })
  @ApiOperation({ summary: 'Business events waiting for the county, of people filed in your division' })
  pending(@CurrentPrincipal() principal: Principal, @Query() query: PendingQueryDto): Promise<{ total: number; items: ChangeProposal[] }> {
    return this.changes.pending(principal as PersonPrincipal, query.division, query.limit ?? 50, query.offset ?? 0);
  }

  @Post(':proposalId/approval')
  @HttpCode(201)
  @Roles('county-approver')
  @PersonalData({ access: 'write', purposes: ['registry-maintenance'] })
  @ApiOperation({ summary: 'Approve a waiting business event: it enters the registry at its own business time' })
  approve(@CurrentPrincipal() principal: Principal, @Param('proposalId', UuidPipe) proposalId: string, @Body() body: ApproveChangeDto): Promise<ChangeProposal> {
    return this.changes.decide(principal as PersonPrincipal, proposalId, { kind: 'approve', comment: body.comment ?? '' });
  }

  @Post(':proposalId/rejection')
  @HttpCode(201)
  @Roles('county-approver')
  @PersonalData({ access: 'write', purposes: ['registry-maintenance'] })
  @ApiOperation({ summary: 'Reject a waiting business event: the registry stays as it was' })
  reject(@CurrentPrincipal() principal: Principal, @Param('proposalId', UuidPipe) proposalId: string, @Body() body: RejectChangeDto): Promise<ChangeProposal> {
    return this.changes.decide(principal as PersonPrincipal, proposalId, { kind: 'reject', reason: body.reason });
  }
}
