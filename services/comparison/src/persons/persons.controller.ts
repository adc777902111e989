import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { PersonReader } from '@qmcb/service-kit';
import { IsISO8601, IsOptional } from 'class-validator';
import { DataSource } from 'typeorm';
import { evaluate } from './evaluation';
import { buildPersonView } from './person-view';
import type { OutcomeHistoryRow, PersonView } from './person-view';

export class PersonViewQuery {
  @ApiPropertyOptional({ description: 'Re-evaluate the rules as of this time (ISO 8601; ages are computed then). Default: now.' })
  @IsOptional() @IsISO8601()
  asOf?: string;
}

@ApiTags('persons')
@Controller('persons')
export class PersonsController {
  constructor(private readonly reader: PersonReader, private readonly dataSource: DataSource) {}

  @Get(':personKey')
  @Roles('window-clerk', 'grassroots-reviewer', 'county-approver', 'analyst', 'admin')
  @ApiOperation({
    summary: "Comparison's explainable view of one person",
    description:
      'What each source says (`sources`), which source wins each field and why (`fields`, docs/api/comparison.md), the decision recorded on the log ' +
      '(`comparison`) beside the rules re-run now on the stored record with the facts each fired on (`comparison.explanation`, `stale` when they differ), ' +
      'and the history of outcomes. Accepts a citizen ID in any accepted form or a person key. Audited; 404 outside the caller\'s division.',
  })
  @ApiNotFoundResponse({ description: "NOT_FOUND: no such person, or outside the caller's division (the same answer)" })
  async get(@CurrentPrincipal() principal: Principal, @Param('personKey') personKey: string, @Query() query: PersonViewQuery): Promise<PersonView> {
    const record = await this.reader.read(principal, personKey, 'comparison:view');
    const rows: (Omit<OutcomeHistoryRow, 'decidedAt'> & { decidedAt: Date })[] = await this.dataSource.query(
      `SELECT event_id AS "eventId", outcome, previous_outcome AS "previousOutcome", reasons, based_on_version AS "basedOnVersion", decided_at AS "decidedAt"
         FROM outcome_history WHERE person_key = $1 ORDER BY based_on_version NULLS FIRST, decided_at, event_id`,
      [record.personKey],
    );
    const history = rows.map((r) => ({ ...r, decidedAt: new Date(r.decidedAt).toISOString() }));
    const evaluatedAt = new Date().toISOString();
    const asOf = query.asOf ? new Date(query.asOf).toISOString() : evaluatedAt;
    return buildPersonView(record, history, evaluate(record, asOf), asOf, evaluatedAt);
  }
}
