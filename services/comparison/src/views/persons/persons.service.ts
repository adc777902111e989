import { Injectable } from '@nestjs/common';
import type { Principal } from '@qmcb/auth';
import { PersonReader, PersonRecordRepository, RegionPolicyProvider } from '@qmcb/service-kit';
import { linkContextOf } from '../../linking/identity-links';
import { mergeLinked } from '../../linking/merge-linked';
import { PersonLinkRepository } from '../../linking/person-link.repository';
import { DataSource } from 'typeorm';
import { OutcomeRepository } from '../../outcomes/outcome.repository';
import { evaluate } from './evaluation';
import { buildPersonView, withPersonIds } from './person-view';
import type { PersonViewAnswer } from './person-view';

@Injectable()
export class PersonsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly reader: PersonReader,
    private readonly outcomes: OutcomeRepository,
    private readonly policies: RegionPolicyProvider,
    private readonly links: PersonLinkRepository,
    private readonly records: PersonRecordRepository,
  ) {}

  /** The explainable view of one person for a caller in scope (audited), the rules re-run as of `asOf` (default now). */
  async view(principal: Principal, who: { personId: string } | { citizenId: string }, asOf: string | undefined): Promise<PersonViewAnswer> {
    const record = 'personId' in who ? await this.reader.read(principal, who.personId) : await this.reader.lookup(principal, who.citizenId);
    const { manager } = this.dataSource;
    const history = await this.outcomes.historyOf(manager, record.personKey);
    // As the projection compares them: with the insurance of the records linked to the person.
    const context = linkContextOf(record.personKey, await this.links.activeInvolving(manager, [record.personKey]));
    const linked = await this.records.findMany(manager, context.linked.map((l) => l.recordKey));
    const merged = mergeLinked(record, [...linked.values()]);
    const evaluatedAt = new Date().toISOString();
    const at = asOf ? new Date(asOf).toISOString() : evaluatedAt;
    const view = buildPersonView(record, history, evaluate(merged, this.policies.forRecord(record), at, context), at, evaluatedAt, context);
    return { personId: this.reader.personIdOf(record.personKey), ...view, links: withPersonIds(view.links, (key) => this.reader.personIdOf(key)) };
  }
}
