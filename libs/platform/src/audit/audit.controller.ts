import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { IsCalendarDateTime } from '@qmcb/contracts';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PersonalData, Roles, levelOfDivision } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { IsISO8601, IsOptional, IsString, Length, Matches } from 'class-validator';
import { personKeyFor } from '@qmcb/domain';
import { DomainError } from '../errors/domain.error';
import { PERSON_ID_PATTERN, PersonIds } from '../person-ids/person-ids';
import { PageLimit } from '../http/pagination';
import { NotCitizenId } from '../http/path-params';
import { AuditRecorder } from './audit-recorder';
import type { StoredAuditEntry } from './audit-store';

export class AuditSearchDto {
  @ApiPropertyOptional({ description: 'Entries concerning this person (a person ID from any list or view)' })
  @IsOptional() @NotCitizenId() @Matches(PERSON_ID_PATTERN, { message: 'personId must be a person ID' })
  personId?: string;

  @ApiPropertyOptional({ description: 'Entries concerning the person with this citizen ID (in the body, never in a URL)' })
  @IsOptional() @IsString() @Length(15, 18)
  citizenId?: string;

  @ApiPropertyOptional({ description: 'Entries of this actor: `user:<sub>` or `key:<keyId>`', example: 'user:clerk-1' })
  @IsOptional() @Matches(/^(user|key):[^\s]{1,128}$/, { message: 'actor must be user:<sub> or key:<keyId>' })
  actor?: string;

  @ApiPropertyOptional({ description: 'From this time (ISO 8601, inclusive)' })
  @IsOptional() @IsISO8601() @IsCalendarDateTime()
  from?: string;

  @ApiPropertyOptional({ description: 'Until this time (ISO 8601, exclusive)' })
  @IsOptional() @IsISO8601() @IsCalendarDateTime()
  to?: string;

  @ApiPropertyOptional({ description: 'The next page: entries after this sequence number (the previous page’s `next`)' })
  @IsOptional() @Matches(/^\d{1,18}$/, { message: 'after must be a sequence number' })
  after?: string;

  @PageLimit(100)
  limit: number = 100;
}

class AuditPersonDto {
  @ApiProperty() personId: string;
}

export class AuditEntryDto {
  @ApiProperty() seq: string;
  @ApiProperty({ description: 'When the entry was written (database clock, UTC)' }) at: string;
  @ApiProperty() service: string;
  @ApiProperty({ nullable: true, type: String }) requestId: string | null;
  @ApiProperty({ example: 'user:clerk-1' }) actor: string;
  @ApiProperty({ nullable: true, type: String }) role: string | null;
  @ApiProperty({ nullable: true, type: String }) division: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The client address' }) source: string | null;
  @ApiProperty({ nullable: true, type: String }) method: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The route template, never the URL' }) route: string | null;
  @ApiProperty({ description: 'read, list, export, write, access (a refused request), purge, legacy-read' }) action: string;
  @ApiProperty({ nullable: true, type: String }) purpose: string | null;
  @ApiProperty({ nullable: true, type: String }) purposeRef: string | null;
  @ApiProperty({ type: [AuditPersonDto] }) people: AuditPersonDto[];
  @ApiProperty() count: number;
  @ApiProperty({ enum: ['ok', 'partial', 'aborted', 'refused', 'invalid', 'failed'] }) result: string;
  @ApiProperty({ nullable: true, type: Number }) status: number | null;
  @ApiProperty({ nullable: true, type: String }) code: string | null;
  @ApiProperty({ nullable: true, type: String }) detail: string | null;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEntryDto] }) items: AuditEntryDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `after` for the next page; null on the last' }) next: string | null;
}

/**
 * The audit trail of this service for auditors: by person, by actor, by time, page by page.
 * An auditor sees the entries filed within their division: people's under their own division,
 * systems' and anonymous callers' under the deployment's (DEPLOYMENT_DIVISION; when it is not set,
 * only auditors at province level see those). The search itself is audited.
 */
@ApiTags('audit')
@Controller('audit')
export class AuditController {
  constructor(
    private readonly recorder: AuditRecorder,
    private readonly ids: PersonIds,
  ) {}

  @Post('search')
  @HttpCode(200)
  @Roles('auditor')
  @PersonalData({ access: 'list', purposes: ['audit'] })
  @ApiOperation({ summary: "Search this service's audit trail by person, actor and time (auditors)" })
  @ApiOkResponse({ type: AuditPageDto })
  async search(@CurrentPrincipal() principal: Principal, @Body() q: AuditSearchDto): Promise<AuditPageDto> {
    if (principal.kind !== 'person') throw new DomainError('FORBIDDEN', 'auditors are people');
    if (q.personId && q.citizenId) {
      const message = 'citizenId must not be given with personId: give one of them';
      throw new DomainError('VALIDATION_FAILED', message, { violations: [{ field: 'citizenId', rule: 'exclusiveWith', message }] });
    }
    let personKey: string | undefined;
    if (q.personId) {
      personKey = this.ids.keyOf(q.personId);
      if (!personKey) return { items: [], next: null };
    } else if (q.citizenId) personKey = personKeyFor(q.citizenId);
    const limit = q.limit ?? 100;
    const rows = await this.recorder.store.search({
      personKey,
      actor: q.actor,
      from: q.from,
      to: q.to,
      after: q.after,
      division: principal.division,
      includeUndivided: levelOfDivision(principal.division) === 'province',
      limit,
    });
    return { items: rows.map((r) => this.present(r)), next: rows.length === limit ? (rows[rows.length - 1]?.seq ?? null) : null };
  }

  /** People by their current person ID, whether the entry stored the key (written before IDs) or an ID; one made under a retired secret as stored. */
  private present(r: StoredAuditEntry): AuditEntryDto {
    return { ...r, people: r.people.map((p) => ({ personId: PERSON_ID_PATTERN.test(p) ? p : this.safeId(p) })) };
  }

  private safeId(key: string): string {
    try {
      return this.ids.idOf(key);
    } catch {
      return 'unknown';
    }
  }
}
