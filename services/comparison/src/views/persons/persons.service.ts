import { Injectable } from '@nestjs/common';
import type { Principal } from '@qmcb/auth';
import { PersonReader, RegionPolicyProvider } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import { OutcomeRepository } from '../../outcomes/outcome.repository';
import { evaluate } from './evaluation';
import { buildPersonView } from './person-view';
import type { PersonView } from './person-view';

@Injectable()
export class PersonsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly reader: PersonReader,
    private readonly outcomes: OutcomeRepository,
    private readonly policies: RegionPolicyProvider,
  ) {}

  /** The explainable view of one person for a caller in scope (audited), the rules re-run as of `asOf` (default now). */
  async view(principal: Principal, who: { personId: string } | { citizenId: string }, asOf: string | undefined): Promise<PersonView & { personId: string }> {
    const record = 'personId' in who ? await this.reader.read(principal, who.personId) : await this.reader.lookup(principal, who.citizenId);
    const history = await this.outcomes.historyOf(this.dataSource.manager, record.personKey);
    const evaluatedAt = new Date().toISOString();
    const at = asOf ? new Date(asOf).toISOString() : evaluatedAt;
    return { personId: this.reader.personIdOf(record.personKey), ...buildPersonView(record, history, evaluate(record, this.policies.forRecord(record), at), at, evaluatedAt) };
  }
}
